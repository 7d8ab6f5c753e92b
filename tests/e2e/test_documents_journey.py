"""The documents journey in a real browser: a proposal with a MANUAL contract is approved only
after the customer downloads the proposal, hands back the signed contract (a wrong file first)
and confirms; the ERP gets the approval and the file."""

import hashlib
import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido, ErpPedidoAnexo
from portal.accounts.models import TenantDomain
from tests.contracts.samples import HTML_PAYLOAD, pdf_bytes
from tests.e2e.conftest import log_in, screenshot
from tests.erp_builders import erp_cliente, erp_pedido

NUMBER = 7005


@pytest.fixture
def portal(live_server, tenant_a, user_a):
    """Tenant A at alfa.localhost:<port>, with one proposal whose contract is signed on paper."""
    TenantDomain.objects.create(hostname="alfa.localhost", tenant=tenant_a)
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id, nome="Cliente Um")
    erp_pedido(
        cliente,
        NUMBER,
        items=3,
        parcelas=2,
        contrato={"titulo": "Contrato de fornecimento", "assinatura": "MANUAL"},
    )
    erp_sync_tenant(tenant=tenant_a)
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://alfa.localhost:{port}"


def upload(page, name: str, content: bytes, mime: str) -> None:
    page.get_by_label(re.compile("contrato assinado", re.I)).set_input_files(
        {"name": name, "mimeType": mime, "buffer": content}
    )
    page.get_by_role("button", name="ENVIAR CONTRATO ASSINADO").click()
    page.wait_for_url(re.compile(rf"/pedidos/{NUMBER}/$"))


@pytest.mark.django_db(transaction=True)
def test_customer_downloads_signs_uploads_and_approves(page, portal, user_a, password):
    log_in(page, portal, user_a.email, password)
    page.wait_for_url(portal + "/")
    page.goto(portal + reverse("order_detail", args=[NUMBER]))

    approval = page.locator("section.approval")
    assert "Envie o contrato assinado antes de aprovar a proposta." in approval.inner_text()
    assert page.get_by_role("link", name="APROVAR PROPOSTA").count() == 0

    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Proposta comercial nº {NUMBER}").click()
    download = download_info.value
    assert download.suggested_filename == f"proposta-{NUMBER}.pdf"
    proposal = download.path().read_bytes()
    assert proposal.startswith(b"%PDF-")
    assert f"Nº {NUMBER}" in PdfReader(io.BytesIO(proposal)).pages[0].extract_text()

    upload(page, "contrato-assinado.pdf", b"<!DOCTYPE html>\n" + HTML_PAYLOAD, "application/pdf")
    error = page.get_by_role("alert")
    assert "Formato não aceito: envie o contrato assinado em PDF, JPEG ou PNG." in (
        error.inner_text()
    )
    assert page.get_by_role("link", name="APROVAR PROPOSTA").count() == 0
    screenshot(page, "documentos-erro-upload")

    signed = pdf_bytes(2)
    upload(page, "contrato-assinado.pdf", signed, "application/pdf")
    assert "Contrato Assinado recebido: contrato-assinado.pdf." in page.inner_text("main")
    documents = page.locator("#documentos")
    assert documents.get_by_role("link", name="Contrato Assinado").count() == 1
    screenshot(page, "documentos-contrato-enviado")

    page.get_by_role("link", name="APROVAR PROPOSTA").click()
    page.wait_for_url(re.compile(rf"/pedidos/{NUMBER}/aprovar/$"))
    page.get_by_role("button", name="Confirmar aprovação").click()
    page.wait_for_url(re.compile(rf"/pedidos/{NUMBER}/$"))

    digest = hashlib.sha256(signed).hexdigest()
    assert f"Proposta {NUMBER} aprovada." in page.inner_text("main")
    page.get_by_text("Detalhes da aprovação").click()  # the evidence, one tap away
    assert digest in page.locator("section.approval").inner_text()
    screenshot(page, "documentos-aprovado")
    row = ErpPedido.objects.get(empresa_id=1, numero=NUMBER)
    assert (row.status, row.aprovado_por) == ("APR", user_a.email)
    (sent,) = ErpPedidoAnexo.objects.filter(pedido_id=row.id, origem="PORTAL")
    assert (sent.tipo, sent.nome, sent.sha256) == (
        "CONTRATO_ASSINADO",
        "contrato-assinado.pdf",
        digest,
    )
    assert bytes(sent.conteudo) == signed
