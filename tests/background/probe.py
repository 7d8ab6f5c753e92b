"""Tasks that only the tests enqueue: each run appends a line to a file, so a test counts runs
(a task run twice shows twice) across worker processes."""

import os

from django_tasks import task


@task
def probe_record(*, key: str, path: str) -> str:
    with open(path, "a") as runs:  # O_APPEND: each line written whole, from any process
        runs.write(f"{key} {os.getpid()}\n")
    return key
