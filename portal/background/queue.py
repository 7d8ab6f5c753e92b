"""How the portal hands work to the queue. Every caller goes through these two functions.

Callers import tasks (functions decorated with `django_tasks.task`) and these helpers, never a
backend: the backend is the `TASKS` setting (database by default, RQ on Redis by a setting).
"""

import datetime
import logging
from functools import partial

from django.db import transaction
from django.utils import timezone
from django_tasks.base import Task

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, /, *args, **kwargs) -> None:
    """Enqueue `task` when the current transaction commits (at once outside a transaction).

    A rollback enqueues nothing, so a task never sees rows that were never committed, nor
    announces something that did not happen. The enqueue runs after the commit: if the queue
    cannot take it, the caller's work stands and the failure is logged (robust callback).
    """
    transaction.on_commit(partial(task.enqueue, *args, **kwargs), robust=True)


def retry_backoff(attempt: int, *, base_seconds: float, max_seconds: float) -> float:
    """Seconds to wait before attempt `attempt + 1`: doubling from `base_seconds`, capped."""
    return min(max_seconds, base_seconds * 2 ** (attempt - 1))


def enqueue_retry(task: Task, /, *, attempt: int, delay_seconds: float, **kwargs) -> None:
    """Run `task` again later (its attempt number + 1), e.g. when the SMTP server refused.

    The framework itself never retries: a task that wants another try asks for one here.
    """
    run_after = timezone.now() + datetime.timedelta(seconds=delay_seconds)
    task.using(run_after=run_after).enqueue(attempt=attempt + 1, **kwargs)
    logger.info("%s: attempt %d scheduled at %s", task.name, attempt + 1, run_after.isoformat())
