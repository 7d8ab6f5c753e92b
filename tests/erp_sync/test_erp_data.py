"""ERP data as real ERPs write it: optional columns NULL, and now and then a malformed row.

NULL text reads as empty and a NULL amount as zero, on every page and document; a malformed
aggregate is skipped and listed on the staff's sync page, the rest of the pass goes through,
and the next pass takes it once the ERP is fixed.
"""

import io
import re
from html import unescape

import pytest
from django.db import connections
from django.urls import reverse
from django_scopes import scopes_disabled
from pypdf import PdfReader

from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido, SkippedRecord, SyncState
from erp_sync.router import erp_alias
from portal.accounts.models import Customer, User
from proposals.models import Attachment, Order
from tests.conftest import HOST_A, HOST_B, host_client
from tests.erp_builders import (
    erp_cliente,
    erp_cliente_sparse,
    erp_pedido,
    erp_pedido_sparse,
    erp_schema_relaxed,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# DESIGN.md, "Real ERPs leave optional columns NULL": the columns that may not be NULL.
REQUIRED = {
    "erp_cliente": {"id", "empresa_id", "nome", "versao", "atualizado_em"},
    "erp_pedido": {
        "id", "empresa_id", "cliente_id", "numero", "status", "emitido_em", "versao",
        "atualizado_em",
    },
    "erp_pedido_item": {
        "id", "pedido_id", "sequencia", "tipo", "descricao", "quantidade", "valor_unitario",
        "valor_total",
    },
    "erp_pedido_parcela": {"id", "pedido_id", "numero", "vencimento", "valor"},
    "erp_pedido_contrato": {"id", "pedido_id", "titulo", "assinatura", "atualizado_em"},
    "erp_contrato_signatario": {"id", "contrato_id", "email", "papel"},
    "erp_pedido_anexo": {"id", "pedido_id", "tipo", "nome", "mime", "conteudo", "origem"},
    "erp_portal_evento": {"id", "empresa_id", "tipo"},
}  # fmt: skip


def visible(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).replace("\xa0", " ")


def pdf_text(response) -> str:
    content = b"".join(response.streaming_content)
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages)).replace(
        "\xa0", " "
    )


@pytest.fixture
def staff_a(tenant_a):
    return UserFactory(customer=None, tenant=tenant_a, is_staff=True, email="equipe@alfa.com.br")


