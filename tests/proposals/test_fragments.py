"""The order page's items, payment and totals, and the rows of PAINEL and PEDIDOS, come from a
cache per ERP version, language and (rows) day (proposals.fragments): a new version, another
language, another day or a contract signed in the portal never shows what was cached before."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from contracts.models import Contract
from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido, ErpPedidoItem, ErpPedidoParcela
from portal import formats
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


def rows(client, url: str) -> list[str]:
    """The visible text of each row of the page's lists (PAINEL's two, PEDIDOS's one)."""
    html = client.get(url).content.decode()
    found = re.findall(r'<li class="actions-list__item">(.*?)</li>', html, re.S)
    found += re.findall(r"<tr>(.*?)</tr>", html, re.S)
    texts = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in found]
    return [text for text in texts if "7001" in text]


DASHBOARD, ORDERS = reverse("dashboard"), reverse("order_list")


def test_rows_show_a_new_erp_version(pedido, tenant_a, client_a):
    approve, latest = rows(client_a, DASHBOARD)  # rendered, and now cached
    total = formats.brl(pedido.valor_total).replace("\xa0", " ")
    assert approve.startswith(f"Aprovar a proposta nº 7001 {total}")
    assert "Proposta" in latest and "1ª" in latest and "2ª" in latest
    assert "Proposta" in rows(client_a, ORDERS)[0]

    ErpPedido.objects.filter(id=pedido.id).update(status="PED", valor_total=Decimal("999.99"))
    ErpPedidoParcela.objects.filter(pedido=pedido, numero=2).delete()
    erp_sync_tenant(tenant=tenant_a)

    (latest,) = rows(client_a, DASHBOARD)  # no longer awaiting action
    assert "Pedido" in latest and "R$ 999,99" in latest and "2ª" not in latest
    (listed,) = rows(client_a, ORDERS)
    assert "Pedido" in listed and "R$ 999,99" in listed and "Proposta" not in listed


def test_a_contract_signed_in_the_portal_turns_the_action_into_approving(tenant_a, user_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, 7001, contrato={"assinatura": "MANUAL"})
    erp_sync_tenant(tenant=tenant_a)
    client = host_client(HOST_A, user_a)
    assert rows(client, DASHBOARD)[0].startswith("Assinar o contrato do pedido nº 7001")

    with scopes_disabled():
        Contract.objects.filter(order__number=7001).update(signed_at=timezone.now())

    assert rows(client, DASHBOARD)[0].startswith("Aprovar a proposta nº 7001")


def test_the_validity_badge_follows_the_day(tenant_a, user_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    today = timezone.localdate()
    erp_pedido(cliente, 7001, validade=today + datetime.timedelta(days=2))
    erp_sync_tenant(tenant=tenant_a)
    assert "Vence em 2 dias" in rows(host_client(HOST_A, user_a), ORDERS)[0]

    noon_tomorrow = datetime.datetime.combine(
        today + datetime.timedelta(days=1), datetime.time(12), timezone.get_current_timezone()
    )
    with time_machine.travel(noon_tomorrow, tick=False):
        client = host_client(HOST_A, user_a)
        assert "Vence amanhã" in rows(client, ORDERS)[0]
        action, latest = rows(client, DASHBOARD)
        assert "Vence amanhã" in action and "Vence amanhã" in latest


def test_rows_in_each_language(pedido, user_a, client_a):
    english = UserFactory(customer=user_a.customer, email="en@clientealfa.com.br", language="en")
    assert "Aprovar a proposta" in rows(client_a, DASHBOARD)[0]

    action, latest = rows(host_client(HOST_A, english), DASHBOARD)

    assert action.startswith("Approve proposal no. 7001")
    assert "Proposal" in latest and "Proposta" not in latest


def test_a_cold_cache_renders_every_row_with_one_query_for_their_installments(
    tenant_a, user_a, client_a, django_assert_num_queries
):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    for numero in range(7001, 7013):
        erp_pedido(cliente, numero, parcelas=3)
    erp_sync_tenant(tenant=tenant_a)
    client_a.get(DASHBOARD)
    cache.clear()

    # the tenant, the session and the sync state (the cache is cold), the user, the proposals
    # awaiting action, the latest orders, and their installments
    with django_assert_num_queries(7):
        page = client_a.get(DASHBOARD).content.decode()

    assert page.count("3ª") == 10
