"""The proposal PDF as the customer reads it: every number, item, note and installment, on pages
that carry the company's letterhead, repeated table headers and "Página X de Y"."""

import datetime
import io
import os
import re
import subprocess
import sys
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django_scopes import scope, scopes_disabled
from PIL import Image
from pypdf import PdfReader

from portal.documents.pdf import render_pdf
from proposals.documents import proposal_pdf_render
from tests.factories import InstallmentFactory, OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db


def rendered(order) -> bytes:
    """The proposal PDF, rendered in the order's scope as proposals.documents renders it."""
    with scope(tenant=order.tenant_id):
        return proposal_pdf_render(order=order)


def pages_text(content: bytes) -> list[str]:
    """Each page's text, with NBSP (R$ 1,00) and line breaks as plain spaces."""
    reader = PdfReader(io.BytesIO(content))
    return [re.sub(r"\s+", " ", page.extract_text().replace("\xa0", " ")) for page in reader.pages]


@pytest.fixture
def order(customer_a):
    customer_a.cpf_cnpj = "98.765.432/0001-10"
    customer_a.save()
    order = OrderFactory(
        customer=customer_a,
        number=7001,
        issued_on=datetime.date(2026, 3, 2),
        valid_until=datetime.date(2026, 4, 1),
        salesperson="Mariana Souza",
        payment_method="Boleto bancário",
        payment_terms="30/60/90 dias",
        notes="Frete CIF para a capital.\nInstalação inclusa.",
        products_total=Decimal("2469.12"),
        services_total=Decimal("350.00"),
        discount=Decimal("19.12"),
        freight=Decimal("80.00"),
        total=Decimal("2880.00"),
        erp_version=4,
    )
    OrderItemFactory(
        order=order,
        sequence=1,
        code="CMP-050",
        description="Compressor de ar 50 L",
        quantity=Decimal("2"),
        unit_price=Decimal("1234.56"),
        total=Decimal("2469.12"),
        notes="Voltagem 220 V.\nEntrega em 10 dias úteis.",
    )
    OrderItemFactory(
        order=order,
        sequence=2,
        kind="S",
        code="SRV-INST",
        description="Instalação do compressor",
        unit="H",
        quantity=Decimal("3.5"),
        unit_price=Decimal("100"),
        discount=Decimal("19.12"),
        total=Decimal("330.88"),
        notes="Agendar com o almoxarifado.",
    )
    OrderItemFactory(
        order=order,
        sequence=3,
        code="ABR-M6",
        description="Abraçadeira M6",
        unit="PC",
        quantity=Decimal("200"),
        unit_price=Decimal("0.0350"),
        discount=Decimal("0"),
        total=Decimal("7.00"),
        notes="",
    )
    for number, due in enumerate(("2026-04-01", "2026-05-01", "2026-05-31"), start=1):
        InstallmentFactory(
            order=order,
            number=number,
            due_date=datetime.date.fromisoformat(due),
            amount=Decimal("960.00"),
        )
    return order


def test_proposal_holds_the_letterhead_customer_items_notes_terms_and_totals(order, tenant_a):
    tenant_a.legal_name = "Alfa Máquinas e Equipamentos Ltda"
    tenant_a.save()

    (page,) = pages_text(rendered(order))

    for expected in (
        "Alfa Máquinas e Equipamentos Ltda",
        "CNPJ 12.345.678/0001-95",
        "Rua das Flores, 100 — Curitiba/PR",
        "(41) 3333-4444 · contato@alfa.com.br",
        "PROPOSTA COMERCIAL",
        "Nº 7001",
        "Proposta nº 7001 · emitida em 02/03/2026",
        "Emissão 02/03/2026",
        "Validade 01/04/2026",
        "Vendedor Mariana Souza",
        "Cliente Alfa Um Ltda",
        "98.765.432/0001-10",
        "Valor unit. (R$) Desconto (R$) Total (R$)",
        "1 CMP-050 Compressor de ar 50 L 2 UN 1.234,56 — 2.469,12",
        "INFORMAÇÕES: Voltagem 220 V. Entrega em 10 dias úteis.",
        "Instalação do compressor SERVIÇO 3,5 H 100,00 19,12 330,88",
        "INFORMAÇÕES: Agendar com o almoxarifado.",
        "3 ABR-M6 Abraçadeira M6 200 PC 0,035 — 7,00",
        "Forma de pagamento Boleto bancário",
        "Condição 30/60/90 dias",
        "1/3 01/04/2026 R$ 960,00",
        "2/3 01/05/2026 R$ 960,00",
        "3/3 31/05/2026 R$ 960,00",
        "Produtos R$ 2.469,12",
        "Serviços R$ 350,00",
        "Desconto R$ 19,12",
        "Frete R$ 80,00",
        "Total R$ 2.880,00",
        "Frete CIF para a capital. Instalação inclusa.",
        "Proposta válida até 01/04/2026.",
        "Página 1 de 1",
    ):
        assert expected in page, expected
    assert page.count("INFORMAÇÕES:") == 2  # an item without notes has no empty line


