"""The task queue (django-tasks-db) on PostgreSQL, with real `manage.py db_worker` processes.

    .venv/bin/python -m bench.tasks [--tasks 2000] [--enqueues 2000]

(a) throughput: --tasks no-op tasks queued, then run by one worker, then by two: tasks/s from
the first task started to the last finished (the workers' start-up is not counted);
(b) the cost a request pays to enqueue a task after its transaction commits
(portal.background.queue.enqueue_on_commit), against the same transaction without it;
(c) pickup: from commit to the task starting, on an idle worker polling every second (the
default). Bounded: a few thousand tasks, well under a minute on 2 cores.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(db_url: str) -> None:
    os.environ.update(
        DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="portal.settings",
        SECRET_KEY="bench-" + "s" * 50,
        REMINDERS_AT="",
        TASKS_PRUNE_AT="",
    )
    import django

    django.setup()


def recreate_database(db_url: str) -> None:
    server, name = db_url.rsplit("/", 1)
    for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", f"{server}/postgres", "-qc", sql], check=True)


def workers(count: int, *args: str) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-startup-delay", *args],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(30)


def throughput(count: int, tasks: int) -> float:
    from django.db.models import Max, Min
    from django_tasks_db.models import DBTaskResult

    from bench.probe import bench_noop

    DBTaskResult.objects.all().delete()
    for n in range(tasks):
        bench_noop.enqueue(n=n)
    running = workers(count, "--interval", "0.05")
    try:
        deadline = time.monotonic() + 300
        while DBTaskResult.objects.exclude(status="SUCCESSFUL").exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the workers did not finish")
            time.sleep(0.1)
    finally:
        stop(running)
    span = DBTaskResult.objects.aggregate(first=Min("started_at"), last=Max("finished_at"))
    return tasks / (span["last"] - span["first"]).total_seconds()


def enqueue_cost(enqueues: int) -> tuple[float, float, float]:
    """Median and p99 (µs) of a transaction with one enqueue_on_commit, and the median of the
    same transaction without it."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from bench.probe import bench_noop
    from portal.background.models import DailyJobRun
    from portal.background.queue import enqueue_on_commit

    def timed(enqueue: bool) -> list[float]:
        samples = []
        for n in range(enqueues):
            started = time.perf_counter()
            with transaction.atomic():
                DailyJobRun.objects.filter(pk=-1).update(worker_id="x")  # the request's write
                if enqueue:
                    enqueue_on_commit(bench_noop, n=n)
            samples.append((time.perf_counter() - started) * 1e6)
        return sorted(samples)

    DBTaskResult.objects.all().delete()
    without, with_enqueue = timed(False), timed(True)
    p99 = with_enqueue[int(len(with_enqueue) * 0.99) - 1]
    return statistics.median(with_enqueue), p99, statistics.median(without)


def pickup(samples: int) -> tuple[float, float]:
    """Commit → started (ms) on an idle worker polling every second: median and max."""
    from django_tasks_db.models import DBTaskResult

    from bench.probe import bench_noop

    DBTaskResult.objects.all().delete()
    running = workers(1)
    try:
        time.sleep(3)  # started, idle
        delays = []
        for n in range(samples):
            result = bench_noop.enqueue(n=n)
            while True:
                row = DBTaskResult.objects.filter(pk=result.id).values("started_at").get()
                if row["started_at"]:
                    break
                time.sleep(0.005)
            delays.append((row["started_at"] - result.enqueued_at).total_seconds() * 1000)
            time.sleep(0.37)  # land at different points of the poll interval
    finally:
        stop(running)
    return statistics.median(delays), max(delays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/portal_taskbench")
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--enqueues", type=int, default=2000)
    parser.add_argument("--pickups", type=int, default=20)
    options = parser.parse_args()

    recreate_database(options.db_url)
    setup_django(options.db_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    one = throughput(1, options.tasks)
    two = throughput(2, options.tasks)
    median, p99, bare = enqueue_cost(options.enqueues)
    pickup_median, pickup_max = pickup(options.pickups)
    print(f"\nPostgreSQL, {os.cpu_count()} cores, {options.tasks:,} no-op tasks")
    print("\n| measure | result |\n|---|---:|")
    print(f"| throughput, one worker | {one:,.0f} tasks/s |")
    print(f"| throughput, two workers | {two:,.0f} tasks/s |")
    print(
        f"| a transaction with enqueue_on_commit, p50 / p99 | {median:,.0f} / {p99:,.0f} µs "
        f"(without: {bare:,.0f} µs) |"
    )
    print(f"| commit → started on an idle worker, p50 / max | {pickup_median:.0f} / "
          f"{pickup_max:.0f} ms |")  # fmt: skip


if __name__ == "__main__":
    main()
