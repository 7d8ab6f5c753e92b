"""The demo ERP: two companies with Brazilian customers and orders, written into the erp_* tables.

Deterministic (seeded), so every demo looks the same. Used by `manage.py erp_demo seed`.
"""

import datetime
import hashlib
import io
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw
from weasyprint import HTML

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


@dataclass(frozen=True)
class DemoCompany:
    empresa_id: int
    first_number: int
    customers: list[tuple[str, str, str]]  # (name, e-mail, CNPJ)
    catalog: list[tuple[str, str, str, Decimal]]  # (kind P/S, description, unit, price)
    salespeople: list[str]


PRODUCTS_ALFA = [
    ("P", "Compressor de ar 50 L 2 HP", "UN", Decimal("2890.00")),
    ("P", "Furadeira de impacto 750 W", "UN", Decimal("459.90")),
    ("P", 'Serra circular 7 1/4" 1800 W', "UN", Decimal("789.00")),
    ("P", "Parafuso sextavado M10 x 50 (caixa com 100)", "CX", Decimal("84.50")),
    ("P", "Cabo PP 3 x 2,5 mm²", "M", Decimal("9.80")),
    ("P", "Chapa de aço carbono 3 mm", "KG", Decimal("12.35")),
    ("P", "Luva de vaqueta (par)", "PC", Decimal("18.90")),
    ("P", 'Disco de corte 7" para metal', "UN", Decimal("11.40")),
    ("S", "Instalação e configuração", "H", Decimal("180.00")),
    ("S", "Manutenção preventiva", "H", Decimal("150.00")),
    ("S", "Treinamento de operadores", "H", Decimal("220.00")),
]
SERVICES_BETA = [
    ("S", "Consultoria em processos fiscais", "H", Decimal("320.00")),
    ("S", "Implantação do módulo financeiro", "H", Decimal("260.00")),
    ("S", "Suporte técnico mensal", "UN", Decimal("1450.00")),
    ("S", "Migração de dados", "H", Decimal("210.00")),
    ("P", "Licença de uso anual — usuário adicional", "UN", Decimal("890.00")),
    ("P", "Certificado digital A1", "UN", Decimal("249.00")),
    ("P", "Leitor de código de barras", "UN", Decimal("389.90")),
]
NOTES = [
    "Entrega em 15 dias úteis",
    "Garantia de 12 meses contra defeitos de fabricação",
    "Inclui frete até o centro de distribuição",
    "Atendimento no local do cliente, horário comercial",
    "Valor sujeito a reajuste após a validade da proposta",
    "Cor conforme amostra aprovada",
    "",
]
PAYMENTS = [
    ("Boleto bancário", [1, 3, 6]),
    ("PIX", [1]),
    ("Cartão de crédito", [1, 10, 12]),
    ("Transferência bancária", [1, 2]),
]
OBSERVATIONS = [
    "",
    "Entregar no almoxarifado, portão 2.",
    "Pedido referente à ampliação da linha de produção.",
    "Faturar em nome da matriz.",
]

