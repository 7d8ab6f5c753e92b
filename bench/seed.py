"""Go-live data: an ERP loaded with many tenants' history, mirrored as an operator would.

    .venv/bin/python -m bench.seed [--scale 1] [--seed 42] [--db-url …/portal_perf_bench]

Recreates the database, writes the ERP's tables with SQL (100 tenants, 100,000 customers,
1,000,000 orders with 10 items and 3 installments each; tenant 1 holds 200,000 of them and its
customer 1 20,000), then runs `manage.py erp_sync` as its own process, as an operator does on
the first day, and reports its wall time in orders/s. Last, one login per customer, all with one
password hashed once. `--scale 0.01` is a hundredth of everything but the tenants (a quick check
of the tools). The same `--seed` gives the same data.

The logins (password `bench-senha-2026`): `c<erp id>@bench.test`; the heaviest customer is ERP
customer 1 on `t001.bench.localhost`, the typical one ERP customer `TYPICAL_CUSTOMER` on
`t002.bench.localhost`. Their newest orders carry 30 items (the detail page measured).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.load import psql

ROOT = Path(__file__).resolve().parents[1]
TENANTS = 100
PASSWORD = "bench-senha-2026"
HEAVY_CUSTOMER = 1
# The second customer of tenant 2: about as many orders as the median customer.
TYPICAL_CUSTOMER_OFFSET = 2
PRODUCTS = [
    "Compressor de ar 50 L 2 HP",
    "Furadeira de impacto 750 W",
    "Serra circular 7 1/4 pol",
    "Lixadeira orbital 300 W",
    "Esmerilhadeira angular 4 1/2 pol",
    "Parafusadeira a bateria 12 V",
    "Martelete rompedor 800 W",
    "Gerador a gasolina 3 kVA",
    "Motobomba centrífuga 1 CV",
    "Soldadora inversora 160 A",
    "Lavadora de alta pressão 1800 psi",
    "Escada de alumínio 7 degraus",
    "Betoneira 400 L",
    "Andaime tubular 1 m",
    "Manutenção preventiva mensal",
    "Instalação elétrica trifásica",
    "Calibração de manômetro",
    "Válvula solenoide 1/2 pol",
    "Mangueira pneumática 10 m",
    "Disco de corte diamantado",
]
# The text search measured: one product among the 20 above, in about 5% of the items.
SEARCH_TERM = "solenoide"


def django_env(db_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": "bench-" + "s" * 50,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }


def manage(db_url: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=django_env(db_url),
        check=True,
        stdout=subprocess.DEVNULL,  # a line per tenant
    )


def shape(scale: float) -> dict:
    customers_per_tenant = max(10, round(1000 * scale))
    orders = max(TENANTS * 50, round(1_000_000 * scale))
    return {
        "customers_per_tenant": customers_per_tenant,
        "orders": orders,
        "heavy_tenant_orders": orders // 5,
        # Every tenth order of the heavy tenant belongs to its customer 1.
        "heavy_customer_orders": orders // 50,
        "per_tenant": (orders - orders // 5) // (TENANTS - 1),
    }


def erp_seed_sql(seed: int, s: dict) -> str:
    """The ERP's rows, as a bulk load into an ERP would write them (no triggers, no notifies).

    Order g (1-based) belongs to tenant 1 while g ≤ heavy_tenant_orders, then to tenants 2…100 in
    equal runs; its number counts up within its tenant, so the newest have the highest.
    """
    heavy, per = s["heavy_tenant_orders"], s["per_tenant"]
    cpt = s["customers_per_tenant"]
    products = "ARRAY[" + ",".join(f"'{p}'" for p in PRODUCTS) + "]"
    return f"""
SET session_replication_role = replica;
SELECT setseed({(seed % 1000) / 1000});
INSERT INTO erp_cliente (id, empresa_id, nome, cpf_cnpj, email, ativo, versao, atualizado_em)
SELECT (t - 1) * {cpt} + c, t, 'Cliente ' || ((t - 1) * {cpt} + c) || ' Comércio Ltda',
       '11.222.333/0001-81', 'compras' || c || '@cliente.test', true, 1, now()
