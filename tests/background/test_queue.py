"""Enqueue after commit: a committed transaction queues its task, a rolled back one nothing."""

import pytest
from django.db import transaction
from django_tasks import TaskResultStatus, task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from portal.background.queue import enqueue_on_commit, retry_backoff
from tests.background.probe import probe_record

pytestmark = pytest.mark.django_db


def queued_keys() -> list[str]:
    return [r.args_kwargs["kwargs"]["key"] for r in DBTaskResult.objects.order_by("enqueued_at")]


def test_the_queue_is_the_database_backend_by_default():
    assert isinstance(task_backends["default"], DatabaseBackend)


def test_a_task_is_queued_only_when_the_transaction_commits(
    django_capture_on_commit_callbacks, tmp_path
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_on_commit(probe_record, key="kept", path=str(tmp_path / "runs"))
        assert queued_keys() == []  # not before the commit
    assert queued_keys() == ["kept"]
    assert DBTaskResult.objects.get().status == TaskResultStatus.READY


def test_a_rolled_back_transaction_queues_nothing(django_capture_on_commit_callbacks, tmp_path):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue_on_commit(probe_record, key="lost", path=str(tmp_path / "runs"))
        raise RuntimeError("the customer's action failed")
    assert callbacks == []
    assert queued_keys() == []


def test_retries_back_off_and_stop_growing():
    delays = [retry_backoff(n, base_seconds=30, max_seconds=3600) for n in range(1, 10)]
    assert delays[:4] == [30, 60, 120, 240]
    assert delays[-1] == 3600