COMPANIES = [
    DemoCompany(
        empresa_id=1,
        first_number=7001,
        customers=[
            ("Metalúrgica Horizonte Ltda", "compras@horizonte.com.br", "31.415.926/0001-71"),
            ("Construtora Pedra Azul S.A.", "suprimentos@pedraazul.com.br", "27.182.818/0001-29"),
            ("Padaria Pão Dourado ME", "contato@paodourado.com.br", "16.180.339/0001-57"),
            (
                "Oficina Mecânica Irmãos Costa",
                "financeiro@irmaoscosta.com.br",
                "14.142.135/0001-04",
            ),
        ],
        catalog=PRODUCTS_ALFA,
        salespeople=["Mariana Souza", "Carlos Pereira", "Juliana Rocha"],
    ),
    DemoCompany(
        empresa_id=2,
        first_number=8001,
        customers=[
            ("Distribuidora Litoral Sul Ltda", "ti@litoralsul.com.br", "17.320.508/0001-70"),
            ("Clínica Bem Viver", "adm@bemviver.com.br", "22.360.679/0001-62"),
            ("Supermercado Boa Compra", "compras@boacompra.com.br", "26.457.513/0001-10"),
        ],
        catalog=SERVICES_BETA,
        salespeople=["Rafael Lima", "Patrícia Alves"],
    ),
]
ORDERS_PER_COMPANY = 30
CONTRACT_HTML = """<h1>{titulo}</h1>
<p>Pelo presente instrumento, {empresa} e {cliente} ajustam o fornecimento descrito na proposta
nº {numero}.</p>
<h2>Cláusula 1ª — Objeto</h2><p>Fornecimento dos itens e serviços relacionados na proposta.</p>
<h2>Cláusula 2ª — Preço e pagamento</h2><p>O valor total é o da proposta, pago nas parcelas e
vencimentos nela indicados.</p>
<h2>Cláusula 3ª — Prazo</h2><p>Entrega conforme os prazos de cada item.</p>
<h2>Cláusula 4ª — Foro</h2><p>Fica eleito o foro da comarca da sede da contratada.</p>
<style>.assinaturas td {{ width: 50%; padding: 3em 1em 0; text-align: center }}</style>
<p style="margin-top:2em">Local e data: ____________________, ____ de ____________ de ______.</p>
<table class="assinaturas" style="width:100%;margin-top:1em"><tr>
<td>____________________________<br>{empresa}<br>CONTRATADA</td>
<td>____________________________<br>{cliente}<br>CONTRATANTE</td>
</tr><tr>
<td>____________________________<br>Testemunha 1 — nome e CPF</td>
<td>____________________________<br>Testemunha 2 — nome e CPF</td>
</tr></table>"""
SPECIFICATION_HTML = """<h1 style="font-size:16pt">Especificação técnica — proposta nº {numero}</h1>
<p>Itens conforme a proposta, com as tolerâncias e normas abaixo.</p>
<ul><li>Normas: ABNT NBR ISO 9001.</li><li>Garantia: 12 meses.</li>
<li>Instalação: no local do cliente, em horário comercial.</li></ul>"""


def split_installments(total: Decimal, count: int) -> list[Decimal]:
    """Equal installments, the last one absorbing the rounding: they add up to `total`."""
    share = (total / count).quantize(CENT, rounding=ROUND_HALF_UP)
    return [share] * (count - 1) + [total - share * (count - 1)]


def demo_is_seeded() -> bool:
    return ErpPedido.objects.filter(empresa_id__in=[c.empresa_id for c in COMPANIES]).exists()


def _status_for(age: int) -> str:
    # The newest orders of each company are still open proposals, as in a real ERP. The older
    # open ones fall on the first customer's orders (7017 and 7005 among them: see seed()).
    if age < 12:
        return "PRO"
    return ["APR", "PRO", "PED", "CAN", "PED", "PED"][age % 6]


def _approved_at(issued: datetime.date, rng: random.Random) -> datetime.datetime:
    """A customer's approval one to three days after the issue, in business hours."""
    day = issued + datetime.timedelta(days=rng.randint(1, 3))
    moment = datetime.datetime.combine(day, datetime.time(rng.randint(9, 17), rng.randint(0, 59)))
    return timezone.make_aware(moment)


def _items(rng: random.Random, company: DemoCompany) -> list[dict]:
    rows = []
    for sequence in range(1, rng.randint(1, 15) + 1):
        kind, description, unit, price = rng.choice(company.catalog)
        quantity = (Decimal(rng.randint(1, 40)) / (4 if unit in ("M", "KG", "H") else 1)).quantize(
            Decimal("0.0001")
        )
        gross = (quantity * price).quantize(CENT)
        discount = (gross * Decimal(rng.choice([0, 0, 0, 5, 10])) / 100).quantize(CENT)
        rows.append(
            {
                "sequencia": sequence,
                "tipo": kind,
                "codigo": f"{'PRD' if kind == 'P' else 'SRV'}-{rng.randint(100, 999)}",
                "descricao": description,
                "unidade": unit,
                "quantidade": quantity,
                "valor_unitario": price,
                "desconto": discount,
                "valor_total": gross - discount,
                "informacoes": rng.choice(NOTES),
            }
        )
    return rows


