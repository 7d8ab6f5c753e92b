"""Write rows into the ERP's tables, as the ERP would (through the unmanaged models).

    cliente = erp_cliente(1, nome="Cliente Um")
    pedido = erp_pedido(cliente, 7001, items=3, parcelas=2, contrato={"titulo": "Contrato"})

Totals are consistent: item totals add up to valor_produtos/valor_servicos, installments add up
to valor_total. The triggers bump versao as rows are written.

Real ERPs leave optional columns NULL: `erp_cliente_sparse` and `erp_pedido_sparse` write only
the columns DESIGN.md lists as required. `erp_schema_relaxed()` makes the tables as lax as an
ERP that never installed our CHECKs and has wider columns than the portal.
"""

import datetime
import hashlib
from contextlib import contextmanager
from decimal import Decimal

from django.db import connections
from django.utils import timezone

from erp_sync.models import (
    ErpCliente,
    ErpContratoSignatario,
    ErpPedido,
    ErpPedidoAnexo,
    ErpPedidoContrato,
    ErpPedidoItem,
    ErpPedidoParcela,
)
from erp_sync.router import erp_alias

CENT = Decimal("0.01")


def erp_cliente(empresa_id: int, **fields) -> ErpCliente:
    fields.setdefault("nome", "Cliente de Teste Ltda")
    fields.setdefault("cpf_cnpj", "11.222.333/0001-81")
    fields.setdefault("email", "financeiro@cliente.com.br")
    return ErpCliente.objects.create(empresa_id=empresa_id, **fields)


def erp_pedido(
    cliente: ErpCliente,
    numero: int,
    *,
    status: str = "PRO",
    items: int = 2,
    parcelas: int = 2,
    contrato: dict | None = None,
    signatarios: list[tuple[str, str]] = (),
    **fields,
) -> ErpPedido:
    """An order with `items` items (with INFORMAÇÕES) and `parcelas` equal installments."""
    today = timezone.localdate()
    item_rows = [
        {
            "sequencia": n,
            "tipo": "P" if n % 3 else "S",
            "codigo": f"COD-{numero}-{n}",
            "descricao": f"Item {n} do pedido {numero}",
            "unidade": "UN",
            "quantidade": Decimal(n),
            "valor_unitario": Decimal("100.50") * n,
            "informacoes": f"Observação do item {n}",
        }
        for n in range(1, items + 1)
    ]
    for row in item_rows:
        row["valor_total"] = (row["quantidade"] * row["valor_unitario"]).quantize(CENT)
    produtos = sum((r["valor_total"] for r in item_rows if r["tipo"] == "P"), Decimal(0))
    servicos = sum((r["valor_total"] for r in item_rows if r["tipo"] == "S"), Decimal(0))
    fields.setdefault("emitido_em", today - datetime.timedelta(days=3))
    fields.setdefault("validade", today + datetime.timedelta(days=30))
    fields.setdefault("vendedor", "Mariana Souza")
    fields.setdefault("forma_pagamento", "Boleto bancário")
    fields.setdefault("condicao_pagamento", f"{parcelas}x")
    fields.setdefault("empresa_id", cliente.empresa_id)
    pedido = ErpPedido.objects.create(
        cliente=cliente,
        numero=numero,
        status=status,
        valor_produtos=produtos,
        valor_servicos=servicos,
        valor_total=produtos + servicos,
        **fields,
    )
    ErpPedidoItem.objects.bulk_create(ErpPedidoItem(pedido=pedido, **row) for row in item_rows)
    if parcelas:
        share = (pedido.valor_total / parcelas).quantize(CENT)
        values = [share] * (parcelas - 1) + [pedido.valor_total - share * (parcelas - 1)]
        ErpPedidoParcela.objects.bulk_create(
            ErpPedidoParcela(
                pedido=pedido,
                numero=n,
                vencimento=fields["emitido_em"] + datetime.timedelta(days=30 * n),
                valor=value,
            )
            for n, value in enumerate(values, start=1)
        )
    if contrato is not None:
        contrato = ErpPedidoContrato.objects.create(
            pedido=pedido,
            titulo=contrato.get("titulo", "Contrato de fornecimento"),
            conteudo_html=contrato.get("conteudo_html", "<h1>Contrato</h1><p>Cláusula 1.</p>"),
            arquivo=contrato.get("arquivo"),
            assinatura=contrato.get("assinatura", "MANUAL"),
        )
        for email, papel in signatarios:
            ErpContratoSignatario.objects.create(contrato=contrato, email=email, papel=papel)
    pedido.refresh_from_db()
    return pedido


