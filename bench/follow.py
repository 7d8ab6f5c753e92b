"""The follower's latency with many tenants: ERP commit → the portal's tables.

    .venv/bin/python -m bench.follow [--updates 1500] [--rate 20] [--reconcile-seconds 60]

On a `bench.seed` database (100 tenants, 1,000,000 orders), runs `manage.py erp_sync --follow`
as its own process with its periodic full reconcile as shipped, and updates --updates orders
picked at random over every tenant, --rate per second, one at a time, each from commit until
the portal's row has the new version. The run lasts longer than a reconcile period, so the
figures include the updates that arrive while a full pass is running. Prints p50, p99 and max.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.seed import django_env

ROOT = Path(__file__).resolve().parents[1]


UPDATE = (
    "UPDATE erp_pedido SET vendedor = vendedor || '.' WHERE id = %s RETURNING empresa_id, versao"
)


def wait_for_version(cursor, erp_id: int, company: int, version: int, seconds=60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        cursor.execute(
            "SELECT o.erp_version FROM proposals_order o JOIN accounts_tenant t "
            "ON t.id = o.tenant_id WHERE t.erp_company_id = %s AND o.erp_id = %s",
            [company, erp_id],
        )
        row = cursor.fetchone()
        if row and row[0] == version:
            return
        time.sleep(0.0005)
    raise RuntimeError(f"order {erp_id} not at version {version} after {seconds} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/portal_perf_bench")
    parser.add_argument("--updates", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=20, help="updates per second")
    parser.add_argument("--reconcile-seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=42)
    options = parser.parse_args()
    env = {
        **django_env(options.db_url),
        "ERP_SYNC_RECONCILE_SECONDS": str(options.reconcile_seconds),
    }

    with psycopg.connect(options.db_url, autocommit=True) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT count(*), count(DISTINCT empresa_id), max(id) FROM erp_pedido")
        orders, tenants, max_id = cursor.fetchone()
        picked = random.Random(options.seed).sample(range(1, max_id + 1), options.updates)
        follower = subprocess.Popen(
            [sys.executable, "manage.py", "erp_sync", "--follow"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        )
        latencies = []
        try:
            # Its first full pass is done once a change made now is mirrored.
            cursor.execute(UPDATE, [picked[0]])
            wait_for_version(cursor, picked[0], *cursor.fetchone(), seconds=600)
            started = time.monotonic()
            for n, erp_id in enumerate(picked[1:]):
                time.sleep(max(0.0, started + n / options.rate - time.monotonic()))
                cursor.execute(UPDATE, [erp_id])
                company, version = cursor.fetchone()
                committed = time.perf_counter()  # autocommit: committed here
                wait_for_version(cursor, erp_id, company, version)
                latencies.append((time.perf_counter() - committed) * 1000)
            elapsed = time.monotonic() - started
        finally:
            follower.terminate()
            follower.wait(30)

    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"\n{orders:,} orders over {tenants} tenants; {len(latencies)} updates in {elapsed:.0f} s "
        f"({options.rate:g}/s), full reconcile every {options.reconcile_seconds:g} s; "
        f"1-min load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"| follow latency | p50 {statistics.median(latencies):.1f} ms | p99 {p99:.1f} ms | "
        f"max {latencies[-1]:.1f} ms |"
    )


if __name__ == "__main__":
    main()
