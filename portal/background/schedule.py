"""Daily jobs: each runs once a day, however many workers there are.

Every worker's heartbeat calls `daily_jobs_enqueue_due`; for each job of `TASKS_DAILY` whose
time of day (America/Sao_Paulo) has come, the first worker to insert that day's DailyJobRun
row enqueues it, and the unique (job, day) constraint turns every other worker away.
"""

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from portal.background.models import DailyJobRun
from portal.background.queue import enqueue_on_commit

logger = logging.getLogger(__name__)


def daily_jobs_enqueue_due(*, worker_id: str, now: datetime.datetime | None = None) -> list[str]:
    """Enqueue the daily jobs due today and not yet enqueued; returns their names."""
    now = timezone.localtime(now)
    enqueued = []
    for name, job in settings.TASKS_DAILY.items():
        if not job["at"]:
            continue  # switched off
        if now.time() < datetime.time.fromisoformat(job["at"]):
            continue
        try:
            with transaction.atomic():
                DailyJobRun.objects.create(
                    job=name, day=now.date(), enqueued_at=now, worker_id=worker_id
                )
                enqueue_on_commit(import_string(job["task"]))
        except IntegrityError:
            continue  # another worker has it today
        logger.info("Daily job %s enqueued for %s", name, now.date())
        enqueued.append(name)
    return enqueued