def _order(rng, company, cliente, number, index, today) -> ErpPedido:
    items = _items(rng, company)
    produtos = sum((r["valor_total"] for r in items if r["tipo"] == "P"), Decimal(0))
    servicos = sum((r["valor_total"] for r in items if r["tipo"] == "S"), Decimal(0))
    desconto = ((produtos + servicos) * Decimal(rng.choice([0, 0, 3])) / 100).quantize(CENT)
    frete = Decimal(rng.choice([0, 0, 45, 120, 250]))
    total = produtos + servicos - desconto + frete
    # Numbers grow with their dates, like a real ERP's: the last number is the newest order.
    age = ORDERS_PER_COMPANY - 1 - index
    issued = today - datetime.timedelta(days=3 + age * 4)
    status = _status_for(age)
    expired = status == "PRO" and age in (10, 11)
    valid_until = (
        today - datetime.timedelta(days=2)
        if expired
        else today + datetime.timedelta(days=rng.randint(5, 45))
    )
    method, counts = rng.choice(PAYMENTS)
    count = rng.choice(counts)
    pedido = ErpPedido.objects.create(
        empresa_id=company.empresa_id,
        cliente=cliente,
        numero=number,
        status=status,
        emitido_em=issued,
        validade=valid_until,
        vendedor=rng.choice(company.salespeople),
        forma_pagamento=method,
        condicao_pagamento="À vista" if count == 1 else f"{count}x de 30 em 30 dias",
        observacoes=rng.choice(OBSERVATIONS),
        valor_produtos=produtos,
        valor_servicos=servicos,
        desconto=desconto,
        frete=frete,
        valor_total=total,
        aprovado_em=_approved_at(issued, rng) if status in ("APR", "PED") else None,
        aprovado_por=cliente.email if status in ("APR", "PED") else None,
    )
    ErpPedidoItem.objects.bulk_create(ErpPedidoItem(pedido=pedido, **row) for row in items)
    ErpPedidoParcela.objects.bulk_create(
        ErpPedidoParcela(
            pedido=pedido,
            numero=n,
            vencimento=issued + datetime.timedelta(days=30 * n),
            valor=value,
        )
        for n, value in enumerate(split_installments(total, count), start=1)
    )
    return pedido


def _contract(pedido: ErpPedido, company_name: str, mode: str, signer: str | None) -> None:
    titulo = "Contrato de fornecimento" if mode == "MANUAL" else "Contrato de prestação de serviços"
    contrato = ErpPedidoContrato.objects.create(
        pedido=pedido,
        titulo=titulo,
        conteudo_html=CONTRACT_HTML.format(
            titulo=titulo, empresa=company_name, cliente=pedido.cliente.nome, numero=pedido.numero
        ),
        assinatura=mode,
    )
    if signer:
        ErpContratoSignatario.objects.create(contrato=contrato, email=signer, papel="PARTE")


def _attachments(pedido: ErpPedido) -> None:
    """What a salesperson attaches in the ERP: a specification (PDF) and a site photo (JPEG)."""
    specification = HTML(string=SPECIFICATION_HTML.format(numero=pedido.numero)).write_pdf()
    photo = Image.new("RGB", (640, 420), "#d9e2ec")
    ImageDraw.Draw(photo).rectangle((120, 110, 520, 330), fill="#829ab1", outline="#243b53")
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=80)
    for nome, mime, conteudo in (
        (f"especificacao-tecnica-{pedido.numero}.pdf", "application/pdf", specification),
        ("foto-do-local-de-instalacao.jpg", "image/jpeg", buffer.getvalue()),
    ):
        ErpPedidoAnexo.objects.create(
            pedido=pedido,
            tipo="OUTRO",
            nome=nome,
            mime=mime,
            conteudo=conteudo,
            sha256=hashlib.sha256(conteudo).hexdigest(),
            origem="ERP",
        )