FROM generate_series(1, {TENANTS}) t, generate_series(1, {cpt}) c;

CREATE TEMP TABLE seed_orders AS
SELECT g AS id,
       CASE WHEN g <= {heavy} THEN 1 ELSE 2 + (g - {heavy} - 1) / {per} END AS tenant,
       CASE WHEN g <= {heavy} THEN g ELSE 1 + (g - {heavy} - 1) % {per} END AS numero
FROM generate_series(1, {heavy + per * (TENANTS - 1)}) g;

INSERT INTO erp_pedido (id, empresa_id, cliente_id, numero, status, emitido_em, validade,
    vendedor, forma_pagamento, condicao_pagamento, observacoes, valor_produtos, valor_servicos,
    desconto, frete, valor_total, versao, atualizado_em)
SELECT o.id, o.tenant,
       (o.tenant - 1) * {cpt} + CASE
           WHEN o.tenant = 1 AND o.numero % 10 = 0 THEN {HEAVY_CUSTOMER}
           WHEN o.tenant = 1 THEN 2 + floor(random() * ({cpt} - 1))::int
           ELSE 1 + floor(random() * {cpt})::int END,
       o.numero,
       (ARRAY['PRO','PRO','APR','PED','PED','PED','PED','PED','PED','CAN'])
           [1 + floor(random() * 10)::int],
       date '2023-01-02'
           + (o.numero * 1000 / CASE WHEN o.tenant = 1 THEN {heavy} ELSE {per} END)::int,
       date '2027-12-31',
       (ARRAY['Mariana Souza','Carlos Lima','Ana Reis','João Prado'])[1 + floor(random() * 4)::int],
       'Boleto bancário', '3x de 30 em 30 dias', 'Entregar no almoxarifado.',
       3015.00, 0, 0, 0, 3015.00, 1, now()
FROM seed_orders o;

INSERT INTO erp_pedido_item (pedido_id, sequencia, tipo, codigo, descricao, unidade, quantidade,
    valor_unitario, desconto, valor_total, informacoes)
SELECT pedido_id, s, CASE WHEN k BETWEEN 15 AND 17 THEN 'S' ELSE 'P' END, 'PRD-' || k,
       ({products})[k], 'UN', s, 301.50, 0, 301.50 * s,
       CASE WHEN s % 2 = 0 THEN 'Entrega em 15 dias úteis' ELSE '' END
FROM (SELECT p.id AS pedido_id, s, 1 + floor(random() * {len(PRODUCTS)})::int AS k
      FROM erp_pedido p, generate_series(1, 10) s) r;

INSERT INTO erp_pedido_parcela (pedido_id, numero, vencimento, valor)
SELECT p.id, n, p.emitido_em + 30 * n, 1005.00
FROM erp_pedido p, generate_series(1, 3) n;

-- The measured customers' newest orders: 30 items.
INSERT INTO erp_pedido_item (pedido_id, sequencia, tipo, codigo, descricao, unidade, quantidade,
    valor_unitario, desconto, valor_total, informacoes)
SELECT p.id, s, 'P', 'PRD-' || (1 + s % {len(PRODUCTS)}),
       ({products})[1 + s % {len(PRODUCTS)}], 'UN', s, 301.50, 0, 301.50 * s,
       'Entrega em 15 dias úteis'
FROM (SELECT max(id) AS id FROM erp_pedido
      WHERE cliente_id IN ({HEAVY_CUSTOMER}, {cpt} + {TYPICAL_CUSTOMER_OFFSET})
      GROUP BY cliente_id) p,
     generate_series(11, 30) s;

SELECT setval(pg_get_serial_sequence(t, 'id'), m) FROM (VALUES
    ('erp_cliente', (SELECT max(id) FROM erp_cliente)),
    ('erp_pedido', (SELECT max(id) FROM erp_pedido)),
    ('erp_pedido_item', (SELECT max(id) FROM erp_pedido_item)),
    ('erp_pedido_parcela', (SELECT max(id) FROM erp_pedido_parcela))) v(t, m);
