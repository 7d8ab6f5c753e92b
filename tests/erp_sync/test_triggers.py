"""The ERP schema's triggers: one change, one bump of the order's versao, on both databases.

SQLite's row triggers must not fire each other into a second bump (an UPDATE of a contract used
to bump its order twice: the stamp trigger fired the update trigger again), whatever
`PRAGMA recursive_triggers` says. The repeated triggers are generated from one list
(erp_sync/schema.py) and the shipped files must be what that list makes.
"""

import datetime

import pytest
from django.db import connections

from erp_sync.models import ErpCliente, ErpPedido, ErpPedidoContrato
from erp_sync.router import erp_alias
from erp_sync.schema import GENERATORS, schema_path, schema_with_current_triggers
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = pytest.mark.django_db

# A child table: the INSERT that adds a row to the order, and an UPDATE of that row.
CHILDREN = {
    "erp_pedido_item": (
        "(pedido_id, sequencia, tipo, descricao, quantidade, valor_unitario, valor_total) "
        "VALUES (%(pedido)s, 9, 'P', 'Item novo', 1, 10, 10)",
        "descricao = 'Item alterado'",
    ),
    "erp_pedido_parcela": (
        "(pedido_id, numero, vencimento, valor) VALUES (%(pedido)s, 9, '2026-12-01', 10)",
        "valor = 20",
    ),
    "erp_pedido_contrato": (
        "(pedido_id, titulo, assinatura) VALUES (%(pedido)s, 'Contrato', 'MANUAL')",
        "titulo = 'Contrato v2'",
    ),
    "erp_contrato_signatario": (
        "(contrato_id, email, papel) VALUES (%(contrato)s, 'assina@cliente.com.br', 'PARTE')",
        "papel = 'TESTEMUNHA'",
    ),
    "erp_pedido_anexo": (
        "(pedido_id, tipo, nome, mime, conteudo, sha256, origem) "
        "VALUES (%(pedido)s, 'OUTRO', 'ficha.pdf', 'application/pdf', %(conteudo)s, NULL, 'ERP')",
        "nome = 'ficha-v2.pdf'",
    ),
}


def pytest_generate_tests(metafunc):
    """On SQLite, each trigger test runs with recursive triggers off (its default) and on."""
    if "recursive_triggers" in metafunc.fixturenames:
        sqlite = connections[erp_alias()].vendor == "sqlite"
        settings = ["off", "on"] if sqlite else ["postgresql"]
        metafunc.parametrize("recursive_triggers", settings, indirect=True)


@pytest.fixture
def recursive_triggers(request):
    connection = connections[erp_alias()]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA recursive_triggers = {request.param}")
        try:
            yield
        finally:
            cursor.execute("PRAGMA recursive_triggers = off")


