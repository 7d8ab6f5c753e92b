"""The ERP in a database of its own (ERP_DATABASE_URL) and that database unreachable.

Only the split layout has an ERP database that can be down while the portal's is up; the
one-database runs skip these with that reason (`make test-pg-split` runs them).
"""

from contextlib import contextmanager

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido, ErpPortalEvento
from proposals.models import Approval, Order
from tests.conftest import HOST_A
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = pytest.mark.skipif(
    "erp" not in connections, reason="needs the ERP in its own database (make test-pg-split)"
)


@contextmanager
def erp_unreachable():
    """Point the ERP alias at a port where nothing listens: a real refused connection."""
    erp = connections["erp"]
    port = erp.settings_dict["PORT"]
    erp.close()
    erp.settings_dict["PORT"] = 9  # discard: closed on this machine
    try:
        yield
    finally:
        erp.close()
        erp.settings_dict["PORT"] = port


@pytest.fixture
def proposal(tenant_a, user_a):
    erp_pedido(erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id), 7001)
    erp_sync_tenant(tenant=tenant_a)
    return Order.objects.get(number=7001)


@pytest.mark.django_db(transaction=True)
def test_pages_keep_serving_the_mirror_and_healthz_says_erp_down(proposal, client_a):
    with erp_unreachable():
        page = client_a.get(reverse("order_detail", args=[7001]))
        health = Client(HTTP_HOST=HOST_A).get("/healthz")

    assert page.status_code == 200 and "7001" in page.content.decode()
    assert (health.status_code, health.json()) == (200, {"db": "ok", "erp": "down"})


@pytest.mark.django_db(transaction=True)
def test_approving_with_the_erp_down_fails_clearly_and_writes_nothing(proposal, client_a):
    with erp_unreachable():
        response = client_a.post(
            reverse("order_approve", args=[7001]), {"versao": proposal.erp_version}, follow=True
        )

    assert "Nada foi aprovado" in response.content.decode()
    assert ErpPedido.objects.get(numero=7001).status == "PRO"
    assert not ErpPortalEvento.objects.exists()
    with scopes_disabled():
        assert not Approval.objects.exists()
        assert Order.objects.get(number=7001).status == "PRO"
