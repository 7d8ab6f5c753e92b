"""The ERP in its own database and unreachable: the upload fails clearly and keeps nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.urls import reverse
from django_scopes import scopes_disabled

from contracts.models import Contract
from erp_sync.mirror import erp_sync_tenant
from proposals.models import Attachment, Order
from tests.contracts.samples import pdf_bytes
from tests.erp_builders import erp_cliente, erp_pedido
from tests.erp_sync.test_erp_down import erp_unreachable

pytestmark = pytest.mark.skipif(
    "erp" not in connections, reason="needs the ERP in its own database (make test-pg-split)"
)


@pytest.mark.django_db(transaction=True)
def test_upload_with_the_erp_down_stores_nothing_and_says_so(tenant_a, user_a, client_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, 7001, contrato={"titulo": "Contrato"})
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        order = Order.objects.get(number=7001)

    with erp_unreachable():
        response = client_a.post(
            reverse("contract_detail", args=[7001]),
            {"arquivo": SimpleUploadedFile("assinado.pdf", pdf_bytes())},
            follow=True,
        )

    assert "o sistema da empresa não respondeu. Nada foi gravado" in response.content.decode()
    with scopes_disabled():
        assert not Attachment.objects.filter(order=order).exists()
        assert Contract.objects.get(order=order).signed_at is None
