"""`manage.py erp_sync --follow` as operations run it (on SQLite: polling): a process that
mirrors, has a changed proposal's PDF rendered ahead by a task worker, and stops cleanly."""

import os
import signal
import subprocess
import sys
import time

from tests.background.workers import ROOT, start_worker, stop_worker


def test_follower_process_mirrors_then_stops_cleanly_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'follow.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "ERP_SYNC_POLL_SECONDS": "0.2",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("ERP_DATABASE_URL", None)

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    manage("migrate", "-v", "0")
    manage("demo")
    follower = subprocess.Popen(
        [sys.executable, "manage.py", "erp_sync", "--follow"],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    worker = start_worker(env)

    def shown_until(expected: str, code: str, seconds: float) -> str:
        """The last line `code` printed in `manage.py shell`, polled until it is `expected`."""
        deadline = time.monotonic() + seconds
        script = "from django_scopes import scopes_disabled\n" + code
        while True:
            shown = manage("shell", "-c", script).stdout.strip().splitlines()[-1]
            if shown == expected or time.monotonic() >= deadline:
                return shown
            time.sleep(0.2)

    try:
        # Following: its first pass has recorded both demo tenants as in sync.
        passed = (
            "from erp_sync.models import SyncState\n"
            "print(SyncState.objects.filter(last_success_at__isnull=False).count())"
        )
        assert shown_until("2", passed, seconds=30) == "2"
        manage("erp_demo", "advance", "7001", "PED")
        status = (
            "from proposals.models import Order\n"
            "with scopes_disabled(): print(Order.objects.get(number=7001).status)"
        )
        assert shown_until("PED", status, seconds=10) == "PED"

        # A proposal edited in the ERP: the follower queues its new version's PDF, the worker
        # renders it.
        manage("erp_demo", "edit", "7029")
        rendered = (
            "from proposals.models import Order\n"
            "with scopes_disabled():\n"
            "    order = Order.objects.get(number=7029)\n"
            "    ahead = order.proposal_documents.filter(erp_version=order.erp_version)\n"
            "    print(order.status, 'rendered' if ahead.exists() else 'waiting')"
        )
        assert shown_until("PRO rendered", rendered, seconds=20) == "PRO rendered"
    finally:
        follower.send_signal(signal.SIGTERM)
        returncode = follower.wait(15)
        worker_log = stop_worker(worker)
    log = follower.stderr.read()
    assert returncode == 0, log
    assert "Follower stopped" in log
    assert worker.returncode == 0, worker_log
