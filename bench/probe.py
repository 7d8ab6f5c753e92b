"""The task bench/tasks.py queues: it does nothing, so the bench measures the queue itself."""

from django_tasks import task


@task
def bench_noop(*, n: int) -> int:
    return n