def run(sql: str, params=None):
    with connections[erp_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if sql.lstrip().upper().startswith("INSERT") else None


def version(pedido: ErpPedido) -> tuple[int, datetime.datetime]:
    return ErpPedido.objects.values_list("versao", "atualizado_em").get(id=pedido.id)


def bumps(pedido: ErpPedido, sql: str, params=None):
    """(versao after - versao before, whether atualizado_em moved, what the statement returned)."""
    if connections[erp_alias()].vendor == "sqlite":
        # Its stamps have millisecond resolution: start from an old one to see it move. (An
        # UPDATE of atualizado_em alone fires no trigger there.)
        run(
            "UPDATE erp_pedido SET atualizado_em = '2000-01-01 00:00:00.000' WHERE id = %s",
            [pedido.id],
        )
    before, stamped = version(pedido)
    returned = run(sql, params)
    after, restamped = version(pedido)
    return after - before, restamped > stamped, returned


@pytest.mark.parametrize("table", CHILDREN)
def test_one_change_to_a_child_row_is_one_bump(table, tenant_a, recursive_triggers):
    pedido = erp_pedido(erp_cliente(tenant_a.erp_company_id), 7001, items=1, parcelas=1)
    contrato = None
    if table == "erp_contrato_signatario":
        contrato = ErpPedidoContrato.objects.create(pedido=pedido, titulo="Contrato")
    values, change = CHILDREN[table]
    params = {"pedido": pedido.id, "contrato": contrato and contrato.id, "conteudo": b"%PDF-1.4"}

    inserted = bumps(pedido, f"INSERT INTO {table} {values} RETURNING id", params)
    (row_id,) = inserted[2]
    updated = bumps(pedido, f"UPDATE {table} SET {change} WHERE id = %s", [row_id])
    deleted = bumps(pedido, f"DELETE FROM {table} WHERE id = %s", [row_id])

    assert [result[:2] for result in (inserted, updated, deleted)] == [(1, True)] * 3


def test_the_portals_own_uploads_bump_nothing(tenant_a, recursive_triggers):
    pedido = erp_pedido(erp_cliente(tenant_a.erp_company_id), 7001)
    insert = (
        "INSERT INTO erp_pedido_anexo (pedido_id, tipo, nome, mime, conteudo, sha256, origem) "
        "VALUES (%s, 'CONTRATO_ASSINADO', 'scan.pdf', 'application/pdf', %s, 'x', 'PORTAL') "
        "RETURNING id"
    )
    inserted = bumps(pedido, insert, [pedido.id, b"%PDF-1.4"])
    (row_id,) = inserted[2]
    updated = bumps(pedido, "UPDATE erp_pedido_anexo SET nome = 'v2.pdf' WHERE id = %s", [row_id])
    deleted = bumps(pedido, "DELETE FROM erp_pedido_anexo WHERE id = %s", [row_id])
    assert [result[:2] for result in (inserted, updated, deleted)] == [(0, False)] * 3


def test_a_change_to_the_order_or_customer_bumps_it_once(tenant_a, recursive_triggers):
    cliente = erp_cliente(tenant_a.erp_company_id)
    pedido = erp_pedido(cliente, 7001)

    assert bumps(pedido, "UPDATE erp_pedido SET vendedor = 'Carlos' WHERE id = %s", [pedido.id])[
        :2
    ] == (1, True)
    # A writer that moves versao itself (the portal's approval) is not bumped again.
    approve = "UPDATE erp_pedido SET status = 'APR', versao = versao + 1 WHERE id = %s"
    assert bumps(pedido, approve, [pedido.id])[:2] == (1, True)

    run(
        "UPDATE erp_cliente SET atualizado_em = '2000-01-01 00:00:00.000' WHERE id = %s",
        [cliente.id],
    )
    before = ErpCliente.objects.get(id=cliente.id)
    run("UPDATE erp_cliente SET email = 'novo@cliente.com.br' WHERE id = %s", [cliente.id])
    after = ErpCliente.objects.get(id=cliente.id)
    assert (after.versao - before.versao, after.atualizado_em > before.atualizado_em) == (1, True)


def test_a_contract_change_stamps_the_contract_once(tenant_a, recursive_triggers):
    pedido = erp_pedido(erp_cliente(tenant_a.erp_company_id), 7001, contrato={"titulo": "C"})
    run("UPDATE erp_pedido_contrato SET atualizado_em = '2000-01-01 00:00:00.000'")
    contrato = ErpPedidoContrato.objects.get(pedido=pedido)
    pedido.refresh_from_db()

    run("UPDATE erp_pedido_contrato SET titulo = 'C2' WHERE id = %s", [contrato.id])

    assert ErpPedidoContrato.objects.get(id=contrato.id).atualizado_em > contrato.atualizado_em
    assert ErpPedido.objects.get(id=pedido.id).versao == pedido.versao + 1


@pytest.mark.parametrize("vendor", GENERATORS)
def test_the_shipped_schema_has_the_triggers_the_list_makes(vendor):
    assert schema_path(vendor).read_text() == schema_with_current_triggers(vendor), (
        f"{schema_path(vendor)} is out of date: run `manage.py erp_schema generate`"
    )
