"""Liveness of `manage.py db_worker` processes (the database backend's workers).

django-tasks-db claims a task by marking it RUNNING and committing, then runs it outside any
transaction: a worker that dies mid-task (SIGKILL, out of memory, a machine lost) would leave it
RUNNING for ever. Each worker therefore refreshes a heartbeat row from a thread of its own, and
on each beat puts back in the queue the RUNNING tasks whose worker has not been seen for
`dead_after`. Tasks are idempotent, so running one again does no harm.
"""

import datetime
import logging
import os
import socket
import threading

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from portal.background.models import WorkerHeartbeat
from portal.background.schedule import daily_jobs_enqueue_due

logger = logging.getLogger(__name__)


def worker_heartbeat(*, worker_id: str, started_at: datetime.datetime) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "seen_at": timezone.now(),
        },
    )


def worker_forget(*, worker_id: str) -> None:
    """A worker that stops cleanly (its current task finished) leaves no heartbeat behind."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def tasks_requeue_abandoned(*, dead_after: datetime.timedelta) -> int:
    """Put back in the queue the tasks left RUNNING by a worker not seen for `dead_after`.

    Returns how many. The update is conditional on the row being exactly as read (still
    RUNNING, same start), so a task that finished or was claimed again meanwhile is untouched.
    """
    stale = timezone.now() - dead_after
    alive = set(
        WorkerHeartbeat.objects.filter(seen_at__gte=stale).values_list("worker_id", flat=True)
    )
    requeued = 0
    running = DBTaskResult.objects.running().filter(started_at__lt=stale)
    for result in running.only("id", "worker_ids", "started_at", "task_path"):
        if result.worker_ids and result.worker_ids[-1] in alive:
            continue
        put_back = DBTaskResult.objects.filter(
            pk=result.pk, status=TaskResultStatus.RUNNING, started_at=result.started_at
        ).update(status=TaskResultStatus.READY)
        if put_back:
            logger.warning(
                "Task %s (%s) abandoned by worker %s: queued again",
                result.pk,
                result.task_path,
                result.worker_ids[-1] if result.worker_ids else "?",
            )
        requeued += put_back
    # Workers gone long ago (killed, so they never forgot themselves).
    WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - dead_after * 10).delete()
    return requeued


class Heartbeat(threading.Thread):
    """The worker's liveness thread: beat, rescue abandoned tasks, enqueue today's daily jobs."""

    def __init__(self, *, worker_id: str):
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self.interval = settings.TASKS_HEARTBEAT_SECONDS
        self.dead_after = datetime.timedelta(seconds=settings.TASKS_WORKER_DEAD_AFTER_SECONDS)
        self.stopping = threading.Event()

    def beat(self) -> None:
        try:
            worker_heartbeat(worker_id=self.worker_id, started_at=self.started_at)
            tasks_requeue_abandoned(dead_after=self.dead_after)
            daily_jobs_enqueue_due(worker_id=self.worker_id)
        except DatabaseError:
            logger.exception("Heartbeat of worker %s failed; trying again", self.worker_id)
            connections.close_all()

    def run(self) -> None:
        try:
            while not self.stopping.wait(self.interval):
                self.beat()
        finally:
            connections.close_all()  # this thread's own connections

    def stop(self) -> None:
        self.stopping.set()
        self.join(self.interval + 30)
