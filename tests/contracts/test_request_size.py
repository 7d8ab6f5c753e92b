"""A request larger than the upload limit is refused before Django writes it to disk.

Issue #9, finding 7: the 10 MiB limit was per file, not per request: one POST with 8 parts of
~10 MiB spooled 80 MiB to disk. Here what reaches Django's spooling handler is counted.
"""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import override_settings
from django.test.client import BOUNDARY, encode_multipart
from django.urls import reverse
from django_scopes import scopes_disabled
from pypdf import PdfWriter

from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedidoAnexo
from proposals.models import Attachment, Order
from tests.contracts.samples import pdf_bytes
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = pytest.mark.django_db

NUMBER = 7007
LIMIT = 200_000
OVERHEAD = 64 * 1024


class CountingTemporaryHandler(TemporaryFileUploadHandler):
    """Django's handler that spools uploads to temporary files, counting what it writes."""

    spooled = 0

    def receive_data_chunk(self, raw_data, start):
        CountingTemporaryHandler.spooled += len(raw_data)
        return super().receive_data_chunk(raw_data, start)


@pytest.fixture(autouse=True)
def limits():
    with override_settings(
        SIGNED_CONTRACT_MAX_BYTES=LIMIT,
        MAX_REQUEST_BYTES=LIMIT + OVERHEAD,
        FILE_UPLOAD_MAX_MEMORY_SIZE=0,  # every byte of a file goes to disk
        FILE_UPLOAD_HANDLERS=[
            "portal.request_limits.RequestSizeLimitHandler",
            "tests.contracts.test_request_size.CountingTemporaryHandler",
        ],
    ):
        CountingTemporaryHandler.spooled = 0
        yield CountingTemporaryHandler


@pytest.fixture
def proposal(tenant_a, user_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, NUMBER, contrato={"titulo": "Contrato"})
    erp_sync_tenant(tenant=tenant_a)
    return Order.objects.get(number=NUMBER)


def pdf_of(size: int) -> bytes:
    """A valid PDF of about `size` bytes (never more): a long subject in its metadata."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Subject": "x" * (size - len(pdf_bytes()) - 100)})
    output = io.BytesIO()
    writer.write(output)
    assert size - 1000 < len(output.getvalue()) <= size
    return output.getvalue()


def parts(count: int, size: int) -> dict:
    content = pdf_of(size)
    return {"arquivo": [SimpleUploadedFile(f"parte{n}.pdf", content) for n in range(count)]}


def post(client, url, data):
    return client.post(url, data, follow=True)


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def nothing_stored(order) -> bool:
    return (
        not Attachment.objects.filter(order=order, origin="PORTAL").exists()
        and not ErpPedidoAnexo.objects.filter(pedido_id=order.erp_id).exists()
    )


def test_a_body_over_the_limit_is_refused_unread(proposal, client_a, limits):
    """The finding's request: 8 parts, each under the limit."""
    with scopes_disabled():
        response = post(client_a, reverse("contract_detail", args=[NUMBER]), parts(8, LIMIT - 1000))

        assert "O arquivo é maior que o limite de 195,3 KB" in text(response)
        assert limits.spooled == 0
        assert nothing_stored(proposal)


def test_files_that_pass_the_limit_together_stop_being_read_at_the_limit(
    proposal, client_a, limits
):
    with scopes_disabled():
        data = parts(2, LIMIT // 2 + 10_000)  # the body is within MAX_REQUEST_BYTES, the files not
        body = encode_multipart(BOUNDARY, data)
        assert len(body) < LIMIT + OVERHEAD

        multipart = f"multipart/form-data; boundary={BOUNDARY}"  # the body as it is, not re-encoded
        client_a.post(reverse("contract_detail", args=[NUMBER]), body, content_type=multipart)
        response = client_a.get(reverse("order_detail", args=[NUMBER]))

        assert "O arquivo é maior que o limite de 195,3 KB" in text(response)
        assert limits.spooled <= LIMIT
        assert nothing_stored(proposal)


def test_a_file_within_the_limit_is_still_taken(proposal, client_a):
    response = post(client_a, reverse("contract_detail", args=[NUMBER]), parts(1, LIMIT))

    assert "Contrato Assinado recebido" in text(response)


def test_any_other_page_refuses_an_oversized_body_unread(anon_a, limits):
    response = anon_a.post(reverse("login"), parts(8, LIMIT - 1000))

    assert response.status_code == 400
    assert limits.spooled == 0
