"""The "Contrato Assinado" upload as a customer (or an attacker) does it, through the page."""

import hashlib
import io
import json
import os
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django_scopes import scopes_disabled
from PIL import Image

from contracts.models import Contract
from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido, ErpPedidoAnexo, ErpPortalEvento
from proposals.models import Approval, Attachment, Order
from tests.conftest import HOST_A, HOST_B, host_client
from tests.contracts.samples import REFUSED, SANITIZED, jpeg_bytes, pdf_bytes
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = pytest.mark.django_db

NUMBER = 7001


@pytest.fixture
def proposal(tenant_a, user_a):
    """A PRO order with a MANUAL contract in the ERP, mirrored."""
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, NUMBER, contrato={"titulo": "Contrato de fornecimento"})
    erp_sync_tenant(tenant=tenant_a)
    return Order.objects.get(tenant=tenant_a, number=NUMBER)


def upload_url() -> str:
    return reverse("contract_detail", args=[NUMBER])


def send(client, content: bytes, name: str = "contrato-assinado.pdf", **extra):
    return client.post(
        upload_url(), {"arquivo": SimpleUploadedFile(name, content)}, follow=True, **extra
    )


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def signed_uploads(order):
    with scopes_disabled():
        return list(Attachment.objects.filter(order=order, origin="PORTAL").order_by("id"))


def erp_state(order) -> dict:
    return {
        "anexos": list(
            ErpPedidoAnexo.objects.filter(pedido_id=order.erp_id).values_list("id", "sha256")
        ),
        "eventos": ErpPortalEvento.objects.filter(pedido_id=order.erp_id).count(),
        "pedido": ErpPedido.objects.values_list("status", "versao").get(id=order.erp_id),
    }


def stored_files() -> set[str]:
    return {
        os.path.join(folder, name)
        for folder, _, names in os.walk(settings.MEDIA_ROOT)
        for name in names
    }


def is_signed(order) -> bool:
    with scopes_disabled():
        return Contract.objects.get(order=order).signed_at is not None


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_hostile_upload_is_refused_stores_nothing_and_leaves_the_erp_alone(
    case, proposal, client_a
):
    sample = REFUSED[case]
    before_erp, before_files = erp_state(proposal), stored_files()

    response = send(client_a, sample.build(), sample.name)

    assert response.status_code == 200
    # page_text() folds white space, the no-break space of "10,0 MB" included.
    assert re.sub(r"\s+", " ", sample.message) in page_text(response)
    assert signed_uploads(proposal) == []
    assert stored_files() == before_files
    assert erp_state(proposal) == before_erp
    assert not is_signed(proposal)
    assert "APROVAR PROPOSTA" not in response.content.decode()


@pytest.mark.parametrize("case", sorted(SANITIZED))
def test_hostile_image_is_stored_without_its_payload_on_both_sides(case, proposal, client_a):
    sample = SANITIZED[case]

    response = send(client_a, sample.build(), sample.name)

    assert "Contrato Assinado recebido" in page_text(response)
    (attachment,) = signed_uploads(proposal)
    stored = attachment.file.read()
    sent = bytes(ErpPedidoAnexo.objects.get(pedido_id=proposal.erp_id).conteudo)
    assert stored == sent
    assert b"<script" not in stored.lower() and b"Exif" not in stored
    assert Image.open(io.BytesIO(stored)).size == (64, 90)


def test_good_pdf_is_stored_as_sent_and_reaches_the_erp_with_its_hash(proposal, client_a, user_a):
    content = pdf_bytes(2)
    versao = ErpPedido.objects.get(id=proposal.erp_id).versao

    response = send(client_a, content, "Contrato assinado — Alfa.pdf")

    (attachment,) = signed_uploads(proposal)
    digest = hashlib.sha256(content).hexdigest()
    assert (attachment.kind, attachment.mime, attachment.sha256) == (
        "CONTRATO_ASSINADO",
        "application/pdf",
        digest,
    )
    assert attachment.name == "Contrato assinado — Alfa.pdf"
    assert attachment.file.read() == content
    assert (attachment.uploaded_by, attachment.uploaded_from) == (user_a, "127.0.0.1")
    row = ErpPedidoAnexo.objects.get(pedido_id=proposal.erp_id)
    assert (row.tipo, row.origem, row.mime, row.nome, row.sha256) == (
        "CONTRATO_ASSINADO",
        "PORTAL",
        "application/pdf",
        "Contrato assinado — Alfa.pdf",
        digest,
    )
    assert bytes(row.conteudo) == content
    event = ErpPortalEvento.objects.get(pedido_id=proposal.erp_id)
    assert event.tipo == "CONTRATO_ENVIADO"
    assert json.loads(event.dados) == {
        "email": user_a.email,
        "ip": "127.0.0.1",
        "versao": proposal.erp_version,
        "sha256": digest,
    }
    assert ErpPedido.objects.get(id=proposal.erp_id).versao == versao  # PORTAL rows bump nothing
    assert is_signed(proposal)
    text = page_text(response)
    assert "Contrato Assinado recebido: Contrato assinado — Alfa.pdf. Você já pode aprovar" in text
    assert "APROVAR PROPOSTA" in text
    download = client_a.get(reverse("attachment_download", args=[NUMBER, attachment.pk]))
    assert b"".join(download.streaming_content) == content


