"""Write rows into the ERP's tables, as the ERP would (through the unmanaged models).

    cliente = erp_cliente(1, nome="Cliente Um")
    pedido = erp_pedido(cliente, 7001, items=3, parcelas=2, contrato={"titulo": "Contrato"})

Totals are consistent: item totals add up to valor_produtos/valor_servicos, installments add up
to valor_total. The triggers bump versao as rows are written.
"""

import datetime
import hashlib
from decimal import Decimal

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
    pedido = ErpPedido.objects.create(
        empresa_id=cliente.empresa_id,
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
