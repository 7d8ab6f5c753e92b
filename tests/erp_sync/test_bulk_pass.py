"""Go-live is fast: the initial mirror leaves PostgreSQL's statistics current (issue 13)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django_scopes import scopes_disabled

from contracts.models import Contract
from erp_sync.mirror import SyncStats, mirror_analyze_after_bulk_pass
from erp_sync.models import ErpPedido, SyncState
from proposals.models import Approval, Attachment, Decline, Installment, Order, OrderItem
from tests.erp_builders import erp_cliente, erp_pedido
from tests.factories import TenantFactory

# The order tables, and the tables the pages join them with (empty at go-live).
ORDER_TABLES = [
    model._meta.db_table
    for model in (Order, OrderItem, Installment, Contract, Attachment, Approval, Decline)
]


def analyzed() -> dict[str, tuple]:
    """Each order table: (last ANALYZE, rows changed since)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT relname, last_analyze, n_mod_since_analyze FROM pg_stat_user_tables "
            "WHERE relname = ANY(%s)",
            [ORDER_TABLES],
        )
        return {name: (when, changed) for name, when, changed in cursor.fetchall()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_erp_sync_leaves_the_order_tables_analyzed(tenant_a):
    cliente = erp_cliente(tenant_a.erp_company_id)
    for numero in range(7001, 7006):
        erp_pedido(cliente, numero, items=4, parcelas=3)
    before = analyzed()

    call_command("erp_sync", stdout=StringIO())

    after = analyzed()
    with scopes_disabled():
        assert Order.objects.count() == 5
    for table in ORDER_TABLES:
        when, changed = after[table]
        assert when is not None and when != before[table][0], table
        assert changed == 0, table

    # A later pass that changes one order in five hundred leaves it to autovacuum.
    assert not mirror_analyze_after_bulk_pass(
        stats=SyncStats(orders_updated=1, orders_unchanged=499)
    )
    first = after[Order._meta.db_table][0]
    ErpPedido.objects.filter(numero=7001).update(vendedor="Carlos Lima")
    call_command("erp_sync", stdout=StringIO())
    assert analyzed()[Order._meta.db_table][0] > first  # 1 of 5 orders: a fifth of the table


def mirrored_numbers() -> dict[str, list[int]]:
    with scopes_disabled():
        rows = Order.objects.values_list("tenant__slug", "number").order_by("tenant", "number")
        numbers: dict[str, list[int]] = {}
        for slug, number in rows:
            numbers.setdefault(slug, []).append(int(number))
        return numbers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_erp_sync_mirrors_tenants_in_parallel_processes(tenant_a, tenant_b):
    gama = TenantFactory(slug="gama", name="Gama Ltda", erp_company_id=3)
    for empresa, first in ((1, 7001), (2, 8001), (3, 9001)):
        cliente = erp_cliente(empresa)
        for numero in range(first, first + 3 + empresa):
            erp_pedido(cliente, numero, items=2, parcelas=2)
    out = StringIO()

    call_command("erp_sync", "--jobs", "3", stdout=out)

    assert mirrored_numbers() == {
        "alfa": [7001, 7002, 7003, 7004],
        "beta": [8001, 8002, 8003, 8004, 8005],
        "gama": [9001, 9002, 9003, 9004, 9005, 9006],
    }
    lines = sorted(out.getvalue().splitlines())
    assert lines == [
        "alfa: customers +1 ~0 -0; orders +4 ~0 -0 =0",
        "beta: customers +1 ~0 -0; orders +5 ~0 -0 =0",
        "gama: customers +1 ~0 -0; orders +6 ~0 -0 =0",
    ]
    with scopes_disabled():
        assert OrderItem.objects.filter(tenant=gama).count() == 12
        assert SyncState.objects.filter(first_pass_at__isnull=False).count() == 3


@pytest.mark.django_db
def test_erp_sync_in_an_open_transaction_mirrors_in_this_one(tenant_a, tenant_b):
    # Other processes could not see these rows: the command keeps to its own connection.
    erp_pedido(erp_cliente(1), 7001)
    erp_pedido(erp_cliente(2), 8001)

    call_command("erp_sync", "--jobs", "2", stdout=StringIO())

    assert mirrored_numbers() == {"alfa": [7001], "beta": [8001]}
