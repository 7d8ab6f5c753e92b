"""Mails in the recipient's language: a user who chose English gets English (subject, text and
HTML), with Brazilian money and dates; a colleague who did not, and the company, get pt-BR."""

import datetime
import hashlib
import re

import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from erp_sync.mirror import erp_sync_order, erp_sync_tenant
from notifications.tasks import notify_proposal_expiring
from portal.accounts.models import User
from proposals.models import Approval
from proposals.services import order_approve
from tests.conftest import HOST_A, host_client
from tests.erp_builders import erp_pedido
from tests.notifications.conftest import IMMEDIATE, assert_links_on, parts

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(user_a):
    user_a.language = "en"
    user_a.save(update_fields=["language"])
    return user_a


def to(address: str):
    [message] = [m for m in mail.outbox if m.to == [address]]
    return message


def test_a_new_proposal_in_english_for_the_user_who_chose_it(
    tenant_a, cliente_a, english, colleague_a, run_tasks
):
    with run_tasks():
        erp_pedido(cliente_a, 7001, items=2, parcelas=2, validade=datetime.date(2099, 12, 31))
        erp_sync_tenant(tenant=tenant_a)

    message = to(english.email)
    assert message.subject == "New proposal no. 7001 from Alfa Máquinas Ltda"
    text, html = parts(message)
    for part in (text, html):
        assert "Alfa Máquinas Ltda has sent a new proposal to Cliente Um." in part
        assert "no. 7001" in part and "31/12/2099" in part
        assert re.search(r"R\$\u00a0\d{1,3}(\.\d{3})*,\d{2}", part)
        assert "Automatic message from the Alfa Máquinas Ltda Customer Portal." in part
        assert "proposta" not in part.lower()  # nothing left in pt-BR
    assert '<html lang="en">' in html
    assert "See the proposal" in html
    assert_links_on(HOST_A, text, html)

    pt = to(colleague_a.email)
    assert pt.subject == "Nova proposta nº 7001 de Alfa Máquinas Ltda"
    assert "enviou uma nova proposta" in pt.body


def test_the_approval_confirmation_in_english_and_the_company_mail_in_pt_br(
    tenant_a, proposal, english, company_mail, run_tasks
):
    with run_tasks(), scope(tenant=proposal.tenant):
        order_approve(
            order=proposal, user=english, seen_version=proposal.erp_version, remirror=erp_sync_order
        )

    confirmation = to(english.email)
    assert confirmation.subject == "Proposal no. 7001 approved — Alfa Máquinas Ltda"
    text, html = parts(confirmation)
    assert "Proposal no. 7001 was approved by" in text and "Follow the order" in html
    # The attached PDF is the document of record, in pt-BR, the one whose hash was approved.
    [(filename, content, _mimetype)] = confirmation.attachments
    with scopes_disabled():
        approval = Approval.objects.get(order=proposal)
    assert hashlib.sha256(content).hexdigest() == approval.proposal_sha256
    assert filename == "proposta-7001.pdf"
    company = to(company_mail)
    assert company.subject == "Proposta nº 7001 aprovada por Cliente Um"


def test_an_expiring_proposal_in_english(tenant_a, proposal, english):
    notify_proposal_expiring.call(
        tenant_id=tenant_a.pk, order_id=proposal.pk, valid_until=proposal.valid_until.isoformat()
    )

    message = to(english.email)
    date = proposal.valid_until.strftime("%d/%m/%Y")
    assert message.subject == f"Proposal no. 7001 expires on {date}"
    text, _html = parts(message)
    assert f"Proposal no. 7001 is valid until {date} and has not been approved yet." in text


def test_the_password_reset_mail_follows_the_users_language(anon_a, english, settings):
    settings.TASKS = IMMEDIATE  # the reset mail is a task (portal.accounts.tasks)
    anon_a.post(reverse("password_reset"), {"email": english.email})

    [message] = mail.outbox
    assert message.subject == "Password reset — Alfa Máquinas Ltda Customer Portal"
    assert "To choose a new password, open the link below:" in message.body


def test_choosing_english_in_the_footer_switches_the_mails_too(
    tenant_a, cliente_a, user_a, run_tasks
):
    client = host_client(HOST_A, user_a)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    with scopes_disabled():
        assert User.objects.get(pk=user_a.pk).language == "en"

    with run_tasks():
        erp_pedido(cliente_a, 7002)
        erp_sync_tenant(tenant=tenant_a)

    assert to(user_a.email).subject == "New proposal no. 7002 from Alfa Máquinas Ltda"
