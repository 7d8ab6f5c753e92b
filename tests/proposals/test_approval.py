"""Approval: written through to the ERP's row, idempotent, refused when stale or not allowed."""

import datetime
import json
import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from contracts.models import Contract
from erp_sync.mirror import erp_sync_order, erp_sync_tenant
from erp_sync.models import ErpPedido, ErpPedidoItem, ErpPortalEvento
from erp_sync.router import erp_alias
from proposals.models import Approval, Order, OrderStatus, StatusChange
from proposals.services import ApprovalOutcome, order_approve
from tests.erp_builders import erp_cliente, erp_pedido

NUMBER = 7001


@pytest.fixture
def proposal(tenant_a, user_a):
    """A PRO order in the ERP for user_a's customer, mirrored into the portal."""
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id, nome="Cliente Um")
    erp_pedido(cliente, NUMBER, items=3, parcelas=3)
    erp_sync_tenant(tenant=tenant_a)
    return Order.objects.get(tenant=tenant_a, number=NUMBER)


def approve_url(order) -> str:
    return reverse("order_approve", args=[order.number])


def erp_row(order) -> ErpPedido:
    return ErpPedido.objects.get(id=order.erp_id)


@pytest.mark.django_db
def test_confirmation_page_summarises_total_and_installments(proposal, client_a):
    response = client_a.get(approve_url(proposal))
    body = response.content.decode()
    assert response.status_code == 200
    assert f'name="versao" value="{proposal.erp_version}"' in body
    assert "R$\u00a0" in body and "Confirmar aprovação" in body
    with scopes_disabled():
        for installment in proposal.installments.all():
            assert installment.due_date.strftime("%d/%m/%Y") in body
    assert erp_row(proposal).status == "PRO"  # a GET approves nothing


@pytest.mark.django_db
def test_approval_reaches_the_erp_row_with_event_and_evidence(proposal, client_a, user_a):
    seen = proposal.erp_version
    response = client_a.post(
        approve_url(proposal), {"versao": seen}, HTTP_USER_AGENT="Navegador de teste/1.0"
    )

    assert response.status_code == 303
    assert response["Location"] == reverse("order_detail", args=[NUMBER])
    row = erp_row(proposal)
    assert (row.status, row.aprovado_por, row.versao) == ("APR", user_a.email, seen + 1)
    assert row.aprovado_em is not None
    event = ErpPortalEvento.objects.get(pedido_id=proposal.erp_id)
    assert event.tipo == "PROPOSTA_APROVADA"
    assert event.empresa_id == proposal.tenant.erp_company_id
    assert json.loads(event.dados) == {"email": user_a.email, "ip": "127.0.0.1", "versao": seen}
    with scopes_disabled():
        approval = Approval.objects.get(order=proposal)
        assert (approval.user, approval.order_version) == (user_a, seen)
        assert (approval.ip_address, approval.user_agent) == ("127.0.0.1", "Navegador de teste/1.0")
        proposal.refresh_from_db()
        assert proposal.status == OrderStatus.APPROVED
        assert proposal.erp_version == seen + 1
        timeline = StatusChange.objects.filter(order=proposal).values_list("to_status", flat=True)
        assert list(timeline) == ["PRO", "APR"]

    page = client_a.get(response["Location"]).content.decode()
    assert "Proposta 7001 aprovada. O pedido segue para faturamento." in page
    assert user_a.email in page


@pytest.mark.django_db
def test_double_submit_approves_once(proposal, client_a):
    data = {"versao": proposal.erp_version}
    first = client_a.post(approve_url(proposal), data, follow=True)
    second = client_a.post(approve_url(proposal), data, follow=True)

    with scopes_disabled():
        assert Approval.objects.filter(order=proposal).count() == 1
    assert ErpPortalEvento.objects.filter(pedido_id=proposal.erp_id).count() == 1
    assert erp_row(proposal).versao == proposal.erp_version + 1
    approved = "Proposta 7001 aprovada. O pedido segue para faturamento."
    assert approved in first.content.decode()
    assert "A proposta 7001 já estava aprovada." in second.content.decode()
    assert approved not in second.content.decode()


