"""The contract: the ERP's own PDF as sent, or its HTML under the portal's letterhead."""

import io
import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from pypdf import PdfReader

from contracts.models import ContractDocument
from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedidoContrato
from proposals.models import Order
from tests.contracts.samples import pdf_bytes
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = pytest.mark.django_db

NUMBER = 7001
CLAUSES = (
    "<h1>Contrato de locação de equipamentos</h1>"
    "<h2>Cláusula 1ª — Objeto</h2><p>Locação de um compressor de ar de 50 litros.</p>"
    "<h2>Cláusula 2ª — Foro</h2><p>Fica eleito o foro da comarca de Curitiba/PR.</p>"
)


def order_with_contract(tenant, user, **contrato) -> Order:
    cliente = erp_cliente(tenant.erp_company_id, id=user.customer.erp_id)
    erp_pedido(cliente, NUMBER, contrato=contrato)
    erp_sync_tenant(tenant=tenant)
    with scopes_disabled():
        return Order.objects.get(tenant=tenant, number=NUMBER)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_erp_pdf_is_viewed_inline_and_downloaded_as_sent(tenant_a, user_a, client_a):
    erp_file = pdf_bytes(2)
    order_with_contract(tenant_a, user_a, titulo="Contrato", arquivo=erp_file)

    viewed = client_a.get(reverse("contract_view", args=[NUMBER]))
    downloaded = client_a.get(reverse("contract_download", args=[NUMBER]))

    assert body(viewed) == body(downloaded) == erp_file
    assert viewed["Content-Disposition"] == 'inline; filename="contrato-pedido-7001.pdf"'
    assert downloaded["Content-Disposition"] == 'attachment; filename="contrato-pedido-7001.pdf"'
    for response in (viewed, downloaded):
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    with scopes_disabled():
        assert not ContractDocument.objects.exists()


def test_erp_html_is_rendered_once_under_the_letterhead(tenant_a, user_a, client_a):
    order = order_with_contract(
        tenant_a, user_a, titulo="Contrato de locação", conteudo_html=CLAUSES
    )

    first = body(client_a.get(reverse("contract_view", args=[NUMBER])))
    second = body(client_a.get(reverse("contract_download", args=[NUMBER])))

    assert first == second
    with scopes_disabled():
        assert ContractDocument.objects.filter(contract__order=order).count() == 1
    text = text_of(first)
    for expected in (
        "Alfa Máquinas Ltda",
        "CNPJ 12.345.678/0001-95",
        "CONTRATO",
        "Pedido nº 7001",
        order.customer.name,
        "Cláusula 1ª — Objeto",
        "Locação de um compressor de ar de 50 litros.",
        "Fica eleito o foro da comarca de Curitiba/PR.",
        "Página 1 de 1",
    ):
        assert expected in text, expected


def test_changed_html_in_the_erp_gets_a_new_pdf(tenant_a, user_a, client_a):
    order = order_with_contract(tenant_a, user_a, titulo="Contrato", conteudo_html=CLAUSES)
    before = body(client_a.get(reverse("contract_download", args=[NUMBER])))

    ErpPedidoContrato.objects.filter(pedido_id=order.erp_id).update(
        conteudo_html=CLAUSES + "<p>Cláusula 3ª — Multa de 2%.</p>"
    )
    erp_sync_tenant(tenant=tenant_a)
    after = body(client_a.get(reverse("contract_download", args=[NUMBER])))

    assert "Multa de 2%" in text_of(after) and "Multa de 2%" not in text_of(before)
    with scopes_disabled():
        assert ContractDocument.objects.filter(contract__order=order).count() == 2


def test_contract_page_offers_view_download_and_the_upload(tenant_a, user_a, client_a):
    order_with_contract(tenant_a, user_a, titulo="Contrato de locação", conteudo_html=CLAUSES)

    html = client_a.get(reverse("contract_detail", args=[NUMBER])).content.decode()

    assert "Contrato de locação" in html and "Aguardando assinatura" in html
    assert f'href="{reverse("contract_view", args=[NUMBER])}"' in html
    assert f'href="{reverse("contract_download", args=[NUMBER])}"' in html
    assert 'enctype="multipart/form-data"' in html and 'name="csrfmiddlewaretoken"' in html
    assert "ENVIAR CONTRATO ASSINADO" in html


def test_order_without_a_contract_has_no_contract_pages(tenant_a, user_a, client_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, NUMBER)
    erp_sync_tenant(tenant=tenant_a)

    for name in ("contract_detail", "contract_view", "contract_download"):
        assert client_a.get(reverse(name, args=[NUMBER])).status_code == 404
    detail = client_a.get(reverse("order_detail", args=[NUMBER])).content.decode()
    assert "ENVIAR CONTRATO ASSINADO" not in detail
