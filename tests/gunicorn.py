"""A real gunicorn (sync workers, as in production) on the tests' own database.

    with gunicorn_server(workers=3) as server:
        server.get("/", host=HOST_A)

It serves the test database of the run (a file on SQLite, see settings_test), so rows a
transactional test commits are what it serves; it listens on 127.0.0.1 on a port the OS picks,
logs which worker answered each request, and stops when the block ends.
"""

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from erp_sync.router import erp_alias
from tests.background.workers import database_url

ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


def database_env() -> dict[str, str]:
    env = {"DATABASE_URL": database_url("default")}
    if erp_alias() != "default":
        env["ERP_DATABASE_URL"] = database_url(erp_alias())
    return env


@dataclass
class Server:
    base_url: str
    access_log: Path
    env: dict[str, str]

    def request(self, method: str, path: str, *, host: str, session=None, **kwargs):
        http = session or requests
        kwargs.setdefault("timeout", 30)
        headers = {"Host": host, **kwargs.pop("headers", {})}
        return http.request(
            method, self.base_url + path, headers=headers, allow_redirects=False, **kwargs
        )

    def get(self, path: str, *, host: str, session=None, **kwargs):
        return self.request("GET", path, host=host, session=session, **kwargs)

    def post(self, path: str, *, host: str, session=None, **kwargs):
        return self.request("POST", path, host=host, session=session, **kwargs)

    def workers_seen(self) -> list[str]:
        """The pid of the worker that answered each request so far, in order."""
        return self.access_log.read_text().split()

    def replay(
        self, send: Callable[[], requests.Response], *, times: int, workers: int = 2, limit=300
    ) -> list[requests.Response]:
        """`send()` at least `times` times, three at once, and on until `workers` workers answered.

        Sequential requests may all land on the one worker that wins every `accept()`; requests
        in flight together cannot, so the replays meet several workers without luck.
        """
        start = len(self.workers_seen())
        responses: list[requests.Response] = []
        with ThreadPoolExecutor(3) as pool:
            while len(responses) < times or (
                len(set(self.workers_seen()[start:])) < workers and len(responses) < limit
            ):
                responses += pool.map(lambda _: send(), range(3))
        return responses

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        """`manage.py` in another process, with the server's settings, database and cache."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )


@contextmanager
def gunicorn_server(*, workers: int, env: dict[str, str] | None = None, log_dir: Path):
    """Start gunicorn with `workers` workers; yield once each has answered a request."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings_test",
        **database_env(),
        **(env or {}),
    }
    access_log, error_log = log_dir / "access.log", log_dir / "error.log"
    access_log.touch()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "portal.wsgi",
            "--bind", "127.0.0.1:0",
            "--workers", str(workers),
            "--no-control-socket",
            "--access-logfile", str(access_log),
            "--access-logformat", "%(p)s",
            "--error-logfile", str(error_log),
        ],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        server = Server(_wait_for_port(process, error_log), access_log, environment)
        _wait_for_workers(server, workers)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_port(process: subprocess.Popen, error_log: Path, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = error_log.exists() and LISTENING.search(error_log.read_text())
        if found:
            return f"http://127.0.0.1:{found.group(1)}"
        if process.poll() is not None:
            break
        time.sleep(0.05)
    log = error_log.read_text() if error_log.exists() else ""
    raise RuntimeError(f"gunicorn did not start:\n{log}")


def _wait_for_workers(server: Server, workers: int, seconds: float = 90) -> None:
    """Until `workers` distinct workers have answered /healthz (each has loaded the portal)."""
    deadline = time.monotonic() + seconds
    while len(set(server.workers_seen())) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only workers {set(server.workers_seen())} answered")
        try:
            server.get("/healthz", host="127.0.0.1", timeout=5)
        except requests.RequestException:  # refused, or queued while the workers load
            time.sleep(0.1)
