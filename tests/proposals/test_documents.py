"""The proposal PDF in storage: rendered once per order version, served privately, hashed into
the approval; and the order's documents area (the PDF first, the contract, the attachments)."""

import hashlib
import io
import os
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from pypdf import PdfReader

from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedidoItem
from proposals.documents import proposal_pdf_ensure
from proposals.models import Approval, Attachment, Order, ProposalDocument
from proposals.tasks import proposal_pdf_render_ahead
from tests.conftest import HOST_A, HOST_B, host_client
from tests.contracts.samples import pdf_bytes
from tests.erp_builders import erp_anexo, erp_cliente, erp_pedido
from tests.factories import UserFactory

NUMBER = 7001


@pytest.fixture
def proposal(tenant_a, user_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, NUMBER, items=3, parcelas=2)
    erp_sync_tenant(tenant=tenant_a)
    return Order.objects.get(tenant=tenant_a, number=NUMBER)


def pdf_url() -> str:
    return reverse("proposal_pdf", args=[NUMBER])


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


def stored_files() -> set[str]:
    return {
        os.path.join(folder, name)
        for folder, _, names in os.walk(settings.MEDIA_ROOT)
        for name in names
    }


@pytest.mark.django_db
def test_first_request_renders_and_stores_then_every_request_serves_that_file(proposal, client_a):
    first = client_a.get(pdf_url())

    content = content_of(first)
    assert first["Content-Type"] == "application/pdf"
    version = proposal.erp_version
    assert first["Content-Disposition"] == 'attachment; filename="proposta-7001.pdf"'
    assert first["X-Content-Type-Options"] == "nosniff"
    assert "private" in first["Cache-Control"] and "no-store" in first["Cache-Control"]
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "Nº 7001" in text and "Item 3 do pedido 7001" in text
    with scopes_disabled():
        (document,) = ProposalDocument.objects.filter(order=proposal)
    assert (document.erp_version, document.size) == (version, len(content))
    assert document.sha256 == hashlib.sha256(content).hexdigest()

    files = stored_files()
    assert content_of(client_a.get(pdf_url())) == content
    with scopes_disabled():
        assert ProposalDocument.objects.filter(order=proposal).count() == 1
    assert stored_files() == files  # served, not rendered again


@pytest.mark.django_db
def test_a_new_erp_version_gets_its_own_pdf_and_the_old_one_stays(proposal, tenant_a, client_a):
    old = content_of(client_a.get(pdf_url()))
    item = ErpPedidoItem.objects.filter(pedido_id=proposal.erp_id).first()
    item.descricao = "Compressor revisado"
    item.save()
    erp_sync_tenant(tenant=tenant_a)

    new = content_of(client_a.get(pdf_url()))

    assert "Compressor revisado" in PdfReader(io.BytesIO(new)).pages[0].extract_text()
    with scopes_disabled():
        versions = ProposalDocument.objects.filter(order=proposal).order_by("erp_version")
        assert [d.erp_version for d in versions] == [proposal.erp_version, proposal.erp_version + 1]
        assert versions[0].file.read() == old


@pytest.mark.django_db
def test_a_bulk_mirror_renders_nothing(proposal):
    with scopes_disabled():
        assert not ProposalDocument.objects.exists()


