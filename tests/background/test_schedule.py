"""Daily jobs run once a day, whichever and however many workers see them due."""

import datetime
import zoneinfo

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from portal.background.models import DailyJobRun, WorkerHeartbeat
from portal.background.schedule import daily_jobs_enqueue_due
from tests.background.workers import eventually, start_worker, stop_worker, worker_env

SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=SAO_PAULO)


@pytest.mark.django_db
def test_each_daily_job_is_enqueued_once_a_day_at_its_time(
    settings, django_capture_on_commit_callbacks
):
    settings.TASKS_DAILY = {
        "reminders": {"task": "notifications.tasks.send_daily_reminders", "at": "08:00"},
        "prune": {"task": "portal.background.tasks.task_results_prune", "at": "03:30"},
        "off": {"task": "portal.background.tasks.task_results_prune", "at": ""},
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert daily_jobs_enqueue_due(worker_id="w1", now=at(1, 3, 0)) == []
        assert daily_jobs_enqueue_due(worker_id="w1", now=at(1, 7, 59)) == ["prune"]
        assert daily_jobs_enqueue_due(worker_id="w2", now=at(1, 8, 0)) == ["reminders"]
        # Every other worker, every other beat of that day: nothing.
        for worker, hour in (("w1", 9), ("w2", 12), ("w3", 23)):
            assert daily_jobs_enqueue_due(worker_id=worker, now=at(1, hour)) == []
        assert daily_jobs_enqueue_due(worker_id="w3", now=at(2, 8, 30)) == ["reminders", "prune"]

    runs = DailyJobRun.objects.order_by("day", "job").values_list("job", "day", "worker_id")
    assert list(runs) == [
        ("prune", datetime.date(2026, 12, 1), "w1"),
        ("reminders", datetime.date(2026, 12, 1), "w2"),
        ("prune", datetime.date(2026, 12, 2), "w3"),
        ("reminders", datetime.date(2026, 12, 2), "w3"),
    ]
    names = sorted(r.task_name for r in DBTaskResult.objects.all())
    assert names == ["send_daily_reminders"] * 2 + ["task_results_prune"] * 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_three_workers_run_the_days_reminders_once():
    env = worker_env(REMINDERS_AT="00:00")  # due from midnight: due now
    workers = [start_worker(env) for _ in range(3)]
    try:
        done = eventually(
            lambda: DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).first(), 60
        )
        # Every worker beats (and looks at the schedule) several times more.
        later = done.finished_at + datetime.timedelta(seconds=1)
        eventually(lambda: WorkerHeartbeat.objects.filter(seen_at__gt=later).count() == 3, 30)
    finally:
        for worker in workers:
            stop_worker(worker)
    assert list(DailyJobRun.objects.values_list("job", flat=True)) == ["reminders"]
    [result] = DBTaskResult.objects.all()
    assert result.task_name == "send_daily_reminders"
    assert result.return_value == {"expiring": 0, "signature_reminders": 0}
