"""The timeline and the approval card use the ERP's own dates (`aprovado_em`/`aprovado_por`);
the first mirror of an order never stamps its history with the moment of that mirror."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from erp_sync.mirror import erp_sync_order, erp_sync_tenant
from erp_sync.models import ErpPedido
from portal import formats
from proposals.models import Order, StatusChange
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = pytest.mark.django_db

ISSUED = datetime.date(2026, 2, 10)
APPROVED_AT = datetime.datetime(2026, 2, 12, 17, 40, tzinfo=datetime.UTC)  # 14:40 in São Paulo


@pytest.fixture
def cliente(tenant_a, user_a):
    return erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)


def timeline(client, number) -> str:
    html = client.get(reverse("order_detail", args=[number])).content.decode()
    start = html.index('class="timeline">') + len('class="timeline">')
    part = html[start : html.index("</ol>", start)]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", part)).strip()


def approval_card(client, number) -> str:
    html = client.get(reverse("order_detail", args=[number])).content.decode()
    part = html[
        html.index('id="aprovacao"') : html.index("</section>", html.index('id="aprovacao"'))
    ]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", part)).strip()


def test_an_order_approved_in_the_erp_shows_the_erps_approval(tenant_a, cliente, client_a):
    erp_pedido(
        cliente,
        7001,
        status="APR",
        emitido_em=ISSUED,
        aprovado_em=APPROVED_AT,
        aprovado_por="diretoria@cliente.com.br",
    )
    erp_sync_tenant(tenant=tenant_a)  # go-live: the first mirror, today

    with scopes_disabled():
        change = StatusChange.objects.get(order__number=7001)
    assert change.changed_at == APPROVED_AT
    assert "Aprovado por diretoria@cliente.com.br em 12/02/2026 14:40" in approval_card(
        client_a, 7001
    )
    history = timeline(client_a, 7001)
    assert history == (
        "Proposta 10/02/2026 "
        "Aprovado — aguardando faturamento 12/02/2026 14:40 por diretoria@cliente.com.br"
    )
    assert formats.date_br(timezone.localdate()) not in history


def test_a_first_mirror_dates_a_proposal_by_its_issue_never_by_the_mirror(
    tenant_a, cliente, client_a
):
    erp_pedido(cliente, 7001, emitido_em=ISSUED)
    erp_sync_tenant(tenant=tenant_a)

    with scopes_disabled():
        change = StatusChange.objects.get(order__number=7001)
    assert timezone.localtime(change.changed_at).date() == ISSUED
    assert timeline(client_a, 7001) == "Proposta 10/02/2026"


def test_an_order_found_past_approval_shows_what_the_erp_knows_and_no_invented_date(
    tenant_a, cliente, client_a
):
    erp_pedido(
        cliente,
        7001,
        status="PED",
        emitido_em=ISSUED,
        aprovado_em=APPROVED_AT,
        aprovado_por="diretoria@cliente.com.br",
    )
    erp_sync_tenant(tenant=tenant_a)

    assert timeline(client_a, 7001) == (
        "Proposta 10/02/2026 "
        "Aprovado — aguardando faturamento 12/02/2026 14:40 por diretoria@cliente.com.br "
        "Pedido"
    )


def test_changes_seen_later_keep_their_moments_and_an_erp_approval_its_own(
    tenant_a, cliente, client_a
):
    pedido = erp_pedido(cliente, 7001, emitido_em=ISSUED)
    erp_sync_tenant(tenant=tenant_a)
    ErpPedido.objects.filter(id=pedido.id).update(
        status="APR", aprovado_em=APPROVED_AT, aprovado_por="diretoria@cliente.com.br"
    )
    erp_sync_order(tenant=tenant_a, erp_id=pedido.id)
    ErpPedido.objects.filter(id=pedido.id).update(status="PED")
    erp_sync_order(tenant=tenant_a, erp_id=pedido.id)

    with scopes_disabled():
        order = Order.objects.get(number=7001)
        changes = list(StatusChange.objects.filter(order=order).order_by("id"))
    assert [(c.from_status, c.to_status) for c in changes] == [
        ("", "PRO"),
        ("PRO", "APR"),
        ("APR", "PED"),
    ]
    assert changes[1].changed_at == APPROVED_AT
    assert changes[2].changed_at == order.erp_updated_at
    moved = formats.datetime_br(order.erp_updated_at)
    assert timeline(client_a, 7001) == (
        "Proposta 10/02/2026 "
        "Aprovado — aguardando faturamento 12/02/2026 14:40 por diretoria@cliente.com.br "
        f"Pedido {moved}"
    )
