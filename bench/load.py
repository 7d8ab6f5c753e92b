"""Web throughput of the customer pages against a bare Django view, on PostgreSQL.

    .venv/bin/python -m bench.load [--orders 1000000] [--duration 15] [--connections 8]

Seeds (once, reused) a PostgreSQL database with --orders orders spread over 20,000 customers,
serves the portal and a bare Django view with gunicorn (sync workers) on 127.0.0.1, and drives
each page with wrk (Debian's package) at the given concurrency, logged in as a customer with 50
orders (10 items and 3 installments each). Every page is checked (status 200 and its text)
before it is measured. Prints a Markdown table; figures go to bench/README.md.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "bench.localhost"
CUSTOMERS = 20_000
EMAIL = "medido@bench.localhost"


def psql(db_url: str, sql: str) -> str:
    result = subprocess.run(
        ["psql", db_url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def ensure_database(db_url: str) -> None:
    server, name = db_url.rsplit("/", 1)
    exists = psql(f"{server}/postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if not exists:
        psql(f"{server}/postgres", f'CREATE DATABASE "{name}"')


def django_env(db_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": "bench-" + "s" * 50,
        "DEBUG": "0",
    }


SEED_SQL = """
INSERT INTO accounts_tenant (name, slug, erp_company_id, legal_name, cnpj, address, phone, email,
    display_name, logo, primary_color, notification_email, is_active)
VALUES ('Bench Máquinas Ltda', 'bench', 900, 'Bench Máquinas Ltda', '12.345.678/0001-95',
    'Rua das Flores, 100', '(41) 3333-4444', 'vendas@bench.localhost', 'Bench', '', '#1f4e79',
    '', true);
INSERT INTO accounts_tenantdomain (hostname, tenant_id, is_primary)
    SELECT '{host}', id, true FROM accounts_tenant WHERE slug = 'bench';
INSERT INTO accounts_customer (tenant_id, erp_id, name, cpf_cnpj, email, is_active, erp_version)
    SELECT t.id, g, 'Cliente ' || g || ' Ltda', '11.222.333/0001-81', 'c' || g || '@bench.test',
           true, 1
    FROM accounts_tenant t, generate_series(1, {customers}) g WHERE t.slug = 'bench';
INSERT INTO proposals_order (tenant_id, customer_id, erp_id, number, status, issued_on,
    valid_until, salesperson, payment_method, payment_terms, notes, products_total,
    services_total, discount, freight, total, approved_at, approved_by, erp_version,
    erp_updated_at, search_text)
SELECT t.id, c0.id + (g % {customers}), g, g, (ARRAY['PRO','APR','PED','CAN'])[1 + g % 4],
       date '2026-01-01' + (g % 300), date '2027-06-30', 'Mariana Souza', 'Boleto bancário',
       '3x de 30 em 30 dias', 'Entregar no almoxarifado.', 3015.00, 0, 0, 0, 3015.00, NULL, '',
       1, now(),
       -- what the mirror writes (proposals.search): number, texts and items, normalized
       g || ' mariana souza entregar no almoxarifado. prd-' || (g % 997) || ' '
         || (ARRAY['compressor de ar 50 l 2 hp', 'manutencao preventiva',
                   'chapa de aco carbono 3 mm', 'disco de corte 7" para metal',
                   'furadeira de impacto 750 w', 'cabo pp 3 x 2,5 mm2',
                   'luva de vaqueta (par)', 'treinamento de operadores'])[1 + g % 8]
         || ' entrega em 15 dias uteis'
FROM accounts_tenant t,
     (SELECT min(id) AS id FROM accounts_customer) c0,
     generate_series(1, {orders}) g
WHERE t.slug = 'bench';
INSERT INTO proposals_orderitem (tenant_id, order_id, erp_id, sequence, kind, code, description,
    unit, quantity, unit_price, discount, total, notes)
SELECT o.tenant_id, o.id, o.erp_id * 100 + s, s, 'P', 'PRD-' || s,
       'Compressor de ar 50 L 2 HP modelo ' || s, 'UN', s, 301.50, 0, 301.50 * s,
       'Entrega em 15 dias úteis'
FROM proposals_order o, generate_series(1, 10) s
WHERE o.customer_id = (SELECT min(id) FROM accounts_customer);
INSERT INTO proposals_installment (tenant_id, order_id, erp_id, number, due_date, amount)
SELECT o.tenant_id, o.id, o.erp_id * 10 + n, n, o.issued_on + 30 * n, 1005.00
FROM proposals_order o, generate_series(1, 3) n
WHERE o.customer_id = (SELECT min(id) FROM accounts_customer);
INSERT INTO proposals_statuschange (tenant_id, order_id, from_status, to_status, changed_at,
    erp_version)
