"""Tasks in admin: support sees all and can run a failed one again; a company's staff see only
their company's, without tracebacks or secrets. Old results are pruned."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from notifications.tasks import notify_proposal_created, notify_signature_code
from portal.background.tasks import task_results_prune
from tests.background.probe import probe_record
from tests.conftest import HOST_A, host_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:background_taskrecord_changelist"


def failed(task, error: str, **kwargs) -> DBTaskResult:
    result = task.enqueue(**kwargs).db_result
    result.claim("worker-de-teste")
    try:
        raise RuntimeError(error)
    except RuntimeError as raised:
        result.set_failed(raised)
    return result


@pytest.fixture
def tasks(tenant_a, tenant_b):
    return {
        "a": failed(notify_proposal_created, "451 servidor ocupado", tenant_id=tenant_a.pk,
                    order_id=1),
        "b": failed(notify_proposal_created, "tarefa da beta", tenant_id=tenant_b.pk, order_id=2),
        "code": failed(notify_signature_code, "código", tenant_id=tenant_a.pk, order_id=1,
                       user_id=1, challenge_id=9, expires_at="2026-11-29T12:10:00+00:00",
                       code="482913"),
        "none": failed(probe_record, "sem empresa", key="x", path="/dev/null"),
    }  # fmt: skip


def test_staff_see_their_companys_failed_tasks_only(tenant_a, tasks):
    staff = UserFactory(customer=None, tenant=tenant_a, is_staff=True, email="ti@alfa.com.br")
    admin = host_client(HOST_A, staff)
    listing = admin.get(reverse(CHANGELIST), {"status__exact": "FAILED"}).content.decode()
    assert "notify_proposal_created" in listing and "451 servidor ocupado" in listing
    assert "tarefa da beta" not in listing and "sem empresa" not in listing

    detail = admin.get(reverse("admin:background_taskrecord_change", args=[tasks["code"].pk]))
    page = detail.content.decode()
    assert detail.status_code == 200
    assert "482913" not in page and "••••••" in page  # the signing code is masked
    assert "Traceback" not in page  # tracebacks are for support

    other = admin.get(reverse("admin:background_taskrecord_change", args=[tasks["b"].pk]))
    assert other.status_code == 302  # not found in their scope: back to the list


def test_support_sees_every_task_and_runs_a_failed_one_again(tasks, settings):
    support = UserFactory(customer=None, tenant=None, is_staff=True, is_superuser=True,
                          email="suporte@portal.localhost")  # fmt: skip
    admin = host_client(settings.SUPPORT_HOST, support)
    listing = admin.get(reverse(CHANGELIST)).content.decode()
    assert all(text in listing for text in ("451 servidor", "tarefa da beta", "sem empresa"))
    detail = admin.get(reverse("admin:background_taskrecord_change", args=[tasks["a"].pk]))
    assert "Traceback" in detail.content.decode()

    admin.post(
        reverse(CHANGELIST),
        {"action": "run_again", "_selected_action": [tasks["a"].pk]},
    )
    tasks["a"].refresh_from_db()
    assert tasks["a"].status == TaskResultStatus.READY


def test_old_results_are_pruned_and_recent_or_failed_ones_kept(settings):
    now = timezone.now()

    def finished(status: str, days_ago: int) -> DBTaskResult:
        result = probe_record.enqueue(key=f"{status}-{days_ago}", path="/dev/null").db_result
        DBTaskResult.objects.filter(pk=result.pk).update(
            status=status, finished_at=now - datetime.timedelta(days=days_ago)
        )
        return result

    kept = [finished("SUCCESSFUL", 6), finished("FAILED", 29)]
    pruned = [finished("SUCCESSFUL", 8), finished("FAILED", 31)]
    waiting = probe_record.enqueue(key="waiting", path="/dev/null").db_result

    assert task_results_prune.call() == {"successful": 1, "failed": 1}
    remaining = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert remaining == {kept[0].pk, kept[1].pk, waiting.pk}
    assert not remaining & {r.pk for r in pruned}
