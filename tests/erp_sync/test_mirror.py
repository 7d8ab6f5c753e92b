"""The mirror: the ERP's customers and orders, as the customer will see them."""

import gc
import hashlib
from decimal import Decimal

import pytest
from django.db import OperationalError, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from contracts.models import Contract, ContractSigner
from erp_sync import mirror
from erp_sync.mirror import erp_sync_order, erp_sync_tenant
from erp_sync.models import (
    ErpCliente,
    ErpPedido,
    ErpPedidoContrato,
    ErpPedidoItem,
    ErpPedidoParcela,
)
from portal.accounts.models import Customer
from proposals.models import Attachment, Order, OrderSnapshot, StatusChange
from tests.conftest import HOST_A, host_client
from tests.erp_builders import erp_anexo, erp_cliente, erp_pedido
from tests.factories import UserFactory

WRITES = ("INSERT", "UPDATE", "DELETE")


def writes_during(callable_):
    with CaptureQueriesContext(connections["default"]) as queries:
        callable_()
    return [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith(WRITES)]


@pytest.fixture
def cliente(tenant_a):
    return erp_cliente(tenant_a.erp_company_id, nome="Metalúrgica Horizonte Ltda")


@pytest.mark.django_db
def test_first_pass_mirrors_customers_orders_items_and_installments(tenant_a, cliente):
    pedido = erp_pedido(cliente, 7001, items=3, parcelas=3, observacoes="Entrega na filial")

    stats = erp_sync_tenant(tenant=tenant_a)

    assert (stats.customers_created, stats.orders_created) == (1, 1)
    with scopes_disabled():
        customer = Customer.objects.get(tenant=tenant_a, erp_id=cliente.id)
        assert customer.name == "Metalúrgica Horizonte Ltda"
        order = Order.objects.get(tenant=tenant_a, number=7001)
        assert order.customer == customer
        assert (order.status, order.erp_version, order.notes) == (
            "PRO",
            pedido.versao,
            pedido.observacoes,
        )
        assert order.total == pedido.valor_total and isinstance(order.total, Decimal)
        assert order.issued_on == pedido.emitido_em
        items = list(order.items.all())
        assert [i.description for i in items] == [f"Item {n} do pedido 7001" for n in (1, 2, 3)]
        assert [i.notes for i in items] == [f"Observação do item {n}" for n in (1, 2, 3)]
        assert sum(i.total for i in items) == order.total
        assert sum(p.amount for p in order.installments.all()) == order.total
        assert order.installments.count() == 3


@pytest.mark.django_db
def test_second_pass_writes_nothing(tenant_a, cliente):
    erp_pedido(cliente, 7001, items=5, parcelas=4, contrato={"titulo": "Contrato"})
    erp_anexo(ErpPedido.objects.get(numero=7001), b"%PDF-1.4 especificacao")
    erp_sync_tenant(tenant=tenant_a)

    stats = None

    def second_pass():
        nonlocal stats
        stats = erp_sync_tenant(tenant=tenant_a)

    assert writes_during(second_pass) == []
    assert stats.changed == 0 and stats.orders_unchanged == 1


@pytest.mark.django_db
def test_a_changed_order_is_remirrored_alone_and_snapshotted(tenant_a, cliente):
    erp_pedido(cliente, 7001)
    erp_pedido(cliente, 7002)
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        first_version = Order.objects.get(number=7002).erp_version
    item = ErpPedidoItem.objects.filter(pedido__numero=7002).first()
    item.valor_unitario = Decimal("999.99")
    item.save()

    stats = erp_sync_tenant(tenant=tenant_a)

    assert (stats.orders_updated, stats.orders_unchanged) == (1, 1)
    with scopes_disabled():
        order = Order.objects.get(number=7002)
        assert order.items.get(erp_id=item.id).unit_price == Decimal("999.99")
        versions = OrderSnapshot.objects.filter(order=order).values_list("erp_version", flat=True)
        assert order.erp_version == ErpPedido.objects.get(numero=7002).versao > first_version
        assert sorted(versions) == [first_version, order.erp_version]
        assert OrderSnapshot.objects.filter(order__number=7001).count() == 1


