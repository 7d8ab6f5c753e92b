"""The daily reminders: proposals about to expire, signatures pending for 3 days (at most 3)."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scopes_disabled

from contracts.models import Contract
from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido
from notifications.models import NotificationKind, SentMail
from notifications.tasks import notify_signature_requested, send_daily_reminders
from proposals.models import Order
from tests.conftest import HOST_A, host_client
from tests.erp_builders import erp_pedido
from tests.notifications.conftest import assert_links_on, parts, sign_digitally

pytestmark = pytest.mark.django_db


def subjects() -> list[str]:
    return sorted(message.subject for message in mail.outbox)


def test_proposals_expiring_within_three_days_are_reminded_once(
    tenant_a, cliente_a, user_a, run_tasks
):
    today = timezone.localdate()
    for numero, days, status in (
        (7001, 2, "PRO"),
        (7002, 3, "PRO"),
        (7003, 4, "PRO"),  # not yet
        (7004, -1, "PRO"),  # expired yesterday
        (7005, 1, "PED"),  # an order, not a proposal
    ):
        erp_pedido(cliente_a, numero, status=status, validade=today + datetime.timedelta(days))
    erp_sync_tenant(tenant=tenant_a)

    with run_tasks():
        assert send_daily_reminders.call() == {"expiring": 2, "signature_reminders": 0}
    assert subjects() == [
        f"A proposta nº 7001 vence em {today + datetime.timedelta(2):%d/%m/%Y}",
        f"A proposta nº 7002 vence em {today + datetime.timedelta(3):%d/%m/%Y}",
    ]
    with run_tasks():
        send_daily_reminders.call()  # the next day (or the same day twice): no repeat
    assert len(mail.outbox) == 2


@pytest.fixture
def signing(tenant_a, cliente_a, user_a):
    """user_a was asked to sign a DIGITAL contract; returns a way to age that request."""
    erp_pedido(
        cliente_a,
        7010,
        contrato={"titulo": "Contrato de locação", "assinatura": "DIGITAL"},
        signatarios=[(user_a.email, "PARTE")],
    )
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        order = Order.objects.get(number=7010)
    notify_signature_requested.call(
        tenant_id=tenant_a.pk, order_id=order.pk, user_id=user_a.pk, contract_sha256="c" * 64
    )
    mail.outbox.clear()

    def asked_days_ago(days: float) -> None:
        with scopes_disabled():
            SentMail.objects.filter(kind=NotificationKind.SIGNATURE_REQUESTED).update(
                sent_at=timezone.now() - datetime.timedelta(days=days)
            )

    return order, asked_days_ago


def test_a_pending_signature_is_reminded_every_three_days_three_times_at_most(
    signing, user_a, run_tasks
):
    order, asked_days_ago = signing
    reminded = []
    for days in (1, 3, 4, 6, 9, 12, 15):
        asked_days_ago(days + 0.1)
        with run_tasks():
            send_daily_reminders.call()
        reminded.append(len(mail.outbox))
    assert reminded == [0, 1, 1, 2, 3, 3, 3]
    message = mail.outbox[0]
    assert message.to == [user_a.email]
    assert message.subject == "Lembrete: contrato da proposta nº 7010 aguarda sua assinatura"
    text, html = parts(message)
    assert "Contrato de locação" in text and "aguarda a sua assinatura" in html
    assert_links_on(HOST_A, text, html)


def test_no_reminder_once_signed_or_no_longer_a_proposal(tenant_a, signing, run_tasks):
    order, asked_days_ago = signing
    asked_days_ago(3.1)
    with scopes_disabled():
        Contract.objects.filter(order=order).update(signed_at=timezone.now())
    with run_tasks():
        send_daily_reminders.call()
    assert mail.outbox == []

    with scopes_disabled():
        Contract.objects.filter(order=order).update(signed_at=None)
    ErpPedido.objects.filter(id=order.erp_id).update(status="CAN")
    erp_sync_tenant(tenant=tenant_a)
    mail.outbox.clear()  # the cancellation's own mail
    with run_tasks():
        send_daily_reminders.call()
    assert mail.outbox == []


def test_only_the_signers_who_have_not_signed_are_reminded(
    tenant_a, cliente_a, user_a, colleague_a, run_tasks
):
    signers = [(user_a.email, "PARTE"), (colleague_a.email, "PARTE")]
    with run_tasks():  # the mirror asks both to sign
        erp_pedido(cliente_a, 7011, contrato={"assinatura": "DIGITAL"}, signatarios=signers)
        erp_sync_tenant(tenant=tenant_a)
    sign_digitally(host_client(HOST_A, user_a), user_a.email, 7011)
    with scopes_disabled():
        assert not Contract.objects.get(order__number=7011).signed_at  # one of two signed
        SentMail.objects.filter(kind=NotificationKind.SIGNATURE_REQUESTED).update(
            sent_at=timezone.now() - datetime.timedelta(days=3.1)
        )
    mail.outbox.clear()

    with run_tasks():
        send_daily_reminders.call()

    assert [m.to for m in mail.outbox] == [[colleague_a.email]]
    assert mail.outbox[0].subject.startswith("Lembrete: contrato da proposta nº 7011")
