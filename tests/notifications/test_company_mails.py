"""What the company receives at its notification e-mail, and its settings in admin."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from contracts.models import SealedContract
from contracts.pki import sealing_certificate_demo
from erp_sync.mirror import erp_sync_order, erp_sync_tenant
from notifications.models import ALWAYS_ON, NotificationKind, NotificationSettings
from notifications.tasks import notify_company_proposal_declined
from proposals.services import order_approve
from tests.conftest import HOST_A, HOST_B, host_client
from tests.contracts.samples import pdf_bytes
from tests.erp_builders import erp_pedido
from tests.factories import UserFactory
from tests.notifications.conftest import assert_links_on, parts, sign_digitally

pytestmark = pytest.mark.django_db


def to_company(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def test_the_company_hears_of_an_approval(tenant_a, proposal, user_a, company_mail, run_tasks):
    with run_tasks(), scope(tenant=proposal.tenant):  # as the request runs it
        order_approve(
            order=proposal, user=user_a, seen_version=proposal.erp_version, remirror=erp_sync_order
        )

    [message] = to_company(company_mail)
    assert message.subject == "Proposta nº 7001 aprovada por Cliente Um"
    text, html = parts(message)
    for part in (text, html):
        assert user_a.email in part and "APR" in part
        assert f"http://{HOST_A}/admin/proposals/order/{proposal.pk}/change/" in part
    assert_links_on(HOST_A, text, html)
    assert "List-Unsubscribe" not in message.extra_headers


def test_no_notification_email_no_company_mail(tenant_a, proposal, user_a, run_tasks):
    with run_tasks(), scope(tenant=proposal.tenant):  # as the request runs it
        order_approve(
            order=proposal, user=user_a, seen_version=proposal.erp_version, remirror=erp_sync_order
        )
    assert [m.to for m in mail.outbox] == [[user_a.email]]  # the customer's confirmation only


def test_the_company_hears_of_a_contract_upload(
    tenant_a, cliente_a, user_a, company_mail, run_tasks
):
    erp_pedido(cliente_a, 7003, contrato={"titulo": "Contrato de fornecimento"})
    erp_sync_tenant(tenant=tenant_a)
    client = host_client(HOST_A, user_a)
    with run_tasks():
        response = client.post(
            reverse("contract_detail", args=[7003]),
            {"arquivo": SimpleUploadedFile("assinado.pdf", pdf_bytes())},
        )
    assert response.status_code == 303

    [message] = to_company(company_mail)
    assert message.subject == "Contrato assinado enviado — proposta nº 7003 (Cliente Um)"
    text, html = parts(message)
    assert user_a.email in text and "assinado.pdf" in html
    assert_links_on(HOST_A, text, html)


def test_the_company_hears_of_a_decline_with_its_reason(tenant_a, proposal, user_a, company_mail):
    declined_at = timezone.now().isoformat()
    kwargs = {
        "tenant_id": tenant_a.pk,
        "order_id": proposal.pk,
        "user_id": user_a.pk,
        "decline_id": 5,
        "reason": "Prazo de entrega <longo> demais",
        "declined_at": declined_at,
    }
    notify_company_proposal_declined.call(**kwargs)
    notify_company_proposal_declined.call(**kwargs)  # ran twice: one mail
    [message] = to_company(company_mail)
    assert message.subject == "Proposta nº 7001 recusada por Cliente Um"
    text, html = parts(message)
    assert "Prazo de entrega <longo> demais" in text
    assert "Prazo de entrega &lt;longo&gt; demais" in html  # the customer's text, escaped
    assert_links_on(HOST_A, text, html)


def test_recusar_proposta_tells_the_company_the_reason(
    tenant_a, proposal, user_a, company_mail, run_tasks
):
    client = host_client(HOST_A, user_a)
    with run_tasks():
        response = client.post(
            reverse("order_decline", args=[7001]),
            {"motivo": "O prazo de entrega não nos atende.", "versao": proposal.erp_version},
        )
    assert response.status_code == 303

    [message] = to_company(company_mail)
    assert message.subject == "Proposta nº 7001 recusada por Cliente Um"
    text, html = parts(message)
    for part in (text, html):
        assert "O prazo de entrega não nos atende." in part and user_a.email in part
    assert_links_on(HOST_A, text, html)


def test_the_company_hears_when_everyone_signed(
    tenant_a, cliente_a, user_a, company_mail, run_tasks
):
    erp_pedido(
        cliente_a,
        7004,
        contrato={"titulo": "Contrato digital", "assinatura": "DIGITAL"},
        signatarios=[(user_a.email, "PARTE")],
    )
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        sealing_certificate_demo(tenant=tenant_a)
    sign_digitally(host_client(HOST_A, user_a), user_a.email, 7004)
    with scopes_disabled():
        seal = SealedContract.objects.get()
        with seal.file.open("rb") as stream:
            sealed = stream.read()

    [message] = to_company(company_mail)
    assert message.subject == "Contrato assinado digitalmente — proposta nº 7004 (Cliente Um)"
    assert message.attachments == [("contrato-assinado-7004.pdf", sealed, "application/pdf")]
    text, html = parts(message)
    assert "Contrato digital" in text and "Contrato digital" in html
    assert_links_on(HOST_A, text, html)


def test_staff_turn_notifications_off_and_set_sender_and_reply_to(
    tenant_a, proposal, user_a, company_mail, run_tasks
):
    staff = UserFactory(customer=None, tenant=tenant_a, is_staff=True, email="ti@alfa.com.br")
    admin = host_client(HOST_A, staff)
    url = reverse("admin:notifications_notificationsettings_add")
    kinds = [
        kind.value
        for kind in NotificationKind
        if kind not in ALWAYS_ON and kind != NotificationKind.COMPANY_PROPOSAL_APPROVED
    ]
    response = admin.post(
        url,
        {"sender_name": "Vendas Alfa", "reply_to": "vendas@alfa.com.br", "enabled": kinds},
    )
    assert response.status_code == 302, response.content.decode()
    with scopes_disabled():
        prefs = NotificationSettings.objects.get()
    assert (prefs.tenant, prefs.disabled_kinds) == (tenant_a, ["company_proposal_approved"])
    assert admin.get(url).status_code == 403  # one row per company

    with run_tasks(), scope(tenant=proposal.tenant):  # as the request runs it
        order_approve(
            order=proposal, user=user_a, seen_version=proposal.erp_version, remirror=erp_sync_order
        )
    assert to_company(company_mail) == []  # turned off
    [confirmation] = mail.outbox
    assert confirmation.from_email == "Vendas Alfa <portal@localhost>"
    assert confirmation.reply_to == ["vendas@alfa.com.br"]


def test_staff_of_another_company_do_not_see_these_settings(tenant_a, tenant_b):
    with scopes_disabled():
        prefs = NotificationSettings.objects.create(tenant=tenant_a, sender_name="Vendas Alfa")
    staff_b = UserFactory(customer=None, tenant=tenant_b, is_staff=True, email="ti@beta.com.br")
    admin_b = host_client(HOST_B, staff_b)
    listing = admin_b.get(reverse("admin:notifications_notificationsettings_changelist"))
    assert listing.status_code == 200 and "Vendas Alfa" not in listing.content.decode()
    change = reverse("admin:notifications_notificationsettings_change", args=[prefs.pk])
    assert admin_b.get(change).status_code in (302, 404)
