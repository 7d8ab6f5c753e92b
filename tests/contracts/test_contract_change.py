"""A "Contrato Assinado" counts only for the contract as the ERP has it now.

Issue #9, finding 4: upload the signed contract of 7005, let the ERP rewrite the contract's
clauses, sync, approve: it was approved, with the old scan's hash. A change of the contract
voids an earlier upload (kept in the history, marked void); the customer is told why and sends
the new one (DESIGN.md "Approval rules").
"""

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from contracts.models import Contract
from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido, ErpPedidoContrato, ErpPedidoItem
from proposals.models import Approval, Attachment, Order
from tests.contracts.samples import pdf_bytes
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = pytest.mark.django_db

NUMBER = 7005
CHANGED = "O contrato foi alterado pela empresa depois do envio do Contrato Assinado"


@pytest.fixture
def proposal(tenant_a, user_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, NUMBER, contrato={"conteudo_html": "<p>Cláusula 1: prazo de 30 dias.</p>"})
    erp_sync_tenant(tenant=tenant_a)
    return Order.objects.get(tenant=tenant_a, number=NUMBER)


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def upload(client, content: bytes, name: str):
    return client.post(
        reverse("contract_detail", args=[NUMBER]),
        {"arquivo": SimpleUploadedFile(name, content)},
        follow=True,
    )


def approve(client):
    version = Order.objects.get(number=NUMBER).erp_version
    return client.post(reverse("order_approve", args=[NUMBER]), {"versao": version}, follow=True)


def erp_rewrites_the_clauses(tenant):
    ErpPedidoContrato.objects.filter(pedido__numero=NUMBER).update(
        conteudo_html="<p>Cláusula 1: prazo de 90 dias.</p>"
    )
    erp_sync_tenant(tenant=tenant)


def test_a_scan_signed_before_the_contract_changed_does_not_approve(proposal, client_a, tenant_a):
    with scopes_disabled():
        old_scan = pdf_bytes(1)
        upload(client_a, old_scan, "assinado-antes.pdf")

        erp_rewrites_the_clauses(tenant_a)
        response = approve(client_a)

        assert not Approval.objects.filter(order=proposal).exists()
        assert ErpPedido.objects.get(numero=NUMBER).status == "PRO"
        assert CHANGED in text(response)
        assert "APROVAR PROPOSTA" not in response.content.decode()
        assert Contract.objects.get(order=proposal).signed_at is None


def test_the_customer_is_told_why_on_the_detail_and_the_contract_page(proposal, client_a, tenant_a):
    upload(client_a, pdf_bytes(1), "assinado-antes.pdf")

    erp_rewrites_the_clauses(tenant_a)
    detail = text(client_a.get(reverse("order_detail", args=[NUMBER])))
    contract = text(client_a.get(reverse("contract_detail", args=[NUMBER])))

    for page in (detail, contract):
        assert CHANGED in page
        assert "assinado-antes.pdf" in page and "anulado" in page
        assert "Baixe o contrato atualizado, assine e envie novamente" in page
        assert "Enviar o contrato assinado" in page  # the form to send the new one


def test_the_new_scan_approves_and_the_approval_records_it(proposal, client_a, tenant_a):
    with scopes_disabled():
        upload(client_a, pdf_bytes(1), "assinado-antes.pdf")
        erp_rewrites_the_clauses(tenant_a)
        new_scan = pdf_bytes(2)

        upload(client_a, new_scan, "assinado-depois.pdf")
        response = approve(client_a)

        approval = Approval.objects.get(order=proposal)
        assert approval.signed_contract_sha256 == hashlib.sha256(new_scan).hexdigest()
        assert ErpPedido.objects.get(numero=NUMBER).status == "APR"
        assert f"Proposta {NUMBER} aprovada" in text(response)
        uploads = Attachment.objects.filter(order=proposal, origin="PORTAL").order_by("id")
        assert [(a.name, a.voided_at is not None) for a in uploads] == [
            ("assinado-antes.pdf", True),
            ("assinado-depois.pdf", False),
        ]


def test_sending_the_old_scan_again_is_refused(proposal, client_a, tenant_a):
    with scopes_disabled():
        old_scan = pdf_bytes(1)
        upload(client_a, old_scan, "assinado-antes.pdf")
        erp_rewrites_the_clauses(tenant_a)

        response = upload(client_a, old_scan, "de-novo.pdf")

        assert "foi assinado antes da alteração do contrato" in text(response)
        assert Attachment.objects.filter(order=proposal, origin="PORTAL").count() == 1
        assert Contract.objects.get(order=proposal).signed_at is None


def test_a_change_elsewhere_in_the_order_keeps_the_scan(proposal, client_a, tenant_a):
    with scopes_disabled():
        scan = pdf_bytes(1)
        upload(client_a, scan, "assinado.pdf")

        ErpPedidoItem.objects.filter(pedido__numero=NUMBER, sequencia=1).update(informacoes="Novo")
        erp_sync_tenant(tenant=tenant_a)
        response = approve(client_a)

        assert Approval.objects.get(order=proposal).signed_contract_sha256 == (
            hashlib.sha256(scan).hexdigest()
        )
        assert CHANGED not in text(response)
