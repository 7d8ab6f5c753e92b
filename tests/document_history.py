"""An order with a documents history of a chosen size, built as it happens in production: the ERP
writes its rows, the mirror copies them, the customer uploads and downloads through the pages.

    history = order_with_documents(tenant, user, client, DOCUMENTS_LARGE)

Used by the query-count tests, which compare a small history with a large one.
"""

from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido, ErpPedidoContrato
from proposals.models import Attachment, AttachmentOrigin, Order
from tests.contracts.samples import pdf_bytes
from tests.erp_builders import erp_anexo, erp_cliente, erp_pedido

NUMBER = 7001

DOCUMENTS_SMALL = {
    "items": 2,
    "installments": 1,
    "erp_attachments": 1,
    "signed_uploads": 1,
    "versions": 1,
    "other_orders": 0,
}
DOCUMENTS_LARGE = {
    "items": 25,
    "installments": 8,
    "erp_attachments": 8,
    "signed_uploads": 8,
    "versions": 3,
    "other_orders": 6,
}


@dataclass
class DocumentHistory:
    order: Order
    erp_attachments: dict[int, bytes] = field(default_factory=dict)  # portal id -> ERP bytes
    signed_names: list[str] = field(default_factory=list)  # oldest first


def signed_upload_send(client, number: int, content: bytes, name: str):
    return client.post(
        reverse("contract_detail", args=[number]), {"arquivo": SimpleUploadedFile(name, content)}
    )


@scopes_disabled()  # builds data, as a fixture would
def order_with_documents(
    tenant,
    user,
    client,
    size: dict,
    *,
    contract_file: bytes | None = None,
    render_each_version: tuple[str, ...] = (),
) -> DocumentHistory:
    """Order NUMBER, a PRO proposal with a MANUAL contract (the ERP's PDF `contract_file`, else
    HTML), `erp_attachments` ERP files, `signed_uploads` "Contrato Assinado" uploads (the newest
    counts) and `other_orders` more orders of the same customer.

    `versions` > 1: the ERP edits the order (and the contract's HTML) that many times; after each
    version the customer GETs every URL name in `render_each_version`, so earlier renders stay
    stored beside the current one.
    """
    cliente = erp_cliente(tenant.erp_company_id, id=user.customer.erp_id)
    for n in range(size["other_orders"]):
        other = erp_pedido(cliente, NUMBER + 100 + n, items=2, parcelas=1)
        erp_anexo(other, pdf_bytes(1), nome=f"outro-{n}.pdf")
    contrato = {"titulo": "Contrato de fornecimento", "arquivo": contract_file}
    if contract_file is not None:
        contrato["conteudo_html"] = None
    pedido = erp_pedido(
        cliente, NUMBER, items=size["items"], parcelas=size["installments"], contrato=contrato
    )
    sent = {}
    for n in range(size["erp_attachments"]):
        content = pdf_bytes(1) + f"% anexo {n}\n".encode()
        sent[f"memorial-{n}.pdf"] = content
        erp_anexo(pedido, content, nome=f"memorial-{n}.pdf")
    erp_sync_tenant(tenant=tenant)

    for version in range(1, size["versions"] + 1):
        if version > 1:
            ErpPedido.objects.filter(id=pedido.id).update(vendedor=f"Vendedor {version}")
            ErpPedidoContrato.objects.filter(pedido_id=pedido.id, arquivo__isnull=True).update(
                conteudo_html=f"<h1>Contrato</h1><p>Versão {version} das cláusulas.</p>"
            )
            erp_sync_tenant(tenant=tenant)
        for name in render_each_version:
            assert client.get(reverse(name, args=[NUMBER])).status_code == 200

    history = DocumentHistory(order=Order.objects.get(tenant=tenant, number=NUMBER))
    for n in range(size["signed_uploads"]):
        name = f"contrato-assinado-{n + 1}.pdf"
        assert signed_upload_send(client, NUMBER, pdf_bytes(n + 1), name).status_code == 303
        history.signed_names.append(name)
    # Where the upload's redirect leads; it also shows (and so consumes) the upload's message.
    assert client.get(reverse("order_detail", args=[NUMBER])).status_code == 200
    mirrored = Attachment.objects.filter(order=history.order, origin=AttachmentOrigin.ERP)
    history.erp_attachments = {a.pk: sent[a.name] for a in mirrored}
    history.order.refresh_from_db()
    return history