@pytest.mark.django_db
def test_removed_item_installment_and_order_disappear(tenant_a, cliente):
    """Items and installments the ERP removed go; a removed order is only marked (evidence)."""
    erp_pedido(cliente, 7001, items=3, parcelas=3)
    erp_pedido(cliente, 7002)
    erp_sync_tenant(tenant=tenant_a)
    ErpPedidoItem.objects.filter(pedido__numero=7001, sequencia=3).delete()
    ErpPedidoParcela.objects.filter(pedido__numero=7001, numero=3).delete()
    ErpPedido.objects.filter(numero=7002).delete()

    stats = erp_sync_tenant(tenant=tenant_a)

    with scopes_disabled():
        order = Order.objects.get(number=7001)
        assert list(order.items.values_list("sequence", flat=True)) == [1, 2]
        assert list(order.installments.values_list("number", flat=True)) == [1, 2]
        assert Order.objects.get(number=7002).removed_at is not None
    assert stats.orders_deleted == 1


@pytest.mark.django_db
def test_status_timeline_records_every_status_seen(tenant_a, cliente):
    pedido = erp_pedido(cliente, 7001)
    erp_sync_tenant(tenant=tenant_a)
    for status in ("APR", "PED"):
        ErpPedido.objects.filter(id=pedido.id).update(status=status)
        erp_sync_order(tenant=tenant_a, erp_id=pedido.id)

    with scopes_disabled():
        timeline = StatusChange.objects.filter(order__number=7001).order_by("id")
        assert [(c.from_status, c.to_status) for c in timeline] == [
            ("", "PRO"),
            ("PRO", "APR"),
            ("APR", "PED"),
        ]
        assert Order.objects.get(number=7001).status == "PED"


@pytest.mark.django_db
def test_erp_attachment_stored_with_its_hash_and_portal_rows_ignored(tenant_a, cliente):
    pedido = erp_pedido(cliente, 7001)
    content = b"%PDF-1.4 desenho tecnico"
    erp_anexo(pedido, content, nome="desenho.pdf")
    erp_anexo(pedido, b"scan do cliente", origem="PORTAL", tipo="CONTRATO_ASSINADO")

    erp_sync_tenant(tenant=tenant_a)

    with scopes_disabled():
        attachment = Attachment.objects.get(order__number=7001)
    assert (attachment.name, attachment.size) == ("desenho.pdf", len(content))
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert "desenho" not in attachment.file.name
    with attachment.file.open("rb") as stored:
        assert stored.read() == content


@pytest.mark.django_db
def test_contract_and_signers_follow_the_erp(tenant_a, cliente):
    pedido = erp_pedido(
        cliente,
        7001,
        contrato={"titulo": "Contrato de locação", "assinatura": "DIGITAL"},
        signatarios=[
            ("Compras@Cliente.com.br", "PARTE"),
            ("testemunha@cliente.com.br", "TESTEMUNHA"),
        ],
    )
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        contract = Contract.objects.get(order__number=7001)
        assert (contract.title, contract.signature_mode) == ("Contrato de locação", "DIGITAL")
        assert sorted(ContractSigner.objects.values_list("email", "role")) == [
            ("compras@cliente.com.br", "PARTE"),
            ("testemunha@cliente.com.br", "TESTEMUNHA"),
        ]

    ErpPedidoContrato.objects.filter(pedido=pedido).delete()
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        assert not Contract.objects.filter(order__number=7001).exists()


@pytest.mark.django_db
def test_customer_deleted_in_the_erp_disappears_and_its_logins_stop(tenant_a, cliente):
    erp_pedido(cliente, 7001)
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        user = UserFactory(customer=Customer.objects.get(erp_id=cliente.id))

    ErpCliente.objects.filter(id=cliente.id).delete()
    stats = erp_sync_tenant(tenant=tenant_a)

    assert stats.customers_deleted == 1
    with scopes_disabled():
        assert Customer.objects.get(erp_id=cliente.id).removed_at is not None
        assert Order.objects.get(number=7001).removed_at is not None
        user.refresh_from_db()
    assert (user.is_active, user.customer) == (False, None)


