"""The file storage failing under a customer: S3 unreachable or not answering, the media
folder's disk full. The customer gets a clear message in Portuguese; nothing is half-written,
in the ERP (`erp_pedido_anexo`, `erp_portal_evento`), in the portal (no Attachment or document
row, no row pointing at a missing file) or in storage (no partial file); once the storage is
back, the same request succeeds.

With the ERP in its own database (make test-pg-split) the ERP commits first: these tests show
that the file is stored before anything is written there.
"""

import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

import portal.settings
from contracts.models import Contract
from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedidoAnexo, ErpPortalEvento
from proposals.models import Attachment, ProposalDocument
from tests.conftest import HOST_A
from tests.contracts.samples import pdf_bytes
from tests.erp_builders import erp_cliente, erp_pedido
from tests.s3 import endpoint_of, moto_server, new_bucket, storage_settings
from tests.servers import free_port

pytestmark = pytest.mark.django_db

NUMBER = 7001
STORAGE_DOWN = (
    "Não foi possível receber o Contrato Assinado agora: o armazenamento de arquivos do portal "
    "não está disponível. Nada foi gravado; envie o arquivo novamente em alguns minutos."
)


@pytest.fixture
def proposal(tenant_a, user_a):
    contract = {"titulo": "Contrato de fornecimento", "conteudo_html": "<p>Cláusula.</p>"}
    erp_pedido(erp_cliente(1, id=user_a.customer.erp_id), NUMBER, contrato=contract)
    erp_sync_tenant(tenant=tenant_a)


def upload(client, content: bytes):
    return client.post(
        reverse("contract_detail", args=[NUMBER]),
        {"arquivo": SimpleUploadedFile("assinado.pdf", content)},
        follow=True,
    )


def assert_nothing_written() -> None:
    assert not ErpPedidoAnexo.objects.filter(origem="PORTAL").exists()
    assert not ErpPortalEvento.objects.exists()
    with scopes_disabled():
        assert not Attachment.objects.exists()
        assert Contract.objects.get(order__number=NUMBER).signed_at is None


def assert_received(response, content: bytes) -> None:
    assert "Contrato Assinado recebido: assinado.pdf" in response.content.decode()
    assert bytes(ErpPedidoAnexo.objects.get(origem="PORTAL").conteudo) == content
    with scopes_disabled():
        assert Attachment.objects.get().file.read() == content


# S3 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_server() as server:
        yield endpoint_of(server)


def use_s3(settings, endpoint: str, bucket: str) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": storage_settings(endpoint, bucket)}


def test_s3_down_during_an_upload_says_so_and_writes_nothing(
    proposal, client_a, settings, s3_endpoint
):
    use_s3(settings, f"http://127.0.0.1:{free_port()}", "portal-fora-do-ar")  # refused
    signed = pdf_bytes(2)

    response = upload(client_a, signed)

    assert STORAGE_DOWN in response.content.decode()
    assert_nothing_written()

    use_s3(settings, s3_endpoint, new_bucket(s3_endpoint))  # S3 is back
    assert_received(upload(client_a, signed), signed)


@pytest.fixture
def silent_endpoint():
    """An S3 endpoint that accepts connections and never answers (a hung load balancer)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept():
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for connection in held:
        connection.close()


def test_s3_that_never_answers_fails_the_upload_within_its_timeouts(
    proposal, client_a, settings, silent_endpoint, monkeypatch
):
    # Production waits S3_TIMEOUT_SECONDS (5 s) per try; one second keeps this test short.
    monkeypatch.setattr(portal.settings, "S3_TIMEOUT_SECONDS", 1.0)
    use_s3(settings, silent_endpoint, "portal-sem-resposta")

    started = time.monotonic()
    response = upload(client_a, pdf_bytes(2))
    elapsed = time.monotonic() - started

    assert STORAGE_DOWN in response.content.decode()
    # One call (HEAD) tried twice, 1 s each, up to 1 s of backoff between the tries: about 3 s
    # (boto's own defaults would wait 60 s per try, five tries). Slack for a busy machine.
    assert elapsed < 10, f"the upload waited {elapsed:.1f} s"
    assert_nothing_written()


# Disk full --------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB filesystem (tmpfs) as the media folder; mounting one needs root."""
    mountpoint = tmp_path / "media"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(mountpoint)],
        capture_output=True, text=True,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "--lazy", str(mountpoint)], check=True)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the space)."""
    filler = disk / "enchimento"
    with open(filler, "wb", buffering=0) as file:
        try:
            while True:
                file.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def files_in(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


@pytest.fixture
def full_disk(small_disk, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(small_disk), "base_url": None},
        },
    }
    return fill(small_disk)


def test_disk_full_during_an_upload_says_so_and_leaves_no_partial_file(
    proposal, client_a, full_disk
):
    signed = pdf_bytes(2)

    response = upload(client_a, signed)

    assert STORAGE_DOWN in response.content.decode()
    assert_nothing_written()
    assert files_in(full_disk.parent) == {"enchimento"}

    os.remove(full_disk)
    assert_received(upload(client_a, signed), signed)


def test_disk_full_on_the_proposal_pdf_gives_a_clear_page_and_stores_no_row(
    proposal, user_a, full_disk
):
    client = Client(HTTP_HOST=HOST_A, raise_request_exception=False)
    client.force_login(user_a, backend="portal.accounts.backends.TenantEmailBackend")

    response = client.get(reverse("proposal_pdf", args=[NUMBER]))

    assert response.status_code == 503
    page = response.content.decode()
    assert "Portal temporariamente indisponível" in page
    assert "o armazenamento de arquivos do portal não está disponível" in page
    with scopes_disabled():
        assert not ProposalDocument.objects.exists()
    assert files_in(full_disk.parent) == {"enchimento"}

    os.remove(full_disk)
    response = client.get(reverse("proposal_pdf", args=[NUMBER]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    with scopes_disabled():
        assert ProposalDocument.objects.get().file.name in files_in(full_disk.parent)
