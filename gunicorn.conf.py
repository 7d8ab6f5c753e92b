"""Settings of every gunicorn started from the project's directory (`make run`, production,
bench/web.py): gunicorn reads ./gunicorn.conf.py by itself.

A sync worker touches its heartbeat file between requests. In /tmp on the disk that PostgreSQL
writes to, that touch can wait on the filesystem's journal while a bulk load is flushed
(checkpoints and autovacuum right after the initial mirror), and every request queued behind
the worker waits with it (gunicorn's documentation, "Blocking OS calls"). /dev/shm is memory.
"""

import os

if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
