"""A notification re-mirrors one aggregate: its cost does not grow with the tenant's history."""

import datetime

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from erp_sync.follower import Follower
from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido
from erp_sync.router import erp_alias
from proposals.models import Order
from tests.erp_builders import erp_cliente, erp_pedido

HISTORY = 10_000


def queries_of(callable_) -> int:
    aliases = {"default", erp_alias()}
    contexts = [CaptureQueriesContext(connections[alias]) for alias in aliases]
    for context in contexts:
        context.__enter__()
    try:
        callable_()
    finally:
        for context in contexts:
            context.__exit__(None, None, None)
    return sum(len(context.captured_queries) for context in contexts)


@pytest.mark.django_db
def test_a_notification_costs_the_same_on_a_tenant_of_10000_orders(tenant_a, tenant_b):
    big = erp_cliente(tenant_a.erp_company_id)
    ErpPedido.objects.bulk_create(
        ErpPedido(
            empresa_id=tenant_a.erp_company_id,
            cliente=big,
            numero=n,
            status="PRO",
            emitido_em=datetime.date(2026, 10, 1),
        )
        for n in range(1, HISTORY + 1)
    )
    changed_big = erp_pedido(big, HISTORY + 1, items=3, parcelas=2)
    changed_small = erp_pedido(erp_cliente(tenant_b.erp_company_id), 1, items=3, parcelas=2)
    erp_sync_tenant(tenant=tenant_a)
    erp_sync_tenant(tenant=tenant_b)
    with scopes_disabled():
        assert Order.objects.filter(tenant=tenant_a).count() == HISTORY + 1
    for pedido in (changed_big, changed_small):
        ErpPedido.objects.filter(id=pedido.id).update(status="PED")

    follower = Follower(tenant_slug=None, poll_seconds=1, reconcile_seconds=60)
    on_big = queries_of(
        lambda: follower.apply({f"pedido:{tenant_a.erp_company_id}:{changed_big.id}"})
    )
    on_small = queries_of(
        lambda: follower.apply({f"pedido:{tenant_b.erp_company_id}:{changed_small.id}"})
    )

    with scopes_disabled():
        assert Order.objects.get(tenant=tenant_a, number=HISTORY + 1).status == "PED"
    assert on_big == on_small
    assert on_big <= 30, f"{on_big} queries for one notification"
