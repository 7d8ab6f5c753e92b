"""Uploads racing each other: the last writer wins on both sides, with the same file.

Issue #9, finding 6: 6 different files uploaded in parallel left the ERP with one and the portal
(and the approval's hash) with another in 2 of 3 runs: each upload took its time before waiting
for the contract's lock, and the portal's history was ordered by that time.
"""

import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django_scopes import scope, scopes_disabled
from pypdf import PdfWriter

from contracts.selectors import signed_contract_current
from contracts.services import signed_contract_upload
from contracts.uploads import validate_signed_contract
from erp_sync.mirror import erp_sync_order, erp_sync_tenant
from erp_sync.models import ErpPedidoAnexo
from proposals.models import Approval, Order
from proposals.services import order_approve
from tests.erp_builders import erp_cliente, erp_pedido

NUMBER = 7006
UPLOADERS = 6
ROUNDS = 4


def scan(label: str):
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": label})
    output = io.BytesIO()
    writer.write(output)
    return validate_signed_contract(SimpleUploadedFile(f"{label}.pdf", output.getvalue()))


def upload_in_parallel(order_pk, user, uploads) -> None:
    barrier = threading.Barrier(len(uploads))
    errors = []

    def run(upload):
        try:
            with scope(tenant=user.tenant):  # as each request runs
                order = Order.objects.select_related("tenant").get(pk=order_pk)
                barrier.wait()
                signed_contract_upload(
                    order=order,
                    user=user,
                    upload=upload,
                    ip_address="127.0.0.1",
                    remirror=erp_sync_order,
                )
        except Exception as error:  # reported below, with the others
            errors.append(error)
        finally:
            for connection in connections.all():
                connection.close()

    threads = [threading.Thread(target=run, args=(upload,)) for upload in uploads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_uploads_leave_one_file_on_both_sides_every_time(tenant_a, user_a):
    with scopes_disabled():
        cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
        erp_pedido(cliente, NUMBER, contrato={"titulo": "Contrato"})
        erp_sync_tenant(tenant=tenant_a)
        order = Order.objects.get(number=NUMBER)
        disagreements = []

        for round_ in range(ROUNDS):
            uploads = [scan(f"rodada-{round_}-cliente-{n}") for n in range(UPLOADERS)]
            upload_in_parallel(order.pk, user_a, uploads)

            erp_file = ErpPedidoAnexo.objects.get(pedido_id=order.erp_id, origem="PORTAL")
            portal_file = signed_contract_current(order=order)
            assert portal_file.file.read() == bytes(erp_file.conteudo)
            if erp_file.sha256 != portal_file.sha256:
                disagreements.append(round_)
            assert portal_file.sha256 in {u.sha256 for u in uploads}

        assert disagreements == []
        order = Order.objects.select_related("tenant", "contract").get(pk=order.pk)
        result = order_approve(
            order=order, user=user_a, seen_version=order.erp_version, remirror=erp_sync_order
        )
        assert result.ok
        erp_file = ErpPedidoAnexo.objects.get(pedido_id=order.erp_id, origem="PORTAL")
        assert Approval.objects.get(order=order).signed_contract_sha256 == erp_file.sha256
