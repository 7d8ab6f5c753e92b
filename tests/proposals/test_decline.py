"""RECUSAR PROPOSTA: a reason is required, a confirmation step, a PROPOSTA_RECUSADA event for
the ERP (which decides what happens), and the detail page says who declined, when and why."""

import json
import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from erp_sync.mirror import erp_sync_order, erp_sync_tenant
from erp_sync.models import ErpPedido, ErpPedidoItem, ErpPortalEvento
from portal import formats
from proposals.models import Decline, Order, OrderStatus
from proposals.services import DeclineOutcome, order_decline
from tests.erp_builders import erp_cliente, erp_pedido

NUMBER = 7001
REASON = "O prazo de entrega de 45 dias não nos atende; precisamos em 20."


@pytest.fixture
def proposal(tenant_a, user_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id, nome="Cliente Um")
    erp_pedido(cliente, NUMBER, items=3, parcelas=2)
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        return Order.objects.get(tenant=tenant_a, number=NUMBER)


def decline_url(order) -> str:
    return reverse("order_decline", args=[order.number])


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.django_db
def test_detail_offers_recusar_proposta_and_get_is_the_confirmation_step(proposal, client_a):
    detail = client_a.get(reverse("order_detail", args=[NUMBER])).content.decode()
    assert f'href="{decline_url(proposal)}">RECUSAR PROPOSTA' in detail

    response = client_a.get(decline_url(proposal))
    html = response.content.decode()

    assert response.status_code == 200
    assert "Recusar a proposta nº 7001" in html and "Confirmar recusa" in html
    assert 'name="motivo"' in html and f'name="versao" value="{proposal.erp_version}"' in html
    assert not ErpPortalEvento.objects.exists()  # a GET declines nothing
    with scopes_disabled():
        assert not Decline.objects.exists()


@pytest.mark.django_db
def test_decline_without_a_reason_is_refused_and_loses_nothing(proposal, client_a):
    response = client_a.post(decline_url(proposal), {"motivo": "   ", "versao": 1})

    assert response.status_code == 400
    assert "Conte o motivo da recusa" in response.content.decode()
    with scopes_disabled():
        assert not ErpPortalEvento.objects.exists() and not Decline.objects.exists()


@pytest.mark.django_db
def test_decline_writes_the_event_for_the_erp_and_the_detail_shows_it(proposal, client_a, user_a):
    seen = proposal.erp_version
    response = client_a.post(
        decline_url(proposal),
        {"motivo": f"  {REASON}  ", "versao": seen},
        HTTP_USER_AGENT="Navegador de teste/1.0",
    )

    assert response.status_code == 303
    assert response["Location"] == reverse("order_detail", args=[NUMBER])
    event = ErpPortalEvento.objects.get()
    assert (event.tipo, event.empresa_id, event.pedido_id) == (
        "PROPOSTA_RECUSADA",
        proposal.tenant.erp_company_id,
        proposal.erp_id,
    )
    assert json.loads(event.dados) == {
        "reason": REASON,
        "email": user_a.email,
        "ip": "127.0.0.1",
        "versao": seen,
    }
    row = ErpPedido.objects.get(id=proposal.erp_id)
    assert (row.status, row.versao) == ("PRO", seen)  # the ERP decides what happens next
    with scopes_disabled():
        decline = Decline.objects.select_related("user").get()
    assert (decline.user, decline.order_version, decline.reason) == (user_a, seen, REASON)
    assert decline.user_agent == "Navegador de teste/1.0"

    page = client_a.get(response["Location"]).content.decode()
    body = text(page)
    assert "Proposta 7001 recusada. A empresa recebeu o seu motivo." in body
    when = formats.datetime_br(decline.declined_at)
    assert f"Proposta recusada por {user_a.email} em {when}." in body
    assert f"Motivo: {REASON}" in body
    assert "Pedido nº 7001 Proposta Recusada" in body  # the heading's badges
    assert "Proposta — recusada; a empresa decide o próximo passo" in body
    assert "APROVAR PROPOSTA" not in page and "RECUSAR PROPOSTA" not in page


@pytest.mark.django_db
def test_declining_twice_records_one_decline(proposal, client_a):
    data = {"motivo": REASON, "versao": proposal.erp_version}
    client_a.post(decline_url(proposal), data)
    again = client_a.post(decline_url(proposal), data, follow=True)

    with scopes_disabled():
        assert Decline.objects.count() == 1 and ErpPortalEvento.objects.count() == 1
    assert "Você já recusou esta proposta." in again.content.decode()


@pytest.mark.django_db
def test_a_declined_proposal_cannot_be_approved_until_the_erp_sends_a_new_version(
    proposal, client_a, tenant_a
):
    client_a.post(decline_url(proposal), {"motivo": REASON, "versao": proposal.erp_version})
    refused = client_a.post(
        reverse("order_approve", args=[NUMBER]), {"versao": proposal.erp_version}, follow=True
    )
    assert "Você recusou esta proposta" in refused.content.decode()
    assert ErpPedido.objects.get(id=proposal.erp_id).status == "PRO"

    # The salesperson answers with a new version: it can be approved (or declined) again.
    item = ErpPedidoItem.objects.filter(pedido_id=proposal.erp_id).first()
    item.valor_unitario = item.valor_unitario - 10
    item.save()
    erp_sync_tenant(tenant=tenant_a)
    page = client_a.get(reverse("order_detail", args=[NUMBER])).content.decode()
    assert "APROVAR PROPOSTA" in page and "RECUSAR PROPOSTA" in page
    assert "Proposta recusada" in page  # the earlier decline stays in the history


@pytest.mark.django_db
def test_a_stale_version_declines_nothing_and_shows_what_changed(proposal, client_a, tenant_a):
    seen = proposal.erp_version
    ErpPedido.objects.filter(id=proposal.erp_id).update(observacoes="Frete incluso")
    erp_sync_tenant(tenant=tenant_a)

    response = client_a.post(decline_url(proposal), {"motivo": REASON, "versao": seen})

    assert response["Location"] == reverse("order_detail", args=[NUMBER]) + f"?comparar={seen}"
    with scopes_disabled():
        assert not ErpPortalEvento.objects.exists() and not Decline.objects.exists()


@pytest.mark.django_db
def test_an_order_the_erp_moved_on_cannot_be_declined(proposal, client_a):
    with scopes_disabled():
        Order.objects.filter(pk=proposal.pk).update(status=OrderStatus.ORDER)

    response = client_a.post(
        decline_url(proposal), {"motivo": REASON, "versao": proposal.erp_version}, follow=True
    )

    assert "Só uma proposta em aberto pode ser recusada." in response.content.decode()
    assert not ErpPortalEvento.objects.exists()


@pytest.mark.django_db
def test_service_refuses_when_the_erp_row_changed_before_the_mirror_saw_it(proposal, user_a):
    ErpPedido.objects.filter(id=proposal.erp_id).update(status="CAN")

    with scopes_disabled():
        result = order_decline(
            order=proposal,
            user=user_a,
            reason=REASON,
            seen_version=proposal.erp_version,
            remirror=erp_sync_order,
        )

        assert result.outcome == DeclineOutcome.CHANGED
        assert not ErpPortalEvento.objects.exists()
        assert Order.objects.get(pk=proposal.pk).status == "CAN"  # re-mirrored at once


@pytest.mark.django_db
def test_decline_answers_405_to_other_methods(proposal, client_a):
    assert client_a.put(decline_url(proposal)).status_code == 405