@pytest.mark.django_db
def test_stale_version_approves_nothing_and_shows_what_changed(proposal, client_a):
    seen = proposal.erp_version
    items = list(ErpPedidoItem.objects.filter(pedido_id=proposal.erp_id).order_by("sequencia"))
    first, last = items[0], items[-1]
    # The salesperson edits the proposal in the ERP while the customer has the page open.
    first.valor_unitario = Decimal("1999.90")
    first.valor_total = first.quantidade * first.valor_unitario
    first.save()
    last.delete()

    response = client_a.post(approve_url(proposal), {"versao": seen})

    assert response.status_code == 303
    assert response["Location"] == reverse("order_detail", args=[NUMBER]) + f"?comparar={seen}"
    assert erp_row(proposal).status == "PRO"
    assert not ErpPortalEvento.objects.exists()
    with scopes_disabled():
        assert not Approval.objects.exists()
        proposal.refresh_from_db()
        assert proposal.erp_version > seen  # re-mirrored
        assert proposal.items.count() == 2

    page = client_a.get(response["Location"]).content.decode()
    assert "alterada" in page
    assert "R$\u00a01.999,90" in page
    assert f"Item {last.sequencia} — {last.descricao}" in page
    assert "removido" in page


@pytest.mark.django_db
def test_seen_version_older_than_the_mirror_is_refused_without_touching_the_erp(proposal, user_a):
    with scope(tenant=proposal.tenant):  # as the request runs it
        result = order_approve(
            order=proposal,
            user=user_a,
            seen_version=proposal.erp_version - 1,
            remirror=erp_sync_order,
        )
    assert result.outcome == ApprovalOutcome.CHANGED
    assert erp_row(proposal).status == "PRO"


@pytest.mark.django_db
def test_approved_while_the_pdf_renders_says_already_approved(proposal, user_a):
    # The losing click of two: it read the order as PRO, then the other click approved it and
    # the mirror moved the order on (APR, a new version) before this one's PDF was rendered.
    with scope(tenant=proposal.tenant):
        stale = Order.objects.select_related("tenant", "contract").get(pk=proposal.pk)
    ErpPedido.objects.filter(id=proposal.erp_id).update(status="APR")
    erp_sync_tenant(tenant=proposal.tenant)

    with scope(tenant=proposal.tenant):
        result = order_approve(
            order=stale, user=user_a, seen_version=stale.erp_version, remirror=erp_sync_order
        )

    assert result.outcome == ApprovalOutcome.ALREADY_APPROVED
    with scopes_disabled():
        assert not Approval.objects.exists()


@pytest.mark.django_db
def test_cancelled_order_cannot_be_approved(tenant_a, user_a, client_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, NUMBER, status="CAN")
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        order = Order.objects.get(number=NUMBER)

    response = client_a.post(approve_url(order), {"versao": order.erp_version}, follow=True)

    assert "não está aberta para aprovação" in response.content.decode()
    assert erp_row(order).status == "CAN"
    with scopes_disabled():
        assert not Approval.objects.exists()