@pytest.fixture
def sparse_order(tenant_a, user_a):
    """The customer's order as an ERP that fills only what it must writes it, mirrored."""
    cliente = erp_cliente_sparse(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido_sparse(cliente, 7001, items=2, parcelas=1, contrato=True, anexo=b"%PDF-1.4 ficha")
    stats = erp_sync_tenant(tenant=tenant_a)
    assert stats.skipped == []
    return Order.objects.get(tenant=tenant_a, number=7001)


def test_every_optional_column_accepts_null_in_the_shipped_ddl():
    connection = connections[erp_alias()]
    with connection.cursor() as cursor:
        for table, required in REQUIRED.items():
            columns = connection.introspection.get_table_description(cursor, table)
            # The primary key is NOT NULL by definition (SQLite's introspection omits it).
            not_null = {column.name for column in columns if not column.null_ok} | {"id"}
            assert not_null == required, table


def test_null_text_reads_as_empty_and_null_amounts_as_zero(sparse_order):
    with scopes_disabled():
        order = sparse_order
        assert (order.salesperson, order.payment_method, order.payment_terms, order.notes) == (
            "",
            "",
            "",
            "",
        )
        assert order.total == order.discount == order.freight == order.products_total == 0
        item = order.items.get(sequence=1)
        assert (item.code, item.unit, item.notes, item.discount) == ("", "", "", 0)
        customer = order.customer
        assert (customer.cpf_cnpj, customer.email, customer.is_active) == ("", "", True)
        attachment = Attachment.objects.get(order=order)
        assert attachment.sha256 and attachment.created_at is not None
        assert order.contract.content_html == ""


def test_the_customer_reads_such_an_order_everywhere(sparse_order, client_a):
    detail = visible(client_a.get(reverse("order_detail", args=[7001])).content.decode())
    assert "Item sem detalhes 1" in detail and "Item sem detalhes 2" in detail
    assert "R$ 0,00" in detail  # the ERP's NULL total
    listing = visible(client_a.get(reverse("order_list")).content.decode())
    assert "7001" in listing and "R$ 0,00" in listing
    assert "7001" in visible(client_a.get(reverse("dashboard")).content.decode())

    proposal = pdf_text(client_a.get(reverse("proposal_pdf", args=[7001])))
    assert "Item sem detalhes 2" in proposal
    assert "Vendedor —" in proposal and "Total R$ 0,00" in proposal
    assert "Cliente Sem Cadastro Completo" in proposal

    contract = pdf_text(client_a.get(reverse("contract_download", args=[7001])))
    assert "Contrato sem texto" in contract
    assert "O ERP não enviou o texto deste contrato" in contract


def test_a_change_from_null_shows_in_the_comparison(tenant_a, user_a, client_a):
    cliente = erp_cliente_sparse(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    pedido = erp_pedido_sparse(cliente, 7001)
    erp_sync_tenant(tenant=tenant_a)
    seen = pedido.versao
    ErpPedido.objects.filter(id=pedido.id).update(
        vendedor="Carlos Lima", observacoes="Entregar na filial"
    )

    response = client_a.post(reverse("order_approve", args=[7001]), {"versao": seen})

    assert response["Location"].endswith(f"?comparar={seen}")
    page = visible(client_a.get(response["Location"]).content.decode())
    assert re.search(r"Vendedor — Carlos Lima", page)
    assert re.search(r"Observações — Entregar na filial", page)


def test_staff_read_such_an_order_in_admin(sparse_order, staff_a):
    client = host_client(HOST_A, staff_a)
    page = client.get(reverse("admin:proposals_order_change", args=[sparse_order.pk]))
    assert page.status_code == 200
    assert "Item sem detalhes 1" in page.content.decode()
    customer = client.get(
        reverse("admin:accounts_customer_change", args=[sparse_order.customer_id])
    )
    assert "Cliente Sem Cadastro Completo" in customer.content.decode()


# Malformed aggregates ----------------------------------------------------------------------


def sync_page(tenant) -> str:
    """The tenant's sync page as its staff read it in admin."""
    staff = User.objects.filter(tenant=tenant, is_staff=True).first() or UserFactory(
        customer=None, tenant=tenant, is_staff=True, email="equipe@alfa.com.br"
    )
    state = SyncState.objects.get(tenant=tenant)
    url = reverse("admin:erp_sync_syncstate_change", args=[state.pk])
    return visible(host_client(HOST_A, staff).get(url).content.decode())


def test_malformed_orders_are_skipped_and_listed_and_the_rest_goes_through(
    tenant_a, tenant_b, user_a, client_a
):
    with scopes_disabled():
        cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
        foreign = erp_cliente(tenant_b.erp_company_id, nome="Cliente de outra empresa")
        with erp_schema_relaxed():
            erp_pedido(cliente, 7001)
            unknown_status = erp_pedido(cliente, 7002, status="ORC")
            long_seller = erp_pedido(cliente, 7003, vendedor="V" * 150)
            no_customer = erp_pedido(foreign, 7004, empresa_id=tenant_a.erp_company_id)
            bad_date = erp_pedido(cliente, 7005)
            with connections[erp_alias()].cursor() as cursor:
                # A typo the ERP let through: no portal can read a date of year 20245.
                cursor.execute(
                    "UPDATE erp_pedido SET emitido_em = '20245-01-31' WHERE id = %s", [bad_date.id]
                )
            erp_pedido(cliente, 7006)

            stats = erp_sync_tenant(tenant=tenant_a)

            assert set(Order.objects.filter(tenant=tenant_a).values_list("number", flat=True)) == {
                7001,
                7006,
            }
            skipped = {skip.erp_id: skip.error for skip in stats.skipped}
            assert skipped.keys() == {
                unknown_status.id,
                long_seller.id,
                no_customer.id,
                bad_date.id,
            }
            records = {r.erp_id: r for r in SkippedRecord.objects.filter(tenant=tenant_a)}
            assert records.keys() == skipped.keys()
            page = sync_page(tenant_a)
            assert "4 registro(s) do ERP ignorado(s)" in page
            assert "Pedido 7002" in page and "status 'ORC' desconhecido" in page
            assert "vendedor com 150 caracteres (o portal guarda até 120)" in page
            assert f"o cliente {foreign.id} do pedido não está no ERP desta empresa" in page
            assert "Pedido 7005" in page
            assert client_a.get(reverse("order_detail", args=[7002])).status_code == 404

            # The ERP fixes two of them: the next pass takes them and forgets their records.
            ErpPedido.objects.filter(id=unknown_status.id).update(status="PRO")
            ErpPedido.objects.filter(id=long_seller.id).update(vendedor="Carlos Lima")
            first_seen = records[bad_date.id].first_seen_at

            erp_sync_tenant(tenant=tenant_a)

        assert client_a.get(reverse("order_detail", args=[7002])).status_code == 200
        assert Order.objects.get(tenant=tenant_a, number=7003).salesperson == "Carlos Lima"
        remaining = SkippedRecord.objects.filter(tenant=tenant_a)
        assert set(remaining.values_list("erp_id", flat=True)) == {no_customer.id, bad_date.id}
        again = remaining.get(erp_id=bad_date.id)
        assert again.first_seen_at == first_seen and again.last_seen_at > first_seen
        assert "2 registro(s) do ERP ignorado(s)" in sync_page(tenant_a)


def test_a_malformed_customer_is_skipped_with_its_orders(tenant_a):
    with scopes_disabled():
        with erp_schema_relaxed():
            good = erp_cliente(tenant_a.erp_company_id, nome="Cliente Bom")
            bad = erp_cliente(tenant_a.erp_company_id, nome="Cliente", email="x" * 250 + "@a.br")
            erp_pedido(good, 7001)
            erp_pedido(bad, 7002)

            stats = erp_sync_tenant(tenant=tenant_a)

        assert list(Customer.objects.filter(tenant=tenant_a).values_list("erp_id", flat=True)) == [
            good.id
        ]
        assert list(Order.objects.filter(tenant=tenant_a).values_list("number", flat=True)) == [
            7001
        ]
        assert {(s.kind, s.erp_id) for s in stats.skipped} >= {("cliente", bad.id)}
        page = sync_page(tenant_a)
        assert f"Cliente {bad.id} — Cliente" in page and "email com 255 caracteres" in page


@pytest.mark.parametrize(
    ("erp_value", "shown"),
    [("52998224725", "529.982.247-25"), ("529982247-00", "529982247-00")],
)
def test_the_erps_cpf_is_shown_formatted_when_valid_and_as_given_otherwise(
    erp_value, shown, tenant_a, user_a, client_a
):
    with scopes_disabled():
        cliente = erp_cliente(
            tenant_a.erp_company_id, id=user_a.customer.erp_id, cpf_cnpj=erp_value
        )
        erp_pedido(cliente, 7001)
        erp_sync_tenant(tenant=tenant_a)

        assert Customer.objects.get(erp_id=cliente.id).cpf_cnpj == erp_value  # mirrored as it is
        assert shown in visible(client_a.get(reverse("order_detail", args=[7001])).content.decode())
        assert shown in visible(client_a.get(reverse("dashboard")).content.decode())
        assert shown in pdf_text(client_a.get(reverse("proposal_pdf", args=[7001])))


def test_another_tenants_staff_never_see_its_skipped_rows(tenant_a, tenant_b):
    with erp_schema_relaxed():
        erp_pedido(erp_cliente(tenant_a.erp_company_id), 7002, status="ORC")
        erp_sync_tenant(tenant=tenant_a)
    state_a = SyncState.objects.get(tenant=tenant_a)
    staff_b = UserFactory(customer=None, tenant=tenant_b, is_staff=True, email="equipe@beta.br")
    client = host_client(HOST_B, staff_b)

    change = client.get(reverse("admin:erp_sync_syncstate_change", args=[state_a.pk]))
    listing = client.get(reverse("admin:erp_sync_syncstate_changelist"))

    assert change.status_code == 302  # the admin's "not found": back to its index
    assert "Pedido 7002" not in visible(client.get(change["Location"]).content.decode())
    assert tenant_a.name not in listing.content.decode()
