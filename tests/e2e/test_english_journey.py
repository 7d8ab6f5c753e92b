"""The portal in English, end to end in Chromium: the switch on the login page (no login yet),
then PAINEL, PEDIDOS, an order, the approval confirmation and the decline page, all in English,
with money and dates still Brazilian. axe-core and screenshots at 1280 and 375 px, like the
pt-BR journeys (var/screenshots/en-*.png)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from erp_sync.mirror import erp_sync_tenant
from portal.accounts.models import TenantDomain, User
from tests.e2e.conftest import check_both_widths
from tests.erp_builders import erp_cliente, erp_pedido

BRL = re.compile(r"R\$\u00a0\d{1,3}(\.\d{3})*,\d{2}")
DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")


@pytest.fixture
def portal(live_server, tenant_a, user_a):
    TenantDomain.objects.create(hostname="alfa.localhost", tenant=tenant_a, is_primary=False)
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id, nome="Cliente Um")
    erp_pedido(
        cliente,
        7201,
        items=4,
        parcelas=3,
        emitido_em=datetime.date(2026, 3, 2),
        validade=timezone.localdate() + datetime.timedelta(days=5),
    )
    erp_pedido(cliente, 7200, status="PED", emitido_em=datetime.date(2026, 2, 10))
    erp_sync_tenant(tenant=tenant_a)
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://alfa.localhost:{port}"


def main_text(page) -> str:
    return page.inner_text("main")


@pytest.mark.django_db(transaction=True)
def test_the_portal_in_english_from_the_login_page(page, portal, user_a, password):
    page.goto(portal + reverse("login"))
    assert page.locator("html").get_attribute("lang") == "pt-br"
    page.get_by_role("button", name="English").click()

    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.get_by_role("heading", name="Log in").is_visible()
    check_both_widths(page, "en-login")
    page.get_by_label("E-mail").fill(user_a.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(portal + "/")

    # PAINEL
    headings = page.locator("main h2").all_inner_texts()
    assert headings[:2] == ["Awaiting your action", "Latest orders"]
    actions = page.locator(".actions-list").inner_text()
    assert "Approve proposal no. 7201" in actions and "Expires in 5 days" in actions
    assert "issued on 02/03/2026" in actions and BRL.search(actions)
    assert page.get_by_role("navigation", name="Main menu").inner_text().split() == [
        "Dashboard",
        "Orders",
    ]
    check_both_widths(page, "en-painel")
    with scopes_disabled():
        assert User.objects.get(pk=user_a.pk).language == "en"  # the choice made before login

    # PEDIDOS
    page.get_by_role("link", name="Orders", exact=True).first.click()
    page.wait_for_url(re.compile(r"/pedidos/$"))
    listing = main_text(page)
    assert "FILTERS" in listing
    rows = page.locator("table tbody tr").all_inner_texts()
    assert "Proposal" in rows[0] and "Order" in rows[1]  # 7201 (PRO), 7200 (PED)
    assert "10/02/2026" in listing and BRL.search(listing)
    check_both_widths(page, "en-pedidos")

    # The order
    page.get_by_role("link", name=re.compile(r"VIEW\s+order 7201")).click()
    page.wait_for_url(re.compile(r"/pedidos/7201/$"))
    detail = main_text(page)
    for label in ("Order no. 7201", "Order details", "Items", "Totals", "Payment", "History"):
        assert label in detail, label
    assert "02/03/2026" in detail
    assert "PDF, in Portuguese" in detail  # the proposal PDF is the pt-BR document of record
    assert len(DATE.findall(detail)) >= 4 and BRL.search(detail)
    check_both_widths(page, "en-pedido")

    # Approval confirmation, then back, then the decline page
    page.get_by_role("link", name="APPROVE PROPOSAL").first.click()
    page.wait_for_url(re.compile(r"/pedidos/7201/aprovar/$"))
    confirm = main_text(page)
    assert "Confirm approval of proposal no. 7201" in confirm
    assert "By confirming, you approve this proposal" in confirm and BRL.search(confirm)
    assert page.get_by_role("button", name="Confirm approval").is_visible()
    check_both_widths(page, "en-aprovar")

    page.goto(portal + reverse("order_detail", args=[7201]))
    page.get_by_role("link", name="DECLINE PROPOSAL").first.click()
    page.wait_for_url(re.compile(r"/pedidos/7201/recusar/$"))
    assert "Decline proposal no. 7201" in main_text(page)
    page.get_by_role("button", name="Confirm decline").click()  # no reason yet
    assert "Tell us why you are declining" in main_text(page)
    check_both_widths(page, "en-recusar")

    # And back to Portuguese from the footer, for this user too
    page.get_by_role("button", name="Português (Brasil)").click()
    page.wait_for_function("document.documentElement.lang === 'pt-br'")
    assert "Recusar a proposta nº 7201" in main_text(page)