def test_the_reason_not_to_approve_yet_links_to_the_upload_form(proposal, client_a):
    detail = reverse("order_detail", args=[NUMBER])

    before = client_a.get(detail).content.decode()
    send(client_a, pdf_bytes(1))
    after = client_a.get(detail).content.decode()

    assert "Envie o contrato assinado antes de aprovar a proposta." in before
    assert '<a href="#envio-contrato">Ir para o envio do contrato assinado</a>' in before
    assert '<form class="upload" id="envio-contrato"' in before
    assert "Ir para o envio do contrato assinado" not in after


def test_jpeg_scan_is_decoded_and_re_encoded(proposal, client_a):
    response = send(client_a, jpeg_bytes((300, 420), "#ddd"), "scan.JPG")

    (attachment,) = signed_uploads(proposal)
    stored = attachment.file.read()
    assert (attachment.name, attachment.mime) == ("scan.JPG", "image/jpeg")
    assert Image.open(io.BytesIO(stored)).size == (300, 420)
    assert attachment.sha256 == hashlib.sha256(stored).hexdigest()
    assert ErpPedidoAnexo.objects.get(pedido_id=proposal.erp_id).sha256 == attachment.sha256
    assert "Contrato Assinado recebido" in page_text(response)


def test_hostile_file_name_is_stored_under_a_generated_key_and_shown_sanitized(proposal, client_a):
    boundary = "limite-do-teste"
    hostile = "../../etc/\x07contrato\x1b\u202efdp.exe.pdf"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="arquivo"; filename="{hostile}"\r\n'
            "Content-Type: text/html\r\n\r\n"
        ).encode()
        + pdf_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )

    client_a.post(upload_url(), body, content_type=f"multipart/form-data; boundary={boundary}")

    (attachment,) = signed_uploads(proposal)
    assert attachment.name == "contratofdp.exe.pdf"
    assert attachment.mime == "application/pdf"  # sniffed, not the browser's text/html
    assert re.fullmatch(r"attachments/\d{4}/\d{2}/alfa/[0-9a-f]{32}\.pdf", attachment.file.name)
    page = client_a.get(reverse("order_detail", args=[NUMBER])).content.decode()
    assert "contratofdp.exe.pdf" in page and "\u202e" not in page


def test_replacing_keeps_history_and_updates_the_erp_row_in_place(proposal, client_a):
    first, second = pdf_bytes(1), pdf_bytes(2)
    send(client_a, first, "primeira.pdf")
    erp_row_id = ErpPedidoAnexo.objects.get(pedido_id=proposal.erp_id).id

    response = send(client_a, second, "segunda.pdf")

    uploads = signed_uploads(proposal)
    assert [a.name for a in uploads] == ["primeira.pdf", "segunda.pdf"]
    assert uploads[0].file.read() == first  # history keeps the earlier file
    (row,) = ErpPedidoAnexo.objects.filter(pedido_id=proposal.erp_id)
    assert (row.id, row.nome, row.sha256) == (erp_row_id, "segunda.pdf", uploads[1].sha256)
    assert ErpPortalEvento.objects.filter(pedido_id=proposal.erp_id).count() == 2
    text = page_text(response)
    assert "Contrato Assinado" in text and "segunda.pdf" in text
    assert "Versões anteriores (1)" in text and "primeira.pdf" in text


