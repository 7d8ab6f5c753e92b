"""Real processes for tests that span them: gunicorn nodes, manage.py commands, Redis, a
throwaway PostgreSQL cluster, and a browser-like HTTP visitor.

Every server listens on 127.0.0.1 on a port of its own, and its `stop()` always ends it (killed
when it does not stop in time, with its whole process group). Use them as context managers, or
stop them in a fixture's teardown.

    with Node("a", env, log_dir) as node:
        Visitor("alfa.portal.test").get(node, "/healthz")
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60  # a node imports Django and WeasyPrint: seconds on a busy 2-core machine


def free_port() -> int:
    """A port nothing listens on now (for servers that cannot be told to pick one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, *, seconds: float, what: str, interval: float = 0.02):
    """Poll `check()` until it returns something true; returns it. Fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(interval)


class Process:
    """A child process in a session of its own, its output in `log_path`."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name = name
        self.args = args
        self.env = env
        self.log_path = Path(log_dir) / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        return self

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group: a machine that dies, children included."""
        if self.process is not None:
            self._signal_group(signal.SIGKILL)
            self.process.wait()

    def stop(self, seconds: float = 10) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(seconds)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait()
        # Children that outlive their parent (a spawned renderer) go with the group.
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def manage(name: str, *args: str, env: dict, log_dir: Path) -> Process:
    """`manage.py ARGS` as its own process (the follower, a task worker), not yet started."""
    return Process(name, [sys.executable, "manage.py", *args], env, log_dir)


class Node(Process):
    """A web node: gunicorn serving portal.wsgi with sync workers, as production runs it.

    Binds 127.0.0.1 on a port the OS picks (read from gunicorn's log) and is ready once
    /healthz answers 200.
    """

    LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")

    def __init__(self, name: str, env: dict, log_dir: Path, *, workers: int = 1):
        args = [
            sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", "127.0.0.1:0",
            "--workers", str(workers), "--timeout", "30", "--graceful-timeout", "5",
            "--no-control-socket",
        ]  # fmt: skip
        super().__init__(name, args, env, log_dir)
        self.url = ""

    def start(self):
        super().start()
        return self.wait_ready()

    def wait_ready(self):
        """After Process.start(): several nodes start side by side, then each is awaited."""

        def listening():
            if not self.running():
                raise AssertionError(f"gunicorn {self.name} exited:\n{self.log}")
            found = self.LISTENING.search(self.log)
            return found and found.group(1)

        try:
            port = wait_for(listening, seconds=START_SECONDS, what=self.name)
            self.url = f"http://127.0.0.1:{port}"
            wait_for(self._healthy, seconds=START_SECONDS, what=f"{self.name} /healthz")
        except AssertionError as error:
            self.stop()
            raise AssertionError(f"{error}\n{self.log[-3000:]}") from None
        return self

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=START_SECONDS).status_code == 200
        except requests.ConnectionError:
            return False


class Visitor:
    """A browser: one cookie jar, sent to whichever node serves it (as behind a load balancer),
    with the tenant's hostname in Host. Redirects are not followed: tests look at them."""

    def __init__(self, host: str):
        self.host = host
        self.session = requests.Session()

    def get(self, node: Node, path: str, **kwargs) -> requests.Response:
        return self.session.get(f"{node.url}{path}", **self._options(kwargs))

    def post(self, node: Node, path: str, data: dict | None = None, **kwargs) -> requests.Response:
        data = {**(data or {}), "csrfmiddlewaretoken": self.session.cookies.get("csrftoken", "")}
        return self.session.post(f"{node.url}{path}", data=data, **self._options(kwargs))

    def log_in(self, node: Node, email: str, password: str) -> requests.Response:
        self.get(node, "/entrar/")  # the CSRF cookie
        return self.post(node, "/entrar/", {"username": email, "password": password})

    def _options(self, kwargs: dict) -> dict:
        headers = {"Host": self.host, **kwargs.pop("headers", {})}
        return {"headers": headers, "allow_redirects": False, "timeout": 30, **kwargs}


class _FormFields(HTMLParser):
    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or not attrs.get("name") and tag != "option":
            return
        if "__prefix__" in attrs.get("name", ""):
            return  # the template of a new inline row, not a row
        if tag == "input" and attrs.get("type") in ("checkbox", "radio"):
            if "checked" in attrs:
                self.fields[attrs["name"]] = attrs.get("value") or "on"
        elif tag == "input" and attrs.get("type") not in ("submit", "file", "button"):
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self._select = attrs["name"]
            self.fields.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.fields[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str, form_id: str) -> dict[str, str]:
    """What a browser would submit from the form `form_id` as the page shows it (no files)."""
    parser = _FormFields(form_id)
    parser.feed(html)
    return parser.fields


class Redis(Process):
    """A Redis server of the test's own (no persistence), so no other run shares its keys."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        args = [
            shutil.which("redis-server") or "/usr/bin/redis-server", "--bind", "127.0.0.1",
            "--port", str(self.port), "--save", "", "--appendonly", "no", "--dir", str(log_dir),
        ]  # fmt: skip
        super().__init__("redis", args, dict(os.environ), log_dir)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        super().start()
        wait_for(self._answers, seconds=10, what="redis-server")
        return self

    def _answers(self) -> bool:
        if not self.running():
            raise AssertionError(f"redis-server exited:\n{self.log}")
        try:
            return redis.Redis.from_url(self.url).ping()
        except redis.ConnectionError:
            return False

    def flush(self) -> None:
        redis.Redis.from_url(self.url).flushall()


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise AssertionError("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    return found[-1].parent


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb in a temporary folder, its own port), for tests
    that stop and restart the server: the machine's shared PostgreSQL is never touched.

    PostgreSQL refuses to run as root: as root, its commands run as the `postgres` OS user.
    """

    def __init__(self):
        self.bin = _postgres_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, user="postgres")

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def create(self):
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
            "-c fsync=off -c full_page_writes=off"
        )
        log = str(self.dir / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: open sessions are ended, as in a restart by operations."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, dbname: str) -> str:
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{dbname}"')
        return self.url(dbname)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
