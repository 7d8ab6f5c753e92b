"""Evidence outlives the ERP's rows: an order the ERP deleted leaves the customer's pages, and
its approval, signed contract, snapshots and history stay for staff and support. Files leave
storage only after the transaction that dropped them commits; evidence files never."""

import hashlib
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_scopes import scopes_disabled

from contracts.models import Contract
from erp_sync import mirror
from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpCliente, ErpPedido, ErpPedidoAnexo, SkippedRecord
from proposals.models import (
    Approval,
    Attachment,
    AttachmentOrigin,
    Order,
    OrderSnapshot,
    StatusChange,
)
from tests.conftest import HOST_A, host_client
from tests.contracts.samples import pdf_bytes
from tests.erp_builders import erp_anexo, erp_cliente, erp_pedido
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
NUMBER = 7001


@pytest.fixture
def staff_a(tenant_a):
    return UserFactory(customer=None, tenant=tenant_a, is_staff=True, email="equipe@alfa.com.br")


@pytest.fixture
def approved(tenant_a, user_a, client_a):
    """A proposal with a MANUAL contract: signed copy uploaded, then approved, in the portal."""
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, NUMBER, contrato={"titulo": "Contrato de fornecimento"})
    erp_sync_tenant(tenant=tenant_a)
    scan = pdf_bytes(2)
    client_a.post(
        reverse("contract_detail", args=[NUMBER]),
        {"arquivo": SimpleUploadedFile("contrato-assinado.pdf", scan)},
    )
    order = Order.objects.get(tenant=tenant_a, number=NUMBER)
    client_a.post(reverse("order_approve", args=[NUMBER]), {"versao": order.erp_version})
    assert Approval.objects.filter(order=order).exists()
    return order, scan


def customer_sees(client) -> dict[str, int]:
    urls = {
        "detail": reverse("order_detail", args=[NUMBER]),
        "proposal": reverse("proposal_pdf", args=[NUMBER]),
        "contract": reverse("contract_detail", args=[NUMBER]),
        "approve": reverse("order_approve", args=[NUMBER]),
    }
    return {name: client.get(url).status_code for name, url in urls.items()}


def stored(file) -> bytes:
    with file.storage.open(file.name, "rb") as stream:
        return stream.read()


def test_an_approved_order_deleted_in_the_erp_leaves_the_customer_and_stays_for_staff(
    approved, client_a, staff_a
):
    with scopes_disabled():
        order, scan = approved
        upload = Attachment.objects.get(order=order, origin=AttachmentOrigin.PORTAL)
        history = (
            OrderSnapshot.objects.filter(order=order).count(),
            StatusChange.objects.filter(order=order).count(),
        )

        ErpPedido.objects.filter(id=order.erp_id).delete()
        stats = erp_sync_tenant(tenant=order.tenant)

        assert stats.orders_deleted == 1
        assert customer_sees(client_a) == {
            "detail": 404,
            "proposal": 404,
            "contract": 404,
            "approve": 404,
        }
        download = reverse("attachment_download", args=[NUMBER, upload.pk])
        assert client_a.get(download).status_code == 404
        assert str(NUMBER) not in client_a.get(reverse("order_list")).content.decode()
        assert str(NUMBER) not in client_a.get(reverse("dashboard")).content.decode()

        # Nothing of the evidence went with the ERP's row.
        order.refresh_from_db()
        assert order.removed_at is not None
        assert (
            Approval.objects.get(order=order).signed_contract_sha256
            == hashlib.sha256(scan).hexdigest()
        )
        assert Contract.objects.get(order=order).signed_at is not None
        upload.refresh_from_db()
        assert stored(upload.file) == scan
        assert (
            OrderSnapshot.objects.filter(order=order).count(),
            StatusChange.objects.filter(order=order).count(),
        ) == history

        staff = host_client(HOST_A, staff_a)
        page = staff.get(reverse("admin:proposals_order_change", args=[order.pk])).content.decode()
        assert "Removido do ERP em" in page
        assert f"Aprovada por {order.approval.user.email}" in page
        assert "contrato-assinado.pdf" in page
        removed = staff.get(reverse("admin:proposals_order_changelist"), {"no_erp": "removidos"})
        assert f">{NUMBER}<" in removed.content.decode()
        response = staff.get(
            reverse("admin:proposals_order_attachment", args=[order.pk, upload.pk])
        )
        assert b"".join(response.streaming_content) == scan


