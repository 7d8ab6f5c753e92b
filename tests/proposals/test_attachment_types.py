"""ERP attachments are served as what we know them to be, never as the type the ERP wrote.

Issue #9, finding 10: an attachment the ERP labelled `text/javascript` was served as such, a
same-origin script (`<script src=…/anexos/N/>`). Only types the portal knows are passed on;
everything else is `application/octet-stream`, always as an attachment and with `nosniff`.
"""

import pytest
from django.urls import reverse

from erp_sync.mirror import erp_sync_tenant
from proposals.models import Attachment
from tests.conftest import HOST_A, host_client
from tests.erp_builders import erp_anexo, erp_cliente, erp_pedido
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NUMBER = 7010
SERVED_AS = {
    "application/pdf": "application/pdf",
    "image/png": "image/png",
    "IMAGE/JPEG": "image/jpeg",
    "image/webp": "image/webp",
    "image/gif": "image/gif",
    "text/javascript": "application/octet-stream",
    "application/javascript": "application/octet-stream",
    "text/html": "application/octet-stream",
    "image/svg+xml": "application/octet-stream",
    "application/xhtml+xml": "application/octet-stream",
    "text/plain": "application/octet-stream",
    "application/pdf; charset=utf-8": "application/octet-stream",
    "": "application/octet-stream",
}


@pytest.fixture
def attachments(tenant_a, user_a):
    """One ERP attachment per declared type, mirrored like any other."""
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    pedido = erp_pedido(cliente, NUMBER)
    for n, mime in enumerate(SERVED_AS):
        erp_anexo(pedido, b"alert(document.cookie)//" + bytes([n]), nome=f"anexo{n}.js", mime=mime)
    erp_sync_tenant(tenant=tenant_a)
    return {a.mime: a for a in Attachment.objects.filter(order__number=NUMBER)}


def assert_served_safely(response, declared):
    assert response.status_code == 200
    assert response["Content-Type"] == SERVED_AS[declared], declared
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"alert(document.cookie)")


@pytest.mark.parametrize("declared", sorted(SERVED_AS))
def test_customer_download_carries_only_a_known_type(attachments, client_a, declared):
    attachment = attachments[declared]

    response = client_a.get(reverse("attachment_download", args=[NUMBER, attachment.pk]))

    assert_served_safely(response, declared)


@pytest.mark.parametrize("declared", ["text/javascript", "text/html", "image/png"])
def test_admin_download_carries_only_a_known_type(attachments, tenant_a, declared):
    staff = UserFactory(customer=None, tenant=tenant_a, is_staff=True, email="equipe@alfa.com")
    attachment = attachments[declared]
    url = reverse("admin:proposals_order_attachment", args=(attachment.order_id, attachment.pk))

    response = host_client(HOST_A, staff).get(url)

    assert_served_safely(response, declared)