def test_double_submit_of_the_same_file_stores_one_version(proposal, client_a):
    content = pdf_bytes()
    send(client_a, content)
    response = send(client_a, content)

    assert len(signed_uploads(proposal)) == 1
    assert ErpPortalEvento.objects.filter(pedido_id=proposal.erp_id).count() == 1
    assert "já era o Contrato Assinado" in page_text(response)


def test_approving_after_the_upload_works_and_later_uploads_are_refused(proposal, client_a):
    content = pdf_bytes()
    send(client_a, content)
    proposal.refresh_from_db()

    approved = client_a.post(
        reverse("order_approve", args=[NUMBER]), {"versao": proposal.erp_version}, follow=True
    )

    assert ErpPedido.objects.get(id=proposal.erp_id).status == "APR"
    with scopes_disabled():
        approval = Approval.objects.get(order=proposal)
    assert approval.signed_contract_sha256 == hashlib.sha256(content).hexdigest()
    assert "ENVIAR CONTRATO ASSINADO" not in approved.content.decode()

    before_erp, before_files = erp_state(proposal), stored_files()
    refused = send(client_a, pdf_bytes(3), "depois.pdf")

    assert "já foi aprovada: o Contrato Assinado não pode mais ser substituído" in page_text(
        refused
    )
    assert len(signed_uploads(proposal)) == 1
    assert erp_state(proposal) == before_erp
    assert stored_files() == before_files


def test_upload_when_the_erp_already_closed_the_proposal_is_refused_and_resynced(
    proposal, client_a
):
    ErpPedido.objects.filter(id=proposal.erp_id).update(status="CAN")
    before_files = stored_files()

    response = send(client_a, pdf_bytes())

    assert "mudou no sistema da empresa" in page_text(response)
    assert signed_uploads(proposal) == []
    assert stored_files() == before_files
    assert not ErpPedidoAnexo.objects.filter(pedido_id=proposal.erp_id).exists()
    with scopes_disabled():
        assert Order.objects.get(pk=proposal.pk).status == "CAN"


def test_digital_contracts_take_no_upload(tenant_a, user_a, client_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, NUMBER, contrato={"assinatura": "DIGITAL"})
    erp_sync_tenant(tenant=tenant_a)

    response = send(client_a, pdf_bytes())

    assert "assinado digitalmente" in page_text(response)
    with scopes_disabled():
        assert not Attachment.objects.filter(origin="PORTAL").exists()


@pytest.mark.parametrize("intruder", ["same_tenant", "other_tenant"])
def test_another_customer_can_neither_upload_nor_see_the_contract(
    intruder, proposal, other_user_a, user_b
):
    host, user = {"same_tenant": (HOST_A, other_user_a), "other_tenant": (HOST_B, user_b)}[intruder]
    client = host_client(host, user)
    before_erp = erp_state(proposal)

    response = client.post(upload_url(), {"arquivo": SimpleUploadedFile("x.pdf", pdf_bytes())})

    assert response.status_code == 404
    assert client.get(upload_url()).status_code == 404
    assert signed_uploads(proposal) == []
    assert erp_state(proposal) == before_erp


def test_upload_needs_the_csrf_token(proposal, user_a):
    client = Client(HTTP_HOST=HOST_A, enforce_csrf_checks=True)
    client.force_login(user_a, backend="portal.accounts.backends.TenantEmailBackend")

    forged = client.post(upload_url(), {"arquivo": SimpleUploadedFile("c.pdf", pdf_bytes())})

    assert forged.status_code == 403
    assert signed_uploads(proposal) == []

    client.get(upload_url())  # the contract page sets the CSRF cookie
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    client.post(
        upload_url(),
        {"arquivo": SimpleUploadedFile("c.pdf", pdf_bytes()), "csrfmiddlewaretoken": token},
    )
    assert len(signed_uploads(proposal)) == 1


def test_size_limit_is_inclusive(proposal, client_a):
    content = pdf_bytes()
    with override_settings(SIGNED_CONTRACT_MAX_BYTES=len(content)):
        send(client_a, content)
        refused = send(client_a, content + b"\n")
    assert len(signed_uploads(proposal)) == 1
    assert "maior que o limite" in page_text(refused)


def test_get_without_a_file_and_other_methods(proposal, client_a):
    missing = client_a.post(upload_url(), {}, follow=True)
    assert "Escolha um arquivo do contrato assinado" in page_text(missing)
    assert client_a.put(upload_url()).status_code == 405
    assert signed_uploads(proposal) == []
