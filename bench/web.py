"""The customer pages as users meet them, against a bare Django view in the same run.

    .venv/bin/python -m bench.seed && .venv/bin/python -m bench.web --label "after the mirror"
    .venv/bin/python -m bench.web --label "an hour later"     # same data, later

Serves the portal of a `bench.seed` database with gunicorn (sync workers) and production
settings (DEBUG off, Redis cache, a secret key required) on 127.0.0.1, and a bare Django view
(a fresh project's middleware, one HttpResponse) beside it. Logs in through the login form as
the heaviest customer (20,000 orders) and a typical one, then drives each page with a bounded
wrk run: PAINEL, PEDIDOS (first page, a status filter, a text search), an order of 30 items,
its stored proposal PDF, the login POST, /healthz. Every page is checked (status and its own
text) before it is measured; wrk's non-2xx/3xx count must be zero. Prints a Markdown table
with req/s, p50, p99, the ratio to the bare view, and each worker's resident memory after the
run. Needs Debian's `wrk` (apt-get install wrk) and Redis on 127.0.0.1:6379.
"""

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.load import gunicorn, psql
from bench.seed import (
    HEAVY_CUSTOMER,
    PASSWORD,
    PRODUCTS,
    SEARCH_TERM,
    TYPICAL_CUSTOMER_OFFSET,
    django_env,
    shape,
)

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port: int, host: str, method: str, path: str, headers=None, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(method, path, body=body, headers={"Host": host, **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def wait_for(port: int, host: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            request(port, host, "GET", "/healthz")
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"port {port} did not answer")


def cookies_of(response) -> dict:
    jar = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, value = header.split(";", 1)[0].split("=", 1)
        jar[name] = value
    return jar


def login_form(port: int, host: str) -> tuple[str, str]:
    """A CSRF cookie and the form's token: a pair the login POST can replay."""
    response, body = request(port, host, "GET", "/entrar/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    return cookies_of(response)["csrftoken"], token


def login_body(email: str, token: str) -> str:
    return urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": email, "password": PASSWORD}
    )


def log_in(port: int, host: str, email: str) -> str:
    """The session cookie of a login through the form, as a browser gets it."""
    csrf, token = login_form(port, host)
    response, _ = request(
        port,
        host,
        "POST",
        "/entrar/",
        headers={
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=login_body(email, token),
    )
    session = cookies_of(response).get("sessionid")
    if response.status != 302 or not session:
        raise RuntimeError(f"login of {email} at {host}: status {response.status}")
    return f"sessionid={session}"


def check(port: int, host: str, path: str, cookie: str, expected: bytes) -> None:
    response, body = request(port, host, "GET", path, headers={"Cookie": cookie} if cookie else {})
    if response.status != 200 or expected not in body:
        raise RuntimeError(f"{host}{path}: status {response.status}, {expected!r} missing")


def wrk(port, host, path, *, cookie="", script=None, duration, connections) -> dict:
    url = f"http://127.0.0.1:{port}{path}"
    args = ["wrk", "-t2", f"-c{connections}", "--latency", "--timeout", "10s"]
    args += ["-H", f"Host: {host}"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    if script:
        args += ["-s", script]
    subprocess.run([*args, "-d2s", url], capture_output=True, check=True)  # warm-up
    output = subprocess.run(
        [*args, f"-d{duration}s", url], capture_output=True, text=True, check=True
    ).stdout
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if failed:
        raise RuntimeError(f"{host}{path}: {failed.group(1)} responses were not 2xx/3xx")
    errors = re.search(r"Socket errors: (.+)", output)

    def latency(label):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency("50%"),
        "p99": latency("99%"),
        "errors": errors.group(1) if errors else "",
    }


def worker_rss_mib(master: subprocess.Popen) -> list[float]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return sorted(sizes)


def newest_order(db_url: str, erp_customer: int) -> tuple[int, str]:
    """The number and status of the customer's newest order (the status filter measured)."""
    number, status = psql(
        db_url,
        "SELECT o.number, o.status FROM proposals_order o JOIN accounts_customer c "
        f"ON c.id = o.customer_id WHERE c.erp_id = {erp_customer} ORDER BY o.number DESC LIMIT 1",
    ).split("|")
    return int(number), status


def statistics_state(db_url: str) -> str:
    """When the portal's big tables were last analyzed (by anyone): the go-live question."""
    rows = psql(
        db_url,
        "SELECT relname || ': ' || coalesce(greatest(last_analyze, last_autoanalyze)::text, "
        "'never') FROM pg_stat_user_tables WHERE relname IN ('proposals_order', "
        "'proposals_orderitem', 'proposals_installment') ORDER BY relname",
    )
    return "; ".join(rows.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/portal_perf_bench")
    parser.add_argument("--scale", type=float, default=1.0, help="as given to bench.seed")
    parser.add_argument("--label", default="", help="printed with the figures")
    parser.add_argument("--duration", type=int, default=10, help="seconds per page")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/9")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    db_url = options.db_url
    workdir = Path(tempfile.mkdtemp(prefix="bench-web-"))
    env = {
        **django_env(db_url),
        "REQUIRE_SECRET_KEY": "1",
        "CACHE_URL": options.cache_url,
        "STATIC_ROOT": str(workdir / "static"),
        # The stored PDFs outlive the run, as their rows in the database do.
        "MEDIA_ROOT": str(ROOT / "var" / "bench-media" / urllib.parse.urlsplit(db_url).path[1:]),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    typical = shape(options.scale)["customers_per_tenant"] + TYPICAL_CUSTOMER_OFFSET
    customers = [
        ("heaviest", "t001.bench.localhost", HEAVY_CUSTOMER),
        ("typical", "t002.bench.localhost", typical),
    ]
    analyzed = statistics_state(db_url)
    load_before = os.getloadavg()[0]

    portal_port, bare_port = free_port(), free_port()
    bare_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings_bare"}
    portal_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings_portal"}
    servers = [
        gunicorn("portal.wsgi", portal_port, options.workers, portal_env),
        gunicorn("django.core.wsgi:get_wsgi_application()", bare_port, options.workers, bare_env),
    ]
    rows = []

    def drain(port, host):
        """Wait out the requests wrk left queued: a worker busy with them would stall the next
        page's first requests (the /healthz p99 of 1.5 s in issue 13 came after a slow page)."""
        with ThreadPoolExecutor(options.workers) as pool:
            list(pool.map(lambda _: request(port, host, "GET", "/healthz"), range(options.workers)))

    def measure(label, who, port, host, path, **kwargs):
        drain(port, host)
        result = wrk(
            port,
            host,
            path,
            duration=options.duration,
            connections=options.connections,
            **kwargs,
        )
        rows.append((label, who, result))
        print(f"  {label} ({who}): {result['rps']:,.1f} req/s", file=sys.stderr)

    try:
        wait_for(portal_port, "t001.bench.localhost")
        wait_for(bare_port, "localhost")
        measure("bare Django view", "", bare_port, "localhost", "/")
        measure("/healthz", "", portal_port, "t001.bench.localhost", "/healthz")
        for who, host, erp_customer in customers:
            cookie = log_in(portal_port, host, f"c{erp_customer}@bench.test")
            number, status = newest_order(db_url, erp_customer)
            item_30 = PRODUCTS[30 % len(PRODUCTS)].encode()
            pages = [
                ("PAINEL /", "/", str(number).encode()),
                ("PEDIDOS /pedidos/", "/pedidos/", b"VISUALIZAR"),
                (f"PEDIDOS ?status={status}", f"/pedidos/?status={status}", b"VISUALIZAR"),
                (f"PEDIDOS ?q={SEARCH_TERM}", f"/pedidos/?q={SEARCH_TERM}", b"VISUALIZAR"),
                ("detail, 30 items", f"/pedidos/{number}/", item_30),
                ("stored proposal PDF", f"/pedidos/{number}/proposta.pdf", b"%PDF-"),
            ]
            for label, path, expected in pages:
                try:
                    check(portal_port, host, path, cookie, expected)  # the PDF: rendered, stored
                except (RuntimeError, OSError) as error:
                    # A page that does not answer in time is a figure too; the run goes on.
                    rows.append((label, who, {"failed": f"{type(error).__name__}: {error}"}))
                    print(f"  {label} ({who}): {error}", file=sys.stderr)
                    continue
                measure(label, who, portal_port, host, path, cookie=cookie)
        host = "t002.bench.localhost"
        csrf, token = login_form(portal_port, host)
        script = workdir / "login.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            f'wrk.body = "{login_body(f"c{typical}@bench.test", token)}"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        )
        measure(
            "login POST",
            "typical",
            portal_port,
            host,
            "/entrar/",
            cookie=f"csrftoken={csrf}",
            script=str(script),
        )
        measure("bare Django view, again", "", bare_port, "localhost", "/")
        rss = worker_rss_mib(servers[0])
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(15)
        shutil.rmtree(workdir, ignore_errors=True)

    bare = rows[0][2]["rps"]
    print(
        f"\n{options.label or 'run'}: {time.strftime('%Y-%m-%d %H:%M')}, gunicorn "
        f"{options.workers} sync workers, wrk -c{options.connections} -d{options.duration}s "
        f"per page, 1-min load average before/after {load_before:.2f}/{os.getloadavg()[0]:.2f}"
    )
    print(f"statistics before the run: {analyzed}")
    print("\n| page | customer | req/s | p50 ms | p99 ms | of bare |")
    print("|---|---|---:|---:|---:|---:|")
    for label, who, result in rows:
        if "failed" in result:
            print(f"| {label} | {who} | failed: {result['failed']} | | | |")
            continue
        note = f" (socket errors: {result['errors']})" if result["errors"] else ""
        print(
            f"| {label}{note} | {who} | {result['rps']:,.1f} | {result['p50']:.1f} | "
            f"{result['p99']:.1f} | {result['rps'] / bare:.1%} |"
        )
    print(f"\nportal workers' RSS after the run, MiB: {', '.join(f'{r:.0f}' for r in rss)}")


if __name__ == "__main__":
    main()
