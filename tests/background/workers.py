"""Real `manage.py db_worker` processes against this test run's databases."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connections

from erp_sync.router import erp_alias

ROOT = Path(__file__).resolve().parents[2]


def database_url(alias: str) -> str:
    """A URL for the database that `alias` uses now (the test database, once created)."""
    params = connections[alias].settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{params['NAME']}"
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{params['HOST']}:{params['PORT']}/{params['NAME']}"


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a process that shares this test's databases and media folder."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": database_url("default"),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "TASKS_HEARTBEAT_SECONDS": "0.2",
        "TASKS_WORKER_DEAD_AFTER_SECONDS": "2",
        # No daily job unless a test asks for one: the tests count what is queued.
        "REMINDERS_AT": "",
        "TASKS_PRUNE_AT": "",
        **extra,
    }
    env.pop("ERP_DATABASE_URL", None)
    if erp_alias() != "default":
        env["ERP_DATABASE_URL"] = database_url(erp_alias())
    return env


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.05",
         *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def stop_worker(process: subprocess.Popen) -> str:
    """SIGTERM (a graceful stop after the current task); its output."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def eventually(check, seconds: float = 20.0, message: str = "condition"):
    """check()'s first truthy value, polled until `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{message}: not seen within {seconds} s")