def test_tenant_logo_is_embedded_without_any_url(order, tenant_a):
    logo = io.BytesIO()
    Image.new("RGB", (120, 40), "#1f4e79").save(logo, "PNG")
    tenant_a.logo.save("logo.png", ContentFile(logo.getvalue()))

    reader = PdfReader(io.BytesIO(rendered(order)))

    images = reader.pages[0].images
    assert len(images) == 1
    assert images[0].image.size == (120, 40)


def test_html_cannot_make_the_renderer_read_files_or_call_hosts(tenant_a, order):
    """Templates only ever see data: URLs; file: and http: are refused, not fetched."""
    reader = PdfReader(
        io.BytesIO(
            render_pdf(
                "pdf/contract.html",
                {
                    "company": {"name": "Alfa", "footer": "Alfa"},
                    "contract": {"title": "Contrato"},
                    "order": order,
                    "body": (
                        '<img src="file:///etc/hostname"><img src="http://127.0.0.1:9/x.png">'
                        '<a rel="attachment" href="file:///etc/passwd">anexo</a><p>Cláusula 1.</p>'
                    ),
                },
                own_markup=False,
            )
        )
    )
    assert "Cláusula 1." in reader.pages[0].extract_text()
    assert len(reader.pages[0].images) == 0
    assert reader.attachments == {}


def words_on_first_page(content: bytes, tmp_path) -> dict[str, tuple[float, float]]:
    """Each word's left and right edges (points), as poppler lays them out."""
    (tmp_path / "proposta.pdf").write_bytes(content)
    layout = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", "proposta.pdf", "-"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    words = re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]+)<', layout)
    return {text: (float(left), float(right)) for left, right, text in words}


def test_large_amounts_stay_inside_their_columns(order, tmp_path):
    OrderItemFactory(
        order=order,
        sequence=4,
        quantity=Decimal("12.25"),
        unit_price=Decimal("9876543.21"),
        discount=Decimal("123456.78"),
        total=Decimal("120864197.04"),
    )

    words = words_on_first_page(rendered(order), tmp_path)

    unit_price, discount, total = (
        words["9.876.543,21"],
        words["123.456,78"],
        words["120.864.197,04"],
    )
    assert unit_price[1] < discount[0] and discount[1] < total[0]
    right_margin = 595.28 - 12 / 25.4 * 72  # A4 width less the 12 mm margin, in points
    assert total[1] <= right_margin + 0.5


def test_three_hundred_items_paginate_with_repeated_headers(order, tmp_path):
    OrderItemFactory.create_batch(297, order=order, notes="Entrega programada.")

    content = rendered(order)
    pages = pages_text(content)

    total = len(pages)
    assert total > 1
    assert f"Página 1 de {total}" in pages[0]
    for number, page in enumerate(pages[1:], start=2):
        assert "Item Código Descrição Qtd. Un. Valor unit. (R$) Desconto (R$) Total (R$)" in page
        assert "Alfa Máquinas Ltda" in page and "Proposta nº 7001 · emitida em" in page
        assert f"Página {number} de {total}" in page
    every_page = " ".join(pages)
    with scopes_disabled():
        items = list(order.items.all())
    assert len(items) == 300
    for item in items:
        assert item.description in every_page
    assert "3/3 31/05/2026 R$ 960,00" in pages[-1]

    # Poppler (what most viewers use) renders it: pages 1 and 2 as images.
    (tmp_path / "proposta.pdf").write_bytes(content)
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "2", "proposta.pdf", "pagina"],
        cwd=tmp_path,
        check=True,
    )
    images = sorted(tmp_path.glob("pagina-*.png"))
    assert [Image.open(image).size for image in images] == [(249, 351)] * 2  # A4 at 30 dpi


def test_the_web_process_imports_weasyprint_when_it_starts():
    """A request never pays WeasyPrint's import (~0.5 s): the WSGI app has done it."""
    code = (
        "import sys; from portal.wsgi import application; "
        "print('weasyprint' in sys.modules, 'portal.documents.pdf' in sys.modules)"
    )
    started = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings_test"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert started.stdout.split() == ["True", "True"]