"""


TENANTS_CODE = """
import django; django.setup()
from portal.accounts.models import Tenant, TenantDomain
tenants = Tenant.objects.bulk_create(
    Tenant(name=f"Empresa {n:03d} Ltda", slug=f"t{n:03d}", erp_company_id=n,
           legal_name=f"Empresa {n:03d} Máquinas Ltda", cnpj="12.345.678/0001-95",
           address="Rua das Flores, 100 — Curitiba/PR", phone="(41) 3333-4444",
           email=f"vendas@t{n:03d}.bench.localhost", display_name=f"Empresa {n:03d}")
    for n in range(1, {tenants} + 1)
)
TenantDomain.objects.bulk_create(
    TenantDomain(hostname=f"{t.slug}.bench.localhost", tenant=t, is_primary=True) for t in tenants
)
"""

USERS_CODE = """
import django; django.setup()
from django.contrib.auth.hashers import make_password
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute(
        "INSERT INTO accounts_user (password, is_superuser, tenant_id, email, name, customer_id, "
        "  is_active, is_staff, must_change_password, date_joined, language) "
        "SELECT %s, false, tenant_id, 'c' || erp_id || '@bench.test', name, id, true, false, "
        "  false, now(), '' FROM accounts_customer",
        [make_password({password!r})],
    )
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/portal_perf_bench")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    options = parser.parse_args()
    s = shape(options.scale)
    db_url = options.db_url
    server, name = db_url.rsplit("/", 1)
    psql(f"{server}/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f"{server}/postgres", f'CREATE DATABASE "{name}"')
    manage(db_url, "migrate", "--noinput", "-v", "0")
    manage(db_url, "erp_schema", "create", "-v", "0")
    env = django_env(db_url)
    subprocess.run(
        [sys.executable, "-c", TENANTS_CODE.replace("{tenants}", str(TENANTS))],
        cwd=ROOT,
        env=env,
        check=True,
    )

    started = time.monotonic()
    psql(db_url, erp_seed_sql(options.seed, s))
    # A loaded ERP has been vacuumed and analyzed long before go-live; its pages are on disk.
    psql(
        db_url,
        "VACUUM (ANALYZE) erp_cliente, erp_pedido, erp_pedido_item, erp_pedido_parcela",
    )
    psql(db_url, "CHECKPOINT")
    orders = int(psql(db_url, "SELECT count(*) FROM erp_pedido"))
    items = int(psql(db_url, "SELECT count(*) FROM erp_pedido_item"))
    print(f"ERP loaded: {orders:,} orders, {items:,} items in {time.monotonic() - started:.0f} s")

    started = time.monotonic()
    manage(db_url, "erp_sync")
    elapsed = time.monotonic() - started
    mirrored = int(psql(db_url, "SELECT count(*) FROM proposals_order"))
    assert mirrored == orders, f"{mirrored:,} of {orders:,} orders mirrored"
    print(
        f"manage.py erp_sync: {orders:,} orders in {elapsed:.1f} s = "
        f"{orders / elapsed:,.0f} orders/s"
    )
    subprocess.run(
        [sys.executable, "-c", USERS_CODE.replace("{password!r}", repr(PASSWORD))],
        cwd=ROOT,
        env=env,
        check=True,
    )
    typical = s["customers_per_tenant"] + TYPICAL_CUSTOMER_OFFSET
    counts = psql(
        db_url,
        "SELECT c.erp_id, count(o.id) FROM accounts_customer c JOIN proposals_order o "
        f"ON o.customer_id = c.id WHERE c.erp_id IN ({HEAVY_CUSTOMER}, {typical}) "
        "GROUP BY c.erp_id ORDER BY c.erp_id",
    )
    print("orders of the measured customers (erp id|orders):", counts.replace("\n", ", "))


if __name__ == "__main__":
    main()
