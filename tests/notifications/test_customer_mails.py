"""What the customer's users receive, and when: each notification's recipients, subject, links
on the tenant's own host, text and HTML parts."""

import datetime
import hashlib
import re

import pytest
from django.core import mail
from django_scopes import scope, scopes_disabled
from django_tasks_db.models import DBTaskResult

from contracts.models import ContractSigner, SealedContract
from contracts.pki import sealing_certificate_demo
from erp_sync.mirror import erp_sync_order, erp_sync_tenant
from erp_sync.models import ErpPedido
from notifications.tasks import (
    notify_proposal_expiring,
    notify_signature_code,
    notify_signature_requested,
)
from proposals.models import Approval, Order
from proposals.services import order_approve
from tests.conftest import HOST_A, host_client
from tests.erp_builders import erp_cliente, erp_pedido
from tests.notifications.conftest import assert_links_on, parts, sign_digitally

pytestmark = pytest.mark.django_db


def recipients(messages) -> list[str]:
    return sorted(address for message in messages for address in message.to)


def test_a_new_proposal_mails_every_login_of_its_customer(
    tenant_a, cliente_a, user_a, colleague_a, other_user_a, run_tasks
):
    with run_tasks():
        erp_pedido(cliente_a, 7001, items=2, parcelas=2)
        erp_sync_tenant(tenant=tenant_a)

    assert recipients(mail.outbox) == sorted([user_a.email, colleague_a.email])
    message = mail.outbox[0]
    assert message.subject == "Nova proposta nº 7001 de Alfa Máquinas Ltda"
    assert message.from_email == "Alfa Máquinas Ltda <portal@localhost>"
    text, html = parts(message)
    for part in (text, html):
        assert "Cliente Um" in part and "nº 7001" in part
        assert f"http://{HOST_A}/pedidos/7001/" in part
    assert "R$" in text and "Ver a proposta" in html
    assert_links_on(HOST_A, text, html)
    # Non-essential: one click unsubscribes, from the mail client or the link.
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith(
        f"<http://{HOST_A}/notificacoes/descadastrar/"
    )


def test_the_tenants_first_sync_announces_nothing(
    tenant_a, user_a, django_capture_on_commit_callbacks
):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, 7001)
    erp_pedido(
        cliente, 7002, contrato={"assinatura": "DIGITAL"}, signatarios=[(user_a.email, "PARTE")]
    )

    with django_capture_on_commit_callbacks(execute=True):
        erp_sync_tenant(tenant=tenant_a)  # the initial load: nothing even queued
    with scopes_disabled():
        assert Order.objects.count() == 2
    assert not DBTaskResult.objects.exists()

    erp_pedido(cliente, 7003)  # after it, a new proposal is news
    with django_capture_on_commit_callbacks(execute=True):
        erp_sync_tenant(tenant=tenant_a)
    queued = [(r.task_name, r.args_kwargs["kwargs"]) for r in DBTaskResult.objects.all()]
    with scopes_disabled():
        new = Order.objects.get(number=7003)
    assert queued == [
        ("notify_proposal_created", {"tenant_id": tenant_a.pk, "order_id": new.pk}),
    ]


@pytest.mark.parametrize(
    ("status", "subject", "says"),
    [
        ("PED", "A proposta nº 7001 virou pedido — Alfa Máquinas Ltda", "virou pedido"),
        ("CAN", "Pedido nº 7001 cancelado — Alfa Máquinas Ltda", "foi cancelado"),
    ],
)
def test_the_erp_moving_an_order_to_pedido_or_cancelado_is_mailed(
    tenant_a, proposal, user_a, run_tasks, status, subject, says
):
    with run_tasks():
        ErpPedido.objects.filter(id=proposal.erp_id).update(status=status)
        erp_sync_tenant(tenant=tenant_a)
        erp_sync_tenant(tenant=tenant_a)  # nothing new: nothing more

    [message] = mail.outbox
    assert (message.to, message.subject) == ([user_a.email], subject)
    text, html = parts(message)
    assert says in text and says in html
    assert_links_on(HOST_A, text, html)


def test_other_status_moves_are_not_mailed(tenant_a, proposal, run_tasks):
    with run_tasks():
        ErpPedido.objects.filter(id=proposal.erp_id).update(status="APR")
        erp_sync_tenant(tenant=tenant_a)
    assert mail.outbox == []


def test_the_approval_confirmation_carries_the_approved_pdf(
    tenant_a, proposal, user_a, colleague_a, run_tasks
):
    with run_tasks(), scope(tenant=proposal.tenant):  # as the request runs it
        result = order_approve(
            order=proposal, user=user_a, seen_version=proposal.erp_version, remirror=erp_sync_order
        )
    assert result.ok

    confirmations = [m for m in mail.outbox if m.to[0] != tenant_a.notification_email]
    assert recipients(confirmations) == sorted([user_a.email, colleague_a.email])
    message = confirmations[0]
    assert message.subject == "Proposta nº 7001 aprovada — Alfa Máquinas Ltda"
    assert "List-Unsubscribe" not in message.extra_headers  # a confirmation always goes
    text, html = parts(message)
    assert user_a.name in text and "aprovada por" in html
    assert_links_on(HOST_A, text, html)
    [(filename, content, mimetype)] = message.attachments
    with scopes_disabled():
        approval = Approval.objects.get(order=proposal)
    assert filename == "proposta-7001.pdf"
    assert mimetype == "application/pdf" and content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == approval.proposal_sha256