def seed(*, company_names: dict[int, str]) -> list[str]:
    """Write the demo companies' customers and orders. Does nothing if they are there."""
    if demo_is_seeded():
        return []
    lines = []
    today = timezone.localdate()
    with transaction.atomic(using=erp_alias()):
        for company in COMPANIES:
            rng = random.Random(company.empresa_id)
            clientes = [
                ErpCliente.objects.create(
                    empresa_id=company.empresa_id, nome=name, email=email, cpf_cnpj=cnpj
                )
                for name, email, cnpj in company.customers
            ]
            pedidos = []
            for index in range(ORDERS_PER_COMPANY):
                # The first customer gets every other order: the demo login has a history.
                cliente = clientes[0] if index % 2 == 0 else rng.choice(clientes[1:])
                pedidos.append(
                    _order(rng, company, cliente, company.first_number + index, index, today)
                )
            if company.empresa_id == 1:
                # The first customer's three newest proposals stay free of contracts (they can
                # be approved at once); the next ones wait for a signed contract: 7023, 7021 and
                # the oldest, 7005, signed on paper; 7017 signed in the portal.
                name = company_names.get(company.empresa_id, "A contratada")
                open_ones = [
                    p
                    for p in reversed(pedidos)  # newest first
                    if p.cliente_id == clientes[0].id and p.status == "PRO" and p.validade > today
                ]
                for pedido in open_ones[:1] + open_ones[3:4]:
                    _attachments(pedido)
                for pedido in open_ones[3:5] + open_ones[7:8]:
                    _contract(pedido, name, "MANUAL", None)
                for pedido in open_ones[5:6]:
                    _contract(pedido, name, "DIGITAL", clientes[0].email)
            lines.append(
                f"ERP company {company.empresa_id}: {len(clientes)} customers, "
                f"{len(pedidos)} orders ({pedidos[0].numero}–{pedidos[-1].numero})"
            )
    return lines


def propose(*, cliente_id: int | None = None) -> ErpPedido:
    """A new proposal, as a salesperson makes it in the ERP: for the customer `cliente_id`
    (default: the first demo company's first customer, the one with the demo login), numbered
    after the company's last order."""
    clientes = ErpCliente.objects.order_by("empresa_id", "id")
    cliente = clientes.get(id=cliente_id) if cliente_id else clientes.first()
    if cliente is None:
        raise ErpCliente.DoesNotExist("The demo ERP has no customers: run `erp_demo seed`.")
    company = next((c for c in COMPANIES if c.empresa_id == cliente.empresa_id), COMPANIES[0])
    with transaction.atomic(using=erp_alias()):
        last = ErpPedido.objects.filter(empresa_id=cliente.empresa_id).order_by("-numero").first()
        number = last.numero + 1 if last else company.first_number
        # The newest order (age 0: an open proposal).
        newest = ORDERS_PER_COMPANY - 1
        return _order(random.Random(), company, cliente, number, newest, timezone.localdate())


def ensure_digital_signers(*, empresa_id: int, signers: list[tuple[str, str]]) -> int | None:
    """Make the company's DIGITAL contract name these signers (e-mail, papel), as the ERP
    would; returns its order number (None: the company has no such contract)."""
    contrato = (
        ErpPedidoContrato.objects.filter(pedido__empresa_id=empresa_id, assinatura="DIGITAL")
        .select_related("pedido")
        .order_by("pedido__numero")
        .first()
    )
    if contrato is None:
        return None
    named = set(contrato.signatarios.values_list("email", flat=True))
    missing = [(email, papel) for email, papel in signers if email not in named]
    if missing:
        with transaction.atomic(using=erp_alias()):
            ErpContratoSignatario.objects.bulk_create(
                ErpContratoSignatario(contrato=contrato, email=email, papel=papel)
                for email, papel in missing
            )
    return contrato.pedido.numero