def erp_anexo(pedido: ErpPedido, conteudo: bytes, *, origem: str = "ERP", **fields):
    fields.setdefault("tipo", "OUTRO")
    fields.setdefault("nome", "especificacao.pdf")
    fields.setdefault("mime", "application/pdf")
    return ErpPedidoAnexo.objects.create(
        pedido=pedido,
        conteudo=conteudo,
        sha256=hashlib.sha256(conteudo).hexdigest(),
        origem=origem,
        **fields,
    )


def erp_cliente_sparse(empresa_id: int, **fields) -> ErpCliente:
    """A customer with its name only: CPF/CNPJ, e-mail and ativo NULL."""
    fields.setdefault("nome", "Cliente Sem Cadastro Completo")
    for column in ("cpf_cnpj", "email", "ativo"):
        fields.setdefault(column, None)
    return ErpCliente.objects.create(empresa_id=empresa_id, **fields)


def erp_pedido_sparse(
    cliente: ErpCliente,
    numero: int,
    *,
    items: int = 2,
    parcelas: int = 1,
    contrato: bool = False,
    anexo: bytes | None = None,
    **fields,
) -> ErpPedido:
    """An order with only its required columns: seller, payment texts, notes, validity and
    every total NULL; items without code, unit, discount or INFORMAÇÕES; a contract (if asked)
    with neither HTML nor file; an attachment (if given) without sha256 or criado_em."""
    for column in (
        "validade", "vendedor", "forma_pagamento", "condicao_pagamento", "observacoes",
        "valor_produtos", "valor_servicos", "desconto", "frete", "valor_total",
    ):  # fmt: skip
        fields.setdefault(column, None)
    fields.setdefault("status", "PRO")
    fields.setdefault("emitido_em", timezone.localdate() - datetime.timedelta(days=1))
    pedido = ErpPedido.objects.create(
        empresa_id=cliente.empresa_id, cliente=cliente, numero=numero, **fields
    )
    ErpPedidoItem.objects.bulk_create(
        ErpPedidoItem(
            pedido=pedido,
            sequencia=n,
            tipo="P",
            codigo=None,
            descricao=f"Item sem detalhes {n}",
            unidade=None,
            quantidade=Decimal(n),
            valor_unitario=Decimal("10.00"),
            desconto=None,
            valor_total=Decimal("10.00") * n,
            informacoes=None,
        )
        for n in range(1, items + 1)
    )
    ErpPedidoParcela.objects.bulk_create(
        ErpPedidoParcela(
            pedido=pedido,
            numero=n,
            vencimento=fields["emitido_em"] + datetime.timedelta(days=30 * n),
            valor=Decimal("15.00"),
        )
        for n in range(1, parcelas + 1)
    )
    if contrato:
        ErpPedidoContrato.objects.create(
            pedido=pedido, titulo="Contrato sem texto", conteudo_html=None, arquivo=None
        )
    if anexo is not None:
        ErpPedidoAnexo.objects.create(
            pedido=pedido,
            tipo="OUTRO",
            nome="anexo-sem-hash.pdf",
            mime="application/pdf",
            conteudo=anexo,
            sha256=None,
            origem="ERP",
            criado_em=None,
        )
    pedido.refresh_from_db()
    return pedido


@contextmanager
def erp_schema_relaxed():
    """The ERP's tables as lax as a real ERP's may be: no CHECK on erp_pedido.status, and
    erp_pedido.vendedor and erp_cliente.email wider than the portal's columns. Only inside a
    test's transaction: PostgreSQL undoes the ALTERs with it; SQLite (which checks no length)
    has its CHECKs back on at the end."""
    connection = connections[erp_alias()]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            assert connection.in_atomic_block, "the ALTER must be rolled back with the test"
            cursor.execute(
                "ALTER TABLE erp_pedido DROP CONSTRAINT erp_pedido_status_check, "
                "ALTER COLUMN vendedor TYPE TEXT"
            )
            cursor.execute("ALTER TABLE erp_cliente ALTER COLUMN email TYPE TEXT")
            yield
            return
        cursor.execute("PRAGMA ignore_check_constraints = ON")
        try:
            yield
        finally:
            cursor.execute("PRAGMA ignore_check_constraints = OFF")