def test_a_customer_deleted_in_the_erp_keeps_its_evidence(approved, user_a, client_a):
    with scopes_disabled():
        order, scan = approved

        ErpCliente.objects.filter(id=user_a.customer.erp_id).delete()  # the ERP cascades its orders
        erp_sync_tenant(tenant=order.tenant)

        user_a.refresh_from_db()
        assert not user_a.is_active
        order.refresh_from_db()
        assert order.removed_at is not None and order.customer.removed_at is not None
        assert Approval.objects.filter(order=order).exists()
        upload = Attachment.objects.get(order=order, origin=AttachmentOrigin.PORTAL)
        assert stored(upload.file) == scan
        with pytest.raises(CommandError, match="the ERP deleted it"):
            call_command(
                "customer_users", "add", "--tenant", "alfa",
                "--customer", str(order.customer.erp_id),
                "--email", "novo@cliente.com.br", "--password", "Uma-senha-longa-2026",
            )  # fmt: skip


def test_an_order_the_erp_restores_comes_back(tenant_a, user_a, client_a):
    with scopes_disabled():
        cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
        pedido = erp_pedido(cliente, NUMBER)
        erp_sync_tenant(tenant=tenant_a)
        columns = [f.attname for f in ErpPedido._meta.concrete_fields]
        row = ErpPedido.objects.values(*columns).get(id=pedido.id)
        ErpPedido.objects.filter(id=pedido.id).delete()
        erp_sync_tenant(tenant=tenant_a)
        assert client_a.get(reverse("order_detail", args=[NUMBER])).status_code == 404

        ErpPedido.objects.create(**row)  # a backup restored, same id and version
        erp_sync_tenant(tenant=tenant_a)

        assert client_a.get(reverse("order_detail", args=[NUMBER])).status_code == 200
        assert Order.objects.get(erp_id=pedido.id).removed_at is None


def test_a_new_order_may_take_the_number_of_a_removed_one(tenant_a, user_a, client_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    first = erp_pedido(cliente, NUMBER, vendedor="Primeiro")
    erp_sync_tenant(tenant=tenant_a)
    ErpPedido.objects.filter(id=first.id).delete()
    erp_pedido(cliente, NUMBER, vendedor="Segundo")

    stats = erp_sync_tenant(tenant=tenant_a)

    assert stats.skipped == [] and not SkippedRecord.objects.exists()
    page = client_a.get(reverse("order_detail", args=[NUMBER])).content.decode()
    assert "Segundo" in page and "Primeiro" not in page


def test_a_replaced_erp_file_leaves_storage_only_after_commit(
    tenant_a, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        pedido = erp_pedido(erp_cliente(tenant_a.erp_company_id), NUMBER)
        anexo = erp_anexo(pedido, b"%PDF-1.4 primeira versao")
        erp_sync_tenant(tenant=tenant_a)
        old = Attachment.objects.get(erp_id=anexo.id).file
        old_path = old.path
        content = b"%PDF-1.4 segunda versao"
        ErpPedidoAnexo.objects.filter(id=anexo.id).update(
            conteudo=content, sha256=hashlib.sha256(content).hexdigest()
        )

        with django_capture_on_commit_callbacks(execute=True):
            erp_sync_tenant(tenant=tenant_a)
            assert os.path.exists(old_path)  # still named by the committed row until commit

        assert not os.path.exists(old_path)
        assert stored(Attachment.objects.get(erp_id=anexo.id).file) == content


def test_a_pass_that_fails_after_dropping_a_file_keeps_it(
    tenant_a, django_capture_on_commit_callbacks, monkeypatch
):
    with scopes_disabled():
        pedido = erp_pedido(erp_cliente(tenant_a.erp_company_id), NUMBER)
        anexo = erp_anexo(pedido, b"%PDF-1.4 especificacao")
        erp_sync_tenant(tenant=tenant_a)
        attachment = Attachment.objects.get(erp_id=anexo.id)
        ErpPedidoAnexo.objects.filter(id=anexo.id).delete()
        sync_attachments = mirror._sync_attachments

        def fails_after_dropping(*args):
            sync_attachments(*args)
            raise OSError("No space left on device")

        monkeypatch.setattr(mirror, "_sync_attachments", fails_after_dropping)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            stats = erp_sync_tenant(tenant=tenant_a)

        assert callbacks == []
        assert [skip.erp_id for skip in stats.skipped] == [pedido.id]
        attachment.refresh_from_db()  # the row is back (rolled back) and its file is there
        assert stored(attachment.file) == b"%PDF-1.4 especificacao"

        monkeypatch.setattr(mirror, "_sync_attachments", sync_attachments)
        with django_capture_on_commit_callbacks(execute=True):
            erp_sync_tenant(tenant=tenant_a)
        assert not Attachment.objects.filter(erp_id=anexo.id).exists()
        assert not attachment.file.storage.exists(attachment.file.name)