def test_an_expiring_proposal_is_mailed_once(tenant_a, proposal, user_a, run_tasks):
    valid_until = proposal.valid_until.isoformat()
    for _ in range(2):  # the task runs twice: one mail
        notify_proposal_expiring.call(
            tenant_id=tenant_a.pk, order_id=proposal.pk, valid_until=valid_until
        )
    [message] = mail.outbox
    assert message.subject == f"A proposta nº 7001 vence em {proposal.valid_until:%d/%m/%Y}"
    text, html = parts(message)
    assert "ainda não foi aprovada" in text and "ainda não foi aprovada" in html
    assert_links_on(HOST_A, text, html)

    # The ERP extended it meanwhile: the old date's task says nothing.
    later = proposal.valid_until + datetime.timedelta(days=10)
    ErpPedido.objects.filter(id=proposal.erp_id).update(validade=later)
    erp_sync_tenant(tenant=tenant_a)
    result = notify_proposal_expiring.call(
        tenant_id=tenant_a.pk, order_id=proposal.pk, valid_until=valid_until
    )
    assert result == {"skipped": "no longer expiring then"}
    assert len(mail.outbox) == 1


@pytest.fixture
def digital(tenant_a, cliente_a, user_a):
    """A proposal whose DIGITAL contract user_a signs (as PARTE)."""
    erp_pedido(
        cliente_a,
        7002,
        contrato={"titulo": "Contrato de locação", "assinatura": "DIGITAL"},
        signatarios=[(user_a.email, "PARTE")],
    )
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        order = Order.objects.get(number=7002)
        assert ContractSigner.objects.filter(contract__order=order).count() == 1
    return order


def test_signing_requested_goes_to_the_signer_with_the_link_to_sign(tenant_a, digital, user_a):
    kwargs = {"tenant_id": tenant_a.pk, "order_id": digital.pk, "user_id": user_a.pk}
    notify_signature_requested.call(**kwargs, contract_sha256="a" * 64)
    notify_signature_requested.call(**kwargs, contract_sha256="a" * 64)  # ran twice
    [message] = mail.outbox
    assert message.to == [user_a.email]
    assert message.subject == "Assinatura do contrato da proposta nº 7002 — Alfa Máquinas Ltda"
    text, html = parts(message)
    for part in (text, html):
        assert "Contrato de locação" in part and "como parte" in part
        assert f"http://{HOST_A}/pedidos/7002/contrato/" in part
    assert_links_on(HOST_A, text, html)

    # The contract changed (a new PDF): signing is asked again.
    notify_signature_requested.call(**kwargs, contract_sha256="b" * 64)
    assert len(mail.outbox) == 2


def test_the_signing_code_goes_and_is_not_in_the_subject(tenant_a, digital, user_a):
    notify_signature_code.call(
        tenant_id=tenant_a.pk, order_id=digital.pk, user_id=user_a.pk, challenge_id=41,
        expires_at="2026-11-29T12:10:00+00:00", code="482913",
    )  # fmt: skip
    [message] = mail.outbox
    assert message.to == [user_a.email]
    assert "482913" not in message.subject
    text, html = parts(message)
    assert "482913" in text and "482913" in html
    assert "10 minutos" in text
    assert "List-Unsubscribe" not in message.extra_headers


def test_all_signed_goes_to_the_customers_logins_with_the_sealed_pdf(
    tenant_a, digital, user_a, colleague_a, run_tasks
):
    with scopes_disabled():
        sealing_certificate_demo(tenant=tenant_a)
    sign_digitally(host_client(HOST_A, user_a), user_a.email, 7002)
    with scopes_disabled():
        seal = SealedContract.objects.get()
        with seal.file.open("rb") as stream:
            sealed = stream.read()

    [code] = [m for m in mail.outbox if "código" in m.subject]
    assert code.to == [user_a.email] and "List-Unsubscribe" not in code.extra_headers
    text, html = parts(code)
    assert re.search(r"^\s+\d{6}$", text, re.MULTILINE) and "10 minutos" in html
    all_signed = [m for m in mail.outbox if "assinado por todos" in m.subject]
    assert recipients(all_signed) == sorted([user_a.email, colleague_a.email])
    message = all_signed[0]
    assert message.subject == "Contrato da proposta nº 7002 assinado por todos"
    assert message.attachments == [("contrato-assinado-7002.pdf", sealed, "application/pdf")]
    text, html = parts(message)
    for part in (text, html):
        assert "Contrato de locação" in part and "selado" in part
        assert f"http://{HOST_A}/verificar/{seal.verification_code}/" in part
    assert_links_on(HOST_A, text, html)


def test_a_new_digital_contract_asks_each_signer_with_a_login_once(
    tenant_a, cliente_a, user_a, colleague_a, run_tasks
):
    signers = [(user_a.email, "PARTE"), ("sem.login@clientealfa.com.br", "TESTEMUNHA")]
    with run_tasks():
        erp_pedido(
            cliente_a,
            7005,
            contrato={"titulo": "Contrato de locação", "assinatura": "DIGITAL"},
            signatarios=signers,
        )
        erp_sync_tenant(tenant=tenant_a)

    def requests():
        return [m for m in mail.outbox if m.subject.startswith("Assinatura do contrato")]

    [request] = requests()  # the colleague is not a signer; the address with no login waits
    assert request.to == [user_a.email]
    text, html = parts(request)
    assert "como parte" in text and f"http://{HOST_A}/pedidos/7005/contrato/" in html

    # The ERP touches the order but not the contract: nobody is asked again.
    with run_tasks():
        ErpPedido.objects.filter(numero=7005).update(observacoes="Entrega pela manhã.")
        erp_sync_tenant(tenant=tenant_a)
    assert len(requests()) == 1
