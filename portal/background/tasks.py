"""Housekeeping of the queue itself (run daily: settings.TASKS_DAILY)."""

import datetime

from django.conf import settings
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from portal.background.models import DailyJobRun


@task
def task_results_prune() -> dict:
    """Forget finished tasks: successful ones after TASKS_KEEP_SUCCESSFUL_DAYS, failed ones
    (which staff read in admin) after TASKS_KEEP_FAILED_DAYS. Queued and running ones stay."""
    now = timezone.now()
    kept = {
        TaskResultStatus.SUCCESSFUL: settings.TASKS_KEEP_SUCCESSFUL_DAYS,
        TaskResultStatus.FAILED: settings.TASKS_KEEP_FAILED_DAYS,
    }
    deleted = {}
    for status, days in kept.items():
        old = DBTaskResult.objects.filter(
            status=status, finished_at__lt=now - datetime.timedelta(days=days)
        )
        deleted[status.lower()] = old.delete()[0]
    DailyJobRun.objects.filter(day__lt=(now - datetime.timedelta(days=90)).date()).delete()
    return deleted
