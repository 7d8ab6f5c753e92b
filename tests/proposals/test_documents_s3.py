"""Downloads on S3 storage (a moto server on 127.0.0.1): a 302 to a signed URL that expires in
60 seconds and makes S3 answer with the portal's headers; the objects themselves stay private."""

import datetime
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from erp_sync.mirror import erp_sync_tenant
from proposals.models import Attachment, ProposalDocument
from tests.contracts.samples import pdf_bytes
from tests.erp_builders import erp_cliente, erp_pedido
from tests.s3 import endpoint_of, moto_server, new_bucket, s3_client, storage_settings

pytestmark = pytest.mark.django_db

NUMBER = 7001


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_server() as server:
        yield endpoint_of(server)


@pytest.fixture
def s3(s3_endpoint, settings):
    """The default storage on a fresh bucket, configured like production (portal/settings.py)."""
    bucket = new_bucket(s3_endpoint)
    settings.STORAGES = {**settings.STORAGES, "default": storage_settings(s3_endpoint, bucket)}
    return s3_client(s3_endpoint), bucket


@pytest.fixture
def proposal(tenant_a, user_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(
        cliente, NUMBER, contrato={"titulo": "Contrato", "conteudo_html": "<p>Cláusula.</p>"}
    )
    erp_sync_tenant(tenant=tenant_a)


def follow(response):
    """Fetch the signed URL as the browser would; returns (query, S3's response, body)."""
    assert response.status_code == 302
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    location = response["Location"]
    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    with urllib.request.urlopen(location, timeout=10) as s3_response:
        return query, s3_response, s3_response.read()


def test_proposal_pdf_redirects_to_a_url_signed_for_sixty_seconds(s3, proposal, client_a):
    client, bucket = s3

    query, s3_response, body = follow(client_a.get(reverse("proposal_pdf", args=[NUMBER])))

    assert body.startswith(b"%PDF-")
    assert query["X-Amz-Expires"] == "60"
    signed_at = datetime.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    assert abs((now - signed_at).total_seconds()) < 30
    with scopes_disabled():
        document = ProposalDocument.objects.get()
    disposition = 'attachment; filename="proposta-7001.pdf"'
    assert s3_response.headers["Content-Disposition"] == disposition
    assert s3_response.headers["Content-Type"] == "application/pdf"
    assert s3_response.headers["Cache-Control"] == "private, no-store"
    key = document.file.name
    grants = client.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    assert not [g for g in grants if g["Grantee"].get("URI", "").endswith("AllUsers")]


def test_signed_contract_and_contract_view_go_through_signed_urls(s3, proposal, client_a):
    signed = pdf_bytes(2)
    client_a.post(
        reverse("contract_detail", args=[NUMBER]),
        {"arquivo": SimpleUploadedFile("assinado.pdf", signed)},
    )
    with scopes_disabled():
        attachment = Attachment.objects.get(origin="PORTAL")

    _, s3_response, body = follow(
        client_a.get(reverse("attachment_download", args=[NUMBER, attachment.pk]))
    )
    assert body == signed
    assert s3_response.headers["Content-Disposition"] == 'attachment; filename="assinado.pdf"'

    _, s3_response, body = follow(client_a.get(reverse("contract_view", args=[NUMBER])))
    assert body.startswith(b"%PDF-")
    assert s3_response.headers["Content-Disposition"].startswith("inline;")