@pytest.mark.django_db
def test_customer_deactivated_in_the_erp_is_inactive(tenant_a, cliente):
    erp_sync_tenant(tenant=tenant_a)
    ErpCliente.objects.filter(id=cliente.id).update(ativo=False)
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        assert Customer.objects.get(erp_id=cliente.id).is_active is False


@pytest.mark.django_db
def test_two_tenants_with_the_same_order_number_stay_apart(tenant_a, tenant_b):
    cliente_a = erp_cliente(tenant_a.erp_company_id, nome="Cliente A")
    cliente_b = erp_cliente(tenant_b.erp_company_id, nome="Cliente B")
    erp_pedido(cliente_a, 7001, vendedor="Vendedora Alfa")
    erp_pedido(cliente_b, 7001, vendedor="Vendedor Beta")

    erp_sync_tenant(tenant=tenant_a)
    erp_sync_tenant(tenant=tenant_b)

    with scopes_disabled():
        assert Order.objects.get(tenant=tenant_a, number=7001).salesperson == "Vendedora Alfa"
        assert Order.objects.get(tenant=tenant_b, number=7001).salesperson == "Vendedor Beta"
        assert Order.objects.get(tenant=tenant_b, number=7001).customer.name == "Cliente B"


@pytest.mark.django_db
def test_order_of_a_new_customer_mirrors_the_customer_first(tenant_a, cliente):
    pedido = erp_pedido(cliente, 7001)
    erp_sync_order(tenant=tenant_a, erp_id=pedido.id)
    with scopes_disabled():
        assert Order.objects.get(number=7001).customer.erp_id == cliente.id


@pytest.mark.django_db
@pytest.mark.parametrize("erp_change", ["deactivated", "deleted"])
def test_customer_gone_in_the_erp_loses_access_on_the_next_request(erp_change, tenant_a, user_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, 7001)
    erp_sync_tenant(tenant=tenant_a)
    client = host_client(HOST_A, user_a)
    detail = reverse("order_detail", args=[7001])
    assert client.get(detail).status_code == 200

    rows = ErpCliente.objects.filter(id=cliente.id)
    if erp_change == "deactivated":
        rows.update(ativo=False)
    else:
        rows.delete()
    erp_sync_tenant(tenant=tenant_a)

    response = client.get(detail)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_contract_added_then_changed_in_the_erp_follows(tenant_a, cliente):
    pedido = erp_pedido(cliente, 7001)
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        assert not Contract.objects.filter(order__number=7001).exists()

    ErpPedidoContrato.objects.create(pedido=pedido, titulo="Contrato v1", conteudo_html="<p>1</p>")
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        assert Contract.objects.get(order__number=7001).title == "Contrato v1"

    ErpPedidoContrato.objects.filter(pedido=pedido).update(
        titulo="Contrato v2", conteudo_html="<p>Cláusula nova</p>"
    )
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        contract = Contract.objects.get(order__number=7001)
        assert (contract.title, contract.content_html) == ("Contrato v2", "<p>Cláusula nova</p>")


@pytest.mark.django_db
def test_chunks_leave_the_garbage_collector_as_they_found_it(tenant_a, cliente, monkeypatch):
    """The engine pauses the cyclic collector per chunk; a failing chunk resumes it too."""
    erp_pedido(cliente, 7001)
    assert gc.isenabled()
    erp_sync_tenant(tenant=tenant_a)
    assert gc.isenabled()

    def failing_chunk(*args):
        assert not gc.isenabled()
        raise OperationalError("connection lost")  # ends the pass (one bad order would not)

    monkeypatch.setattr(mirror, "_write_chunk", failing_chunk)
    erp_pedido(cliente, 7002)
    with pytest.raises(OperationalError):
        erp_sync_tenant(tenant=tenant_a)
    assert gc.isenabled()

    gc.disable()
    try:
        with pytest.raises(OperationalError):
            erp_sync_tenant(tenant=tenant_a)
        assert not gc.isenabled()
    finally:
        gc.enable()