@pytest.mark.django_db
def test_expired_proposal_cannot_be_approved(tenant_a, user_a, client_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    erp_pedido(cliente, NUMBER, validade=yesterday)
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        order = Order.objects.get(number=NUMBER)

    detail = client_a.get(reverse("order_detail", args=[NUMBER])).content.decode()
    response = client_a.post(approve_url(order), {"versao": order.erp_version}, follow=True)

    expected = f"terminou em {yesterday.strftime('%d/%m/%Y')}"
    assert expected in detail
    assert expected in response.content.decode()
    assert erp_row(order).status == "PRO"


@pytest.mark.django_db
def test_proposal_valid_through_today_can_be_approved(tenant_a, user_a, client_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, NUMBER, validade=timezone.localdate())
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        order = Order.objects.get(number=NUMBER)

    client_a.post(approve_url(order), {"versao": order.erp_version})

    assert erp_row(order).status == "APR"


@pytest.mark.django_db
def test_unsigned_contract_blocks_approval_until_signed(tenant_a, user_a, client_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, NUMBER, contrato={"titulo": "Contrato de locação"})
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        order = Order.objects.get(number=NUMBER)
    detail_url = reverse("order_detail", args=[NUMBER])

    detail = client_a.get(detail_url).content.decode()
    refused = client_a.post(approve_url(order), {"versao": order.erp_version}, follow=True)

    assert "Envie o contrato assinado" in detail
    assert "Envie o contrato assinado" in refused.content.decode()
    assert erp_row(order).status == "PRO"

    with scopes_disabled():
        Contract.objects.filter(order=order).update(signed_at=timezone.now())
    client_a.post(approve_url(order), {"versao": order.erp_version})
    assert erp_row(order).status == "APR"


@pytest.mark.django_db
def test_missing_or_garbled_version_approves_nothing(proposal, client_a):
    for data in ({}, {"versao": "abc"}):
        response = client_a.post(approve_url(proposal), data)
        assert response.status_code == 303
    assert erp_row(proposal).status == "PRO"


@pytest.mark.django_db
def test_approve_endpoint_refuses_other_methods(proposal, client_a):
    assert client_a.put(approve_url(proposal)).status_code == 405
    assert client_a.delete(approve_url(proposal)).status_code == 405


def _in_thread(target, results, key, tenant):
    def run():
        try:
            with scope(tenant=tenant):  # as a request runs (scopes are per thread)
                results[key] = target()
        finally:
            for connection in connections.all():
                connection.close()

    return threading.Thread(target=run)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_approvals_make_exactly_one(proposal, user_a):
    barrier = threading.Barrier(2)
    results = {}

    def approve():
        order = Order.objects.select_related("tenant", "contract").get(pk=proposal.pk)
        barrier.wait()
        return order_approve(
            order=order, user=user_a, seen_version=order.erp_version, remirror=erp_sync_order
        )

    threads = [_in_thread(approve, results, n, proposal.tenant) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    outcomes = sorted(result.outcome for result in results.values())
    assert outcomes == [ApprovalOutcome.ALREADY_APPROVED, ApprovalOutcome.APPROVED]
    with scopes_disabled():
        assert Approval.objects.filter(order=proposal).count() == 1
    assert ErpPortalEvento.objects.filter(pedido_id=proposal.erp_id).count() == 1
    assert erp_row(proposal).versao == proposal.erp_version + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_erp_cancel_racing_an_approval_is_not_overwritten(proposal, user_a):
    """The ERP cancels (row locked, not yet committed) while the customer approves."""
    results = {}
    erp = connections.create_connection(erp_alias())
    try:
        with erp.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("UPDATE erp_pedido SET status = 'CAN' WHERE id = %s", [proposal.erp_id])

            def approve():
                order = Order.objects.select_related("tenant", "contract").get(pk=proposal.pk)
                return order_approve(
                    order=order,
                    user=user_a,
                    seen_version=order.erp_version,
                    remirror=erp_sync_order,
                )

            thread = _in_thread(approve, results, "approval", proposal.tenant)
            thread.start()
            thread.join(1.5)
            assert thread.is_alive(), "the approval must wait for the ERP's row lock"
            cursor.execute("COMMIT")
        thread.join(30)
    finally:
        erp.close()

    assert results["approval"].outcome == ApprovalOutcome.NOT_ALLOWED
    assert erp_row(proposal).status == "CAN"
    assert not ErpPortalEvento.objects.exists()
    with scopes_disabled():
        assert not Approval.objects.exists()
        assert Order.objects.get(pk=proposal.pk).status == OrderStatus.CANCELLED


@pytest.mark.django_db
def test_a_proposal_cancelled_while_confirming_says_it_was_cancelled(proposal, client_a):
    seen = proposal.erp_version
    ErpPedido.objects.filter(id=proposal.erp_id).update(status="CAN")
    erp_sync_tenant(tenant=proposal.tenant)  # the mirror saw it (a new version) meanwhile

    response = client_a.post(approve_url(proposal), {"versao": seen}, follow=True)

    body = response.content.decode()
    assert "A proposta 7001 foi cancelada pela empresa" in body
    assert "antes de aprovar novamente" not in body
    assert response.redirect_chain[-1][0] == reverse("order_detail", args=[NUMBER])
    with scopes_disabled():
        assert not Approval.objects.exists()
