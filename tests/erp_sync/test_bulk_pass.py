"""Go-live is fast: the initial mirror leaves PostgreSQL's statistics current (issue 13)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django_scopes import scopes_disabled

from contracts.models import Contract
from erp_sync.mirror import SyncStats, mirror_analyze_after_bulk_pass
from erp_sync.models import ErpPedido
from proposals.models import Approval, Attachment, Decline, Installment, Order, OrderItem
from tests.erp_builders import erp_cliente, erp_pedido

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