SELECT o.tenant_id, o.id, '', o.status, now(), 1
FROM proposals_order o WHERE o.customer_id = (SELECT min(id) FROM accounts_customer);
ANALYZE;
"""

SESSION_CODE = """
import django; django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django_scopes import scopes_disabled
from portal.accounts.models import Customer, Tenant, User
with scopes_disabled():
    tenant = Tenant.objects.get(slug="bench")
    customer = Customer.objects.filter(tenant=tenant).order_by("id").first()
    user = User.objects.filter(tenant=tenant, email="{email}").first() or User.objects.create_user(
        "{email}", "bench-senha-2026", tenant=tenant, customer=customer)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "portal.accounts.backends.TenantEmailBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    number = customer.orders.order_by("-number").values_list("number", flat=True)
    print(session.session_key, number[0], number[24])
"""


def seed(db_url: str, orders: int) -> None:
    ensure_database(db_url)
    env = django_env(db_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    have = int(psql(db_url, "SELECT count(*) FROM proposals_order"))
    if have >= orders:
        print(f"database already holds {have:,} orders")
        return
    for table in (
        "proposals_order",
        "accounts_customer",
        "accounts_tenantdomain",
        "accounts_tenant",
    ):
        psql(db_url, f"TRUNCATE {table} CASCADE")
    started = time.monotonic()
    psql(db_url, SEED_SQL.format(host=HOST, customers=CUSTOMERS, orders=orders))
    print(f"seeded {orders:,} orders in {time.monotonic() - started:.0f} s")


def wait_for(url: str, host: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers={"Host": host}), timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def check(url: str, cookie: str, expected: str) -> None:
    request = urllib.request.Request(url, headers={"Host": HOST, "Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read().decode()
        if response.status != 200 or expected not in body:
            raise RuntimeError(f"{url}: status {response.status}, {expected!r} missing")


def wrk(url: str, host: str, cookie: str, duration: int, connections: int) -> dict:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-H", f"Host: {host}"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    subprocess.run([*args[:4], "-d3s", *args[5:], url], capture_output=True, check=True)
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise RuntimeError(f"{url}: {non_2xx.group(1)} responses were not 2xx/3xx")

    def latency(label):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency("50%"),
        "p99": latency("99%"),
    }


def gunicorn(module: str, port: int, workers: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            module,
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
            "--no-control-socket",  # its default path is shared by every gunicorn of the user
        ],
        cwd=ROOT,
        env=env,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/portal_bench")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=15, help="seconds per page")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    seed(options.db_url, options.orders)
    env = django_env(options.db_url)
    env["STATIC_ROOT"] = tempfile.mkdtemp(prefix="bench-static-")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    session_key, newest, page_edge = subprocess.run(
        [sys.executable, "-c", SESSION_CODE.format(email=EMAIL)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    cookie = f"sessionid={session_key}"

    bare_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings_bare"}
    servers = [
        gunicorn("portal.wsgi", 8180, options.workers, env),
        gunicorn("django.core.wsgi:get_wsgi_application()", 8182, options.workers, bare_env),
    ]
    try:
        wait_for("http://127.0.0.1:8180/healthz", HOST)
        wait_for("http://127.0.0.1:8182/", HOST)
        pages = [
            ("bare Django view", "http://127.0.0.1:8182/", "", "ok"),
            ("PAINEL /", "http://127.0.0.1:8180/", cookie, newest),
            ("PEDIDOS /pedidos/", "http://127.0.0.1:8180/pedidos/", cookie, newest),
            (
                "PEDIDOS ?status=PRO",
                "http://127.0.0.1:8180/pedidos/?status=PRO",
                cookie,
                "Proposta",
            ),
            (
                "PEDIDOS page 2 (keyset)",
                f"http://127.0.0.1:8180/pedidos/?apos={page_edge}",
                cookie,
                "VISUALIZAR",
            ),
            (
                "detail, 10 items",
                f"http://127.0.0.1:8180/pedidos/{newest}/",
                cookie,
                "Compressor de ar 50 L 2 HP modelo 10",
            ),
        ]
        rows = []
        for label, url, page_cookie, expected in pages:
            if page_cookie:
                check(url, page_cookie, expected)
            result = wrk(url, HOST, page_cookie, options.duration, options.connections)
            rows.append((label, result))
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(10)
        shutil.rmtree(env["STATIC_ROOT"], ignore_errors=True)

    bare = rows[0][1]["rps"]
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text()).group(1)
    print(
        f"\n{options.orders:,} orders, {os.cpu_count()} cores ({cpu}), gunicorn "
        f"{options.workers} sync workers, wrk -c{options.connections} for {options.duration} s"
    )
    print("\n| page | req/s | p50 ms | p99 ms | of bare |\n|---|---:|---:|---:|---:|")
    for label, result in rows:
        print(
            f"| {label} | {result['rps']:,.0f} | {result['p50']:.1f} | {result['p99']:.1f} | "
            f"{result['rps'] / bare:.0%} |"
        )


if __name__ == "__main__":
    main()
