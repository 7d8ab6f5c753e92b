"""The mirror engine on PostgreSQL, through the same code as `manage.py erp_sync`.

    .venv/bin/python -m bench.sync [--orders 100000] [--updates 1000]

(a) initial mirror of --orders ERP orders (10 items and 3 installments each): orders/s;
(b) a no-op re-sync of all of them; (c) follow latency over --updates ERP updates, from commit
to visible in the portal's tables, with `erp_sync --follow` running as its own process and
beside it a task worker (`db_worker` at nice 10, as `make run` starts it) rendering the PDF of
each changed proposal; (d) CPU of that follower and worker while the ERP is idle.
`--mirror-only` stops after (b).

The initial mirror also reports the CPU seconds of this process and of its PostgreSQL backend:
on a shared 2-core machine they vary far less than the wall time.
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

SEED_SQL = """
INSERT INTO erp_cliente (empresa_id, nome, cpf_cnpj, email)
    SELECT 1, 'Cliente ' || g || ' Ltda', '11.222.333/0001-81', 'c' || g || '@bench.test'
    FROM generate_series(1, 2000) g;
INSERT INTO erp_pedido (empresa_id, cliente_id, numero, status, emitido_em, validade, vendedor,
    forma_pagamento, condicao_pagamento, valor_produtos, valor_total)
    SELECT 1, (SELECT min(id) FROM erp_cliente) + g % 2000, g, 'PRO', date '2026-10-01',
           date '2027-06-30', 'Mariana Souza', 'Boleto bancário', '3x', 3015.00, 3015.00
    FROM generate_series(1, {orders}) g;
INSERT INTO erp_pedido_item (pedido_id, sequencia, tipo, codigo, descricao, unidade, quantidade,
    valor_unitario, valor_total, informacoes)
    SELECT p.id, s, 'P', 'PRD-' || s, 'Compressor de ar modelo ' || s, 'UN', s, 301.50,
           301.50 * s, 'Entrega em 15 dias úteis'
    FROM erp_pedido p, generate_series(1, 10) s;
INSERT INTO erp_pedido_parcela (pedido_id, numero, vencimento, valor)
    SELECT p.id, n, date '2026-10-01' + 30 * n, 1005.00
    FROM erp_pedido p, generate_series(1, 3) n;
ANALYZE;
"""


def setup_django(db_url: str) -> None:
    os.environ.update(
        DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="portal.settings",
        SECRET_KEY="bench-" + "s" * 50,
        ERP_SYNC_RECONCILE_SECONDS="600",
    )
    import django

    django.setup()


def recreate_database(db_url: str) -> None:
    server, name = db_url.rsplit("/", 1)
    for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", f"{server}/postgres", "-qc", sql], check=True)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/portal_syncbench")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=int, default=20)
    parser.add_argument("--mirror-only", action="store_true", help="skip (c) and (d)")
    parser.add_argument(
        "--no-worker", action="store_true", help="(c) without the task worker, for comparison"
    )
    options = parser.parse_args()

    recreate_database(options.db_url)
    setup_django(options.db_url)
    from django.core.management import call_command
    from django.db import connection
    from django_scopes import scopes_disabled

    from erp_sync.mirror import erp_sync_tenant
    from portal.accounts.models import Tenant

    call_command("migrate", verbosity=0)
    call_command("erp_schema", "create", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL.format(orders=options.orders))
        # The seed's dirty pages are written now, not by a checkpoint during the measurement.
        cursor.execute("CHECKPOINT")
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    tenant = Tenant.objects.create(slug="bench", name="Bench", erp_company_id=1)

    with scopes_disabled():
        started, engine_cpu, pg_cpu = time.perf_counter(), time.process_time(), cpu_seconds(backend)
        stats = erp_sync_tenant(tenant=tenant)
        initial = time.perf_counter() - started
        engine_cpu = time.process_time() - engine_cpu
        pg_cpu = cpu_seconds(backend) - pg_cpu
        started = time.perf_counter()
        noop = erp_sync_tenant(tenant=tenant)
        noop_seconds = time.perf_counter() - started
    assert stats.orders_created == options.orders and noop.changed == 0
    shape = "(10 items + 3 installments)"
    print(f"\n{options.orders:,} orders × {shape}, PostgreSQL, {os.cpu_count()} cores")
    print("\n| measure | result |\n|---|---:|")
    print(f"| initial mirror | {initial:.1f} s = {options.orders / initial:,.0f} orders/s |")
    print(f"| initial mirror CPU: engine / PostgreSQL | {engine_cpu:.1f} s / {pg_cpu:.1f} s |")
    print(f"| no-op re-sync | {noop_seconds:.2f} s |")
    if not options.mirror_only:
        follow(connection, options)


def follow(connection, options) -> None:
    """(c) and (d): `manage.py erp_sync --follow` and a task worker, each its own process."""
    from django_scopes import scopes_disabled

    from proposals.models import ProposalDocument

    env = {**os.environ, "ERP_SYNC_POLL_SECONDS": "1", "REMINDERS_AT": "", "TASKS_PRUNE_AT": ""}
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        for command in (
            [sys.executable, "manage.py", "erp_sync", "--follow"],
            ["nice", "-n", "10", sys.executable, "manage.py", "db_worker"],
        )[: 1 if options.no_worker else 2]
    ]

    def cpu() -> float:
        return sum(cpu_seconds(process.pid) for process in processes)

    try:
        time.sleep(5)  # lock, LISTEN and its first full pass; the worker's start
        cpu_before = cpu()
        time.sleep(options.idle_seconds)
        idle_cpu = (cpu() - cpu_before) / options.idle_seconds

        latencies = []
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM erp_pedido ORDER BY id LIMIT %s", [options.updates])
            ids = [row[0] for row in cursor.fetchall()]
            for erp_id in ids:
                cursor.execute(
                    "UPDATE erp_pedido SET vendedor = vendedor || '.' WHERE id = %s "
                    "RETURNING versao",
                    [erp_id],
                )
                version = cursor.fetchone()[0]
                committed = time.perf_counter()  # autocommit: the UPDATE is committed here
                while True:
                    cursor.execute(
                        "SELECT erp_version FROM proposals_order WHERE erp_id = %s", [erp_id]
                    )
                    if cursor.fetchone()[0] == version:
                        break
                    time.sleep(0.0005)
                latencies.append((time.perf_counter() - committed) * 1000)
        with scopes_disabled():
            rendered = ProposalDocument.objects.count()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)

    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"| follow latency p50 ({options.updates} updates) | "
        f"{statistics.median(latencies):.1f} ms |"
    )
    print(f"| follow latency p99 | {p99:.1f} ms |")
    print(f"| PDFs rendered ahead during the updates | {rendered} |")
    print(f"| idle follower + worker CPU | {idle_cpu:.2%} of a core |")


if __name__ == "__main__":
    main()
