"""What the customer sees, in Chromium at 1280 and 375 px: the action-first PAINEL, declining a
proposal, an 80-item order on a phone, the reload offer after the ERP edits an open order, and
the admin in pt-BR. Every page gets axe-core (no serious or critical violation) and a
screenshot at both widths under var/screenshots (the path is printed)."""

import datetime
import io
import re

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido, ErpPortalEvento
from portal.accounts.models import TenantDomain
from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    assert_accessible,
    check_both_widths,
    log_in,
    screenshot,
)
from tests.erp_builders import erp_cliente, erp_pedido
from tests.factories import UserFactory

REASON = "O prazo de entrega não nos atende: precisamos do material em 20 dias."


def _logo() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (120, 40), "white")
    ImageDraw.Draw(image).rounded_rectangle((4, 4, 36, 36), radius=8, fill="#c0392b")
    ImageDraw.Draw(image).rectangle((44, 14, 112, 26), fill="#1f4e79")
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def portal(live_server, tenant_a, user_a):
    """Tenant A at alfa.localhost:<port> with a logo and the orders a customer meets."""
    TenantDomain.objects.create(hostname="alfa.localhost", tenant=tenant_a, is_primary=False)
    tenant_a.logo.save("alfa.png", ContentFile(_logo()))
    today = timezone.localdate()
    day = today - datetime.timedelta(days=40)
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id, nome="Cliente Um")
    approved_at = timezone.now() - datetime.timedelta(days=30)
    orders = [
        (7001, {"status": "PED", "aprovado_em": approved_at, "aprovado_por": user_a.email}),
        (7002, {"status": "CAN"}),
        (7003, {"status": "APR", "aprovado_em": approved_at, "aprovado_por": user_a.email}),
        (7004, {"validade": today + datetime.timedelta(days=3)}),
        (7005, {"contrato": {"titulo": "Contrato de fornecimento"}}),
        (7006, {"validade": today - datetime.timedelta(days=1)}),
        (7007, {"items": 80, "parcelas": 6}),
        (7008, {"items": 4, "parcelas": 3}),
    ]
    for n, (numero, fields) in enumerate(orders):
        fields.setdefault("emitido_em", day + datetime.timedelta(days=4 * n))
        erp_pedido(cliente, numero, **fields)
    erp_sync_tenant(tenant=tenant_a)
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://alfa.localhost:{port}"


def logged_in(page, portal, user_a, password):
    log_in(page, portal, user_a.email, password)
    page.wait_for_url(portal + "/")


@pytest.mark.django_db(transaction=True)
def test_painel_shows_what_awaits_the_customer_first(page, portal, user_a, password):
    logged_in(page, portal, user_a, password)

    headings = page.locator("main h2").all_inner_texts()
    assert headings[:2] == ["Aguardam sua ação", "Últimos pedidos"]
    actions = page.locator(".actions-list").inner_text()
    assert "Aprovar a proposta nº 7008" in actions
    assert "Assinar o contrato do pedido nº 7005" in actions
    assert "Vence em 3 dias" in actions  # 7004, with its deadline
    assert "7006" not in actions and "7003" not in actions  # expired; already approved
    # The nearest deadline first.
    assert actions.index("7004") < actions.index("7008")
    latest = page.locator("table").inner_text()
    assert "Vencida" in latest  # 7006, in every list
    rows = page.locator("table tbody th[scope=row]").all_inner_texts()
    assert rows[:3] == ["7008", "7007", "7006"]  # newest issue date first

    check_both_widths(page, "painel")
    page.set_viewport_size(PHONE)
    # On a phone the actions still come first, before the latest orders.
    first = page.locator("main section").first
    assert "Aguardam sua ação" in first.inner_text()


@pytest.mark.django_db(transaction=True)
def test_customer_declines_a_proposal_with_a_reason(page, portal, user_a, password):
    logged_in(page, portal, user_a, password)
    page.goto(portal + reverse("order_detail", args=[7008]))
    page.get_by_role("link", name="RECUSAR PROPOSTA").first.click()
    page.wait_for_url(re.compile(r"/pedidos/7008/recusar/$"))
    check_both_widths(page, "recusar")

    page.get_by_role("button", name="Confirmar recusa").click()  # no reason yet
    assert "Conte o motivo da recusa" in page.inner_text("main")
    assert not ErpPortalEvento.objects.exists()

    page.get_by_label("Por que você está recusando a proposta?").fill(REASON)
    page.get_by_role("button", name="Confirmar recusa").click()
    page.wait_for_url(re.compile(r"/pedidos/7008/$"))

    card = page.locator("section.approval").inner_text()
    assert f"Proposta recusada por {user_a.email}" in card and REASON in card
    assert page.get_by_role("link", name="APROVAR PROPOSTA").count() == 0
    event = ErpPortalEvento.objects.get()
    assert event.tipo == "PROPOSTA_RECUSADA" and REASON in event.dados
    assert ErpPedido.objects.get(numero=7008).status == "PRO"  # the ERP decides
    check_both_widths(page, "recusada")


