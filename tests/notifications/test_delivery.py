"""Delivery: once per (event, recipient), nothing on rollback, and a mail server that refuses
or does not answer never loses a mail nor holds up the customer — the task tries again later.

The SMTP server is a real one (aiosmtpd) on 127.0.0.1, started by the test."""

import datetime
import socket

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from erp_sync.mirror import erp_sync_order
from notifications.models import SentMail
from notifications.tasks import MailNotDelivered, notify_proposal_created
from proposals.models import Approval
from proposals.services import order_approve
from tests.background.workers import eventually, start_worker, stop_worker, worker_env
from tests.conftest import HOST_A, host_client

pytestmark = pytest.mark.django_db


def queued(task_name: str) -> list[DBTaskResult]:
    return [r for r in DBTaskResult.objects.order_by("enqueued_at") if r.task_name == task_name]


def test_a_task_that_runs_twice_sends_once(tenant_a, proposal, user_a):
    for _ in range(2):
        notify_proposal_created.call(tenant_id=tenant_a.pk, order_id=proposal.pk)
    assert [m.to for m in mail.outbox] == [[user_a.email]]
    with scopes_disabled():
        row = SentMail.objects.get()
    assert (row.recipient, row.attempts, row.sent_at is not None) == (user_a.email, 1, True)


def test_a_rolled_back_approval_sends_and_queues_nothing(
    tenant_a, proposal, user_a, company_mail, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        with scope(tenant=proposal.tenant):  # as the request runs it
            order_approve(
                order=proposal,
                user=user_a,
                seen_version=proposal.erp_version,
                remirror=erp_sync_order,
            )
        raise RuntimeError("something after the approval failed")
    with scopes_disabled():
        assert not Approval.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert mail.outbox == []


def test_a_refusing_mail_server_gets_the_mail_later(
    tenant_a, proposal, user_a, colleague_a, flaky_smtp, settings
):
    handler, _ = flaky_smtp
    settings.NOTIFICATION_RETRY_SECONDS = 60
    before = timezone.now()
    outcome = notify_proposal_created.call(tenant_id=tenant_a.pk, order_id=proposal.pk)

    assert outcome == {"deferred": 2}
    assert handler.refused == 2 and handler.messages == []
    [retry] = queued("notify_proposal_created")
    assert retry.args_kwargs["kwargs"] == {
        "tenant_id": tenant_a.pk, "order_id": proposal.pk, "attempt": 2
    }  # fmt: skip
    assert retry.run_after - before >= datetime.timedelta(seconds=60)
    with scopes_disabled():
        assert all(
            "451" in row.last_error and row.sent_at is None for row in SentMail.objects.all()
        )

    handler.accepting = True
    assert retry.task.call(**retry.args_kwargs["kwargs"]) == {"sent": 2}
    assert sorted(m["To"] for m in handler.messages) == sorted([user_a.email, colleague_a.email])
    assert len(queued("notify_proposal_created")) == 1  # no further attempt


def test_the_retries_back_off_and_the_last_one_fails_for_staff_to_see(
    tenant_a, proposal, user_a, flaky_smtp, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    for attempt in (1, 2):
        notify_proposal_created.call(tenant_id=tenant_a.pk, order_id=proposal.pk, attempt=attempt)
    delays = [r.run_after - r.enqueued_at for r in queued("notify_proposal_created")]
    assert delays[1] > delays[0] * 1.9  # doubling
    with pytest.raises(MailNotDelivered, match=user_a.email):
        notify_proposal_created.call(tenant_id=tenant_a.pk, order_id=proposal.pk, attempt=3)
    assert len(queued("notify_proposal_created")) == 2


def test_a_mail_server_that_does_not_answer_times_out_and_retries(
    tenant_a, proposal, user_a, settings
):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never says a word
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", silent.getsockname()[1]
    settings.EMAIL_TIMEOUT = 0.5
    try:
        outcome = notify_proposal_created.call(tenant_id=tenant_a.pk, order_id=proposal.pk)
    finally:
        silent.close()
    assert outcome == {"deferred": 1}
    assert len(queued("notify_proposal_created")) == 1


def test_the_customer_approves_while_the_mail_server_is_down(
    tenant_a, proposal, user_a, company_mail, flaky_smtp, django_capture_on_commit_callbacks
):
    handler, _ = flaky_smtp
    client = host_client(HOST_A, user_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("order_approve", args=[7001]), {"versao": proposal.erp_version}
        )
    assert response.status_code == 303
    with scopes_disabled():
        assert Approval.objects.filter(order=proposal).exists()
    names = sorted(r.task_name for r in DBTaskResult.objects.all())
    assert names == ["notify_approval_confirmation", "notify_company_proposal_approved"]
    assert handler.refused == 0  # the request never talked to the mail server


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_after_the_mail_server_comes_back(
    tenant_a, proposal, user_a, company_mail, flaky_smtp
):
    handler, server = flaky_smtp
    env = worker_env(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(server.port),
        NOTIFICATION_RETRY_SECONDS="0.3",
    )
    worker = start_worker(env)
    try:
        with scope(tenant=proposal.tenant):  # as the request runs it
            result = order_approve(
                order=proposal,
                user=user_a,
                seen_version=proposal.erp_version,
                remirror=erp_sync_order,
            )
        assert result.ok
        # Both tasks tried and were refused, then tried again.
        assert handler.wait_for(lambda h: h.refused >= 4), "no retry seen"
        handler.accepting = True
        assert handler.wait_for(lambda h: len(h.messages) == 2), "not delivered"
        eventually(
            lambda: not DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).exists(),
            30,
            "every task finished",
        )
    finally:
        output = stop_worker(worker)
    assert worker.returncode == 0, output
    delivered = {m["To"]: m for m in handler.messages}
    assert sorted(delivered) == sorted([user_a.email, company_mail])
    assert (
        delivered[user_a.email]["Subject"].strip()
        == "Proposta nº 7001 aprovada — Alfa Máquinas Ltda"
    )
    assert delivered[user_a.email].get_body(("html",)) is not None
    with scopes_disabled():
        rows = list(SentMail.objects.all())
    assert len(rows) == 2 and all(row.sent_at and row.attempts >= 2 for row in rows)
