"""The follower's full pass hands over after each tenant: notifications wait for one tenant's
pass, not for the whole reconcile of every tenant."""

import pytest
from django_scopes import scopes_disabled

from erp_sync.follower import Follower
from proposals.models import Order
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = pytest.mark.django_db


def test_full_pass_hands_over_after_each_tenant_with_its_orders_mirrored(tenant_a, tenant_b):
    erp_pedido(erp_cliente(tenant_a.erp_company_id), 7001)
    erp_pedido(erp_cliente(tenant_b.erp_company_id), 8001)
    seen = []

    def between():
        with scopes_disabled():
            seen.append(sorted(Order.objects.values_list("number", flat=True)))

    Follower(tenant_slug=None, poll_seconds=1, reconcile_seconds=60).full_pass(between=between)

    assert seen == [[7001], [7001, 8001]]