@pytest.mark.django_db
def test_the_render_ahead_task_renders_a_proposal_version_once_and_nothing_else(tenant_a, user_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    for numero, status in ((7001, "PRO"), (7002, "PRO"), (7003, "PED")):
        erp_pedido(cliente, numero, status=status)
    stats = erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        orders = {o.number: o for o in Order.objects.all()}
    assert sorted(stats.proposals_changed) == sorted(
        (orders[n].pk, orders[n].erp_version) for n in (7001, 7002)
    )
    proposal_pdf_ensure(order=orders[7001])  # a customer already asked for this one

    def render(order, version=None):
        return proposal_pdf_render_ahead.call(
            tenant_id=tenant_a.pk, order_id=order.pk, erp_version=version or order.erp_version
        )

    assert render(orders[7001]) == "already rendered"
    assert render(orders[7002]) == "rendered"
    assert render(orders[7002]) == "already rendered"
    assert render(orders[7002], version=orders[7002].erp_version - 1) == "superseded"
    assert render(orders[7003]) == "not a proposal"

    with scopes_disabled():
        rendered = set(ProposalDocument.objects.values_list("order__number", "erp_version"))
    assert rendered == {(7001, orders[7001].erp_version), (7002, orders[7002].erp_version)}


@pytest.mark.django_db
def test_documents_area_lists_the_proposal_pdf_first_then_contract_and_attachments(
    tenant_a, user_a, client_a
):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    pedido = erp_pedido(cliente, NUMBER, contrato={"titulo": "Contrato de locação"})
    erp_anexo(pedido, b"x" * 2560, nome="memorial descritivo.pdf")
    erp_sync_tenant(tenant=tenant_a)

    html = client_a.get(reverse("order_detail", args=[NUMBER])).content.decode()

    area = html[html.index('id="documentos"') :]
    links = re.findall(r'<li[^>]*>\s*<a href="([^"]+)"', area)
    with scopes_disabled():
        attachment = Attachment.objects.get(order__number=NUMBER)
    assert links == [
        pdf_url(),
        reverse("contract_view", args=[NUMBER]),
        reverse("attachment_download", args=[NUMBER, attachment.pk]),
    ]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", area))
    assert "Proposta comercial nº 7001" in text
    assert "memorial descritivo.pdf" in text and "2,5 KB" in text
    assert timezone.localdate(attachment.created_at).strftime("%d/%m/%Y") in text
    assert "Contrato de locação" in text and "ENVIAR CONTRATO ASSINADO" in text


@pytest.mark.django_db
def test_approval_keeps_the_hashes_of_what_the_customer_had_and_the_page_shows_them(
    tenant_a, user_a, client_a
):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, NUMBER, contrato={"titulo": "Contrato"})
    erp_sync_tenant(tenant=tenant_a)
    signed = pdf_bytes(2)
    client_a.post(
        reverse("contract_detail", args=[NUMBER]),
        {"arquivo": SimpleUploadedFile("assinado.pdf", signed)},
    )
    with scopes_disabled():
        order = Order.objects.get(number=NUMBER)
        assert not ProposalDocument.objects.exists()  # never opened: rendered at approval

    page = client_a.post(
        reverse("order_approve", args=[NUMBER]), {"versao": order.erp_version}, follow=True
    ).content.decode()

    with scopes_disabled():
        approval = Approval.objects.get(order=order)
        document = ProposalDocument.objects.get(order=order)
    assert document.erp_version == approval.order_version
    assert (
        approval.proposal_sha256
        == document.sha256
        == hashlib.sha256(document.file.read()).hexdigest()
    )
    assert approval.signed_contract_sha256 == hashlib.sha256(signed).hexdigest()
    assert approval.proposal_sha256 in page and approval.signed_contract_sha256 in page
    assert "SHA-256 da proposta" in page and "SHA-256 do contrato assinado" in page

    # Approving moved the ERP's order to a newer version; the customer still downloads the
    # proposal they approved, the one whose hash the approval keeps.
    with scopes_disabled():
        order.refresh_from_db()
    assert order.erp_version > approval.order_version
    downloaded = content_of(client_a.get(pdf_url()))
    assert hashlib.sha256(downloaded).hexdigest() == approval.proposal_sha256
    area = page.split('id="documentos"', 1)[1]
    assert "Proposta aprovada · PDF" in area and "versão" not in area


@pytest.mark.django_db
def test_the_pdf_of_a_foreign_order_is_404_and_renders_nothing(proposal, other_user_a):
    response = host_client(HOST_A, other_user_a).get(pdf_url())
    assert response.status_code == 404
    with scopes_disabled():
        assert not ProposalDocument.objects.exists()


@pytest.fixture
def staff(tenant_a, tenant_b):
    return {
        slug: UserFactory(
            customer=None, tenant=tenant, is_staff=True, email=f"equipe@{slug}.com.br"
        )
        for slug, tenant in (("alfa", tenant_a), ("beta", tenant_b))
    }


@pytest.mark.django_db
def test_tenant_staff_download_the_documents_in_admin_and_nobody_else_does(
    tenant_a, user_a, staff, client_a
):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    pedido = erp_pedido(
        cliente, NUMBER, contrato={"titulo": "Contrato", "conteudo_html": "<p>C.</p>"}
    )
    erp_anexo(pedido, b"%PDF-1.4 memorial", nome="memorial.pdf")
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        order = Order.objects.get(number=NUMBER)
        attachment = Attachment.objects.get(order=order)
    urls = {
        "proposal": reverse("admin:proposals_order_proposal_pdf", args=[order.pk]),
        "attachment": reverse("admin:proposals_order_attachment", args=[order.pk, attachment.pk]),
        "contract": reverse("admin:contracts_contract_pdf", args=[order.contract.pk]),
    }
    admin_a = host_client(HOST_A, staff["alfa"])

    change_page = admin_a.get(reverse("admin:proposals_order_change", args=[order.pk]))
    for url in urls.values():
        assert f'href="{url}"' in change_page.content.decode()
        response = admin_a.get(url)
        assert response.status_code == 200
        assert content_of(response).startswith(b"%PDF-1.")
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"

    admin_b = host_client(HOST_B, staff["beta"])
    for url in urls.values():
        assert admin_b.get(url).status_code == 404  # A's rows are outside B's scope
        assert client_a.get(url).status_code == 302  # a customer has no admin


@pytest.mark.django_db
def test_visualizar_opens_the_same_file_inline_with_the_same_protections(proposal, client_a):
    downloaded = content_of(client_a.get(pdf_url()))
    shown = client_a.get(reverse("proposal_view", args=[NUMBER]))

    assert content_of(shown) == downloaded  # the stored document, not a new rendering
    assert shown["Content-Type"] == "application/pdf"
    assert shown["Content-Disposition"] == 'inline; filename="proposta-7001.pdf"'
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert "private" in shown["Cache-Control"] and "no-store" in shown["Cache-Control"]
    with scopes_disabled():
        assert ProposalDocument.objects.filter(order=proposal).count() == 1
    detail = client_a.get(reverse("order_detail", args=[NUMBER])).content.decode()
    assert f'href="{reverse("proposal_view", args=[NUMBER])}" target="_blank"' in detail
