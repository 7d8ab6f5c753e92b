"""A customer's journey in a real browser: log in, filter, open, approve; the ERP sees it."""

import re

import pytest
from django.urls import reverse

from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido
from portal.accounts.models import TenantDomain
from tests.e2e.conftest import log_in, screenshot
from tests.erp_builders import erp_cliente, erp_pedido


@pytest.fixture
def portal(live_server, tenant_a, user_a):
    """Tenant A served at alfa.localhost:<live server port>, with three ERP orders mirrored."""
    TenantDomain.objects.create(hostname="alfa.localhost", tenant=tenant_a)
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id, nome="Cliente Um")
    erp_pedido(cliente, 7001, status="PED")
    erp_pedido(cliente, 7002, status="CAN")
    erp_pedido(cliente, 7003, items=4, parcelas=3)
    erp_sync_tenant(tenant=tenant_a)
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://alfa.localhost:{port}"


@pytest.mark.django_db(transaction=True)
def test_customer_logs_in_filters_opens_and_approves(page, portal, user_a, password):
    log_in(page, portal, user_a.email, password)
    page.wait_for_url(portal + "/")
    assert "Cliente Um" in page.inner_text("body")
    screenshot(page, "painel")

    page.goto(portal + reverse("order_list") + "?status=PRO")
    rows = page.inner_text("main")
    assert "7003" in rows and "7001" not in rows and "7002" not in rows
    screenshot(page, "pedidos-filtrados")

    page.get_by_role("link", name=re.compile("VISUALIZAR", re.I)).first.click()
    page.wait_for_url(re.compile(r"/pedidos/7003/$"))
    detail = page.inner_text("main")
    assert "INFORMAÇÕES" in detail.upper()
    screenshot(page, "detalhe")

    page.get_by_role("link", name=re.compile("APROVAR PROPOSTA", re.I)).click()
    page.wait_for_url(re.compile(r"/pedidos/7003/aprovar/$"))
    screenshot(page, "confirmacao")
    page.get_by_role("button", name=re.compile("Confirmar aprovação", re.I)).click()
    page.wait_for_url(re.compile(r"/pedidos/7003/$"))

    assert "aprovada" in page.inner_text("body")
    screenshot(page, "aprovado")
    row = ErpPedido.objects.get(empresa_id=1, numero=7003)
    assert (row.status, row.aprovado_por) == ("APR", user_a.email)


@pytest.mark.django_db(transaction=True)
def test_phone_sized_screen_shows_the_order_without_horizontal_page_scroll(
    page, portal, user_a, password
):
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, portal, user_a.email, password)
    page.wait_for_url(portal + "/")
    page.goto(portal + reverse("order_detail", args=[7003]))
    screenshot(page, "detalhe-celular")
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 375, f"the page scrolls sideways on a phone ({page_width}px)"
