"""The order page's items, payment and totals come from a cache per ERP version and language
(proposals.fragments): a new version, or another language, never shows what was cached before."""

from decimal import Decimal

import pytest
from django.urls import reverse

from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido, ErpPedidoItem
from tests.conftest import HOST_A, host_client
from tests.erp_builders import erp_cliente, erp_pedido
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pedido(tenant_a, user_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id, nome="Cliente Um")
    pedido = erp_pedido(cliente, 7001, items=2, parcelas=2)
    erp_sync_tenant(tenant=tenant_a)
    return pedido


def detail(client) -> str:
    return client.get(reverse("order_detail", args=[7001])).content.decode()


def test_a_new_erp_version_shows_its_own_items(pedido, tenant_a, client_a):
    assert "Item 2 do pedido 7001" in detail(client_a)  # rendered, and now cached

    item = ErpPedidoItem.objects.get(pedido=pedido, sequencia=1)
    item.descricao, item.valor_unitario = "Compressor de ar revisado", Decimal("1999.90")
    item.valor_total = item.quantidade * item.valor_unitario
    item.save()
    ErpPedidoItem.objects.filter(pedido=pedido, sequencia=2).delete()
    erp_sync_tenant(tenant=tenant_a)

    page = detail(client_a)
    assert "Compressor de ar revisado" in page and "R$\u00a01.999,90" in page
    assert "Item 2 do pedido 7001" not in page
    assert ErpPedido.objects.get(id=pedido.id).versao > pedido.versao


def test_each_language_gets_its_own_rendering(pedido, user_a, client_a):
    english = UserFactory(customer=user_a.customer, email="en@clientealfa.com.br", language="en")
    assert "Valor unit." in detail(client_a)

    page = detail(host_client(HOST_A, english))

    assert "Unit price" in page and "Valor unit." not in page