@pytest.mark.django_db(transaction=True)
def test_an_80_item_order_on_a_phone_stays_short_and_keeps_the_approval_at_hand(
    page, portal, user_a, password
):
    logged_in(page, portal, user_a, password)
    url = portal + reverse("order_detail", args=[7007])
    page.goto(url)
    desktop = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size(PHONE)
    page.goto(url)
    phone = page.evaluate("document.documentElement.scrollHeight")
    print(f"80 items: desktop {desktop}px, phone {phone}px ({phone / desktop:.2f}x)")
    assert phone <= 2.5 * desktop

    # Halfway down the items, the total and APROVAR PROPOSTA are still on screen.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
    bar = page.locator(".actionbar")
    box = bar.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"] + 1
    assert "APROVAR PROPOSTA" in bar.inner_text() and "R$" in bar.inner_text()
    screenshot(page, "pedido-80-itens-375-meio")

    # The rest of an item opens on tap.
    more = page.locator("tbody.item").first.locator(".item__more")
    assert not more.get_by_text("Observação do item 1").is_visible()
    more.locator("summary").click()
    assert more.get_by_text("Observação do item 1").is_visible()
    badge = page.locator("h1 .badge").first.bounding_box()
    assert badge["x"] + badge["width"] <= PHONE["width"]
    page.set_viewport_size(DESKTOP)
    check_both_widths(page, "pedido-80-itens", url)


@pytest.mark.django_db(transaction=True)
def test_an_open_order_offers_to_reload_when_the_erp_edits_it(page, portal, user_a, password):
    logged_in(page, portal, user_a, password)
    page.goto(portal + reverse("order_detail", args=[7008]))
    offer = page.locator("#acompanhar")
    assert not offer.is_visible()
    before = page.locator(".actionbar__total .money").inner_text()

    call_command("erp_demo", "edit", "7008")
    erp_sync_tenant(tenant=user_a.tenant)  # what the follower does within a second

    offer.wait_for(state="visible", timeout=15_000)
    assert "A empresa atualizou este pedido" in offer.inner_text()
    check_both_widths(page, "recarregar")
    page.get_by_role("link", name="Recarregar a página").click()
    page.wait_for_load_state()
    assert not page.locator("#acompanhar").is_visible()
    page.set_viewport_size(PHONE)
    after = page.locator(".actionbar__total .money").inner_text()
    assert after != before


@pytest.mark.django_db(transaction=True)
def test_every_customer_page_passes_axe_at_both_widths(page, portal, user_a, password):
    page.goto(portal + reverse("login"))
    check_both_widths(page, "entrar")
    page.goto(portal + reverse("password_reset"))
    check_both_widths(page, "esqueci-senha")

    logged_in(page, portal, user_a, password)
    pages = {
        "pedidos": reverse("order_list"),
        "pedidos-busca": reverse("order_list") + "?q=item+pedido&status=PRO",
        "pedido-aprovado": reverse("order_detail", args=[7003]),
        "pedido-contrato": reverse("order_detail", args=[7005]),
        "pedido-vencido": reverse("order_detail", args=[7006]),
        "aprovar": reverse("order_approve", args=[7008]),
        "contrato": reverse("contract_detail", args=[7005]),
        "alterar-senha": reverse("password_change"),
    }
    for name, path in pages.items():
        check_both_widths(page, name, portal + path)

    page.goto(portal + reverse("order_detail", args=[7006]))
    assert "Vencida" in page.locator("h1").inner_text()
    page.goto(portal + reverse("order_list"))
    assert page.locator("table").inner_text().count("Vencida") == 1


@pytest.mark.django_db(transaction=True)
def test_the_admin_staff_and_support_use_speaks_pt_br(page, portal, tenant_a, live_server):
    english = re.compile(
        r"object \(\d+\)|\bORDER\b|Access attempts?|Access logs?|\bAxes\b|Approval|Tenant\b|"
        r"\bAccounts\b"
    )
    staff = UserFactory(customer=None, tenant=tenant_a, is_staff=True, email="equipe@alfa.test")
    log_in(page, portal, staff.email, "s3nha-de-teste-Portal")
    page.wait_for_url(re.compile(r"/admin/$"))
    for name, path in {
        "admin-inicio": reverse("admin:index"),
        "admin-usuarios": reverse("admin:accounts_user_changelist"),
        "admin-novo-usuario": reverse("admin:accounts_user_add"),
        "admin-pedidos": reverse("admin:proposals_order_changelist"),
        "admin-aprovacoes": reverse("admin:proposals_approval_changelist"),
    }.items():
        check_both_widths(page, name, portal + path)
        assert not english.search(page.inner_text("body")), name

    support = UserFactory(
        customer=None, tenant=None, is_staff=True, is_superuser=True, email="suporte@fornec.test"
    )
    port = live_server.url.rsplit(":", 1)[1]
    support_url = f"http://{settings.SUPPORT_HOST}:{port}"
    page.context.clear_cookies()
    log_in(page, support_url, support.email, "s3nha-de-teste-Portal")
    page.wait_for_url(re.compile(r"/admin/$"))
    for name, path in {
        "suporte-inicio": reverse("admin:index"),
        "suporte-empresa": reverse("admin:accounts_tenant_change", args=[tenant_a.pk]),
        "suporte-tentativas": reverse("admin:axes_accessattempt_changelist"),
    }.items():
        check_both_widths(page, name, support_url + path)
        assert not english.search(page.inner_text("body")), name
    assert_accessible(page, "suporte-tentativas@final")
