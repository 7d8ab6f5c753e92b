"""Writes on contracts: the "Contrato Assinado" upload, written through to the ERP, and the
contract's PDF (the ERP's own file, or its HTML rendered once under the portal's letterhead)."""

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _
from markupsafe import Markup

from contracts.models import Contract, ContractDocument, SignatureMode
from contracts.selectors import signed_contract_current, signed_contract_upload_allowed
from contracts.uploads import EXTENSIONS, ValidatedUpload
from erp_sync.models import ErpPedido, ErpPedidoAnexo, ErpPortalEvento
from erp_sync.router import erp_alias
from erp_sync.services import erp_sync_order
from portal.accounts.models import User
from proposals.models import Attachment, AttachmentKind, AttachmentOrigin, Order, OrderStatus
from proposals.pdf import company_for, render_pdf

logger = logging.getLogger(__name__)


class UploadRefused(Exception):
    """The upload cannot be taken now; the message (pt-BR) says why. Nothing was stored."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _ErpNotOpen(Exception):
    """The ERP's order is no longer an open proposal (the mirror had not seen it yet)."""


@dataclass(frozen=True)
class UploadResult:
    attachment: Attachment
    created: bool  # False: the very same file was already the current "Contrato Assinado"


def _refusal(order: Order) -> str:
    contract = getattr(order, "contract", None)
    if contract is not None and contract.signature_mode == SignatureMode.DIGITAL:
        return _("Este contrato é assinado digitalmente no portal: não há arquivo a enviar.")
    if order.status == OrderStatus.APPROVED or getattr(order, "approval", None) is not None:
        return _(
            "A proposta %(number)s já foi aprovada: o Contrato Assinado não pode mais "
            "ser substituído."
        ) % {"number": order.number}
    return _(
        "A proposta %(number)s não está aberta (status: %(status)s): "
        "não é possível enviar o contrato assinado."
    ) % {"number": order.number, "status": order.get_status_display()}


def _erp_send(*, order: Order, user: User, upload: ValidatedUpload, ip_address, now) -> None:
    """The ERP's copy: the order's one PORTAL CONTRATO_ASSINADO row (replaced in place) and an
    event. Neither bumps the order's versao (the triggers ignore PORTAL rows)."""
    company = order.tenant.erp_company_id
    if not ErpPedido.objects.filter(id=order.erp_id, empresa_id=company, status="PRO").exists():
        raise _ErpNotOpen
    row = {
        "nome": upload.display_name,
        "mime": upload.mime,
        "conteudo": upload.content,
        "sha256": upload.sha256,
        "criado_em": now,
    }
    sent = ErpPedidoAnexo.objects.filter(
        pedido_id=order.erp_id, tipo="CONTRATO_ASSINADO", origem="PORTAL"
    )
    if not sent.update(**row):
        ErpPedidoAnexo.objects.create(
            pedido_id=order.erp_id, tipo="CONTRATO_ASSINADO", origem="PORTAL", **row
        )
    ErpPortalEvento.objects.create(
        empresa_id=company,
        pedido_id=order.erp_id,
        tipo="CONTRATO_ENVIADO",
        dados=json.dumps(
            {
                "email": user.email,
                "ip": ip_address,
                "versao": order.erp_version,
                "sha256": upload.sha256,
            },
            ensure_ascii=False,
        ),
        criado_em=now,
    )


def _store(*, order: Order, user: User, upload: ValidatedUpload, ip_address, now) -> Attachment:
    attachment = Attachment(
        tenant=order.tenant,
        order=order,
        kind=AttachmentKind.SIGNED_CONTRACT,
        origin=AttachmentOrigin.PORTAL,
        name=upload.display_name,
        mime=upload.mime,
        size=len(upload.content),
        sha256=upload.sha256,
        created_at=now,
        uploaded_by=user,
        uploaded_from=ip_address,
    )
    # A generated key: the customer's file name is only ever displayed (sanitized).
    key = f"{order.tenant.slug}/{uuid.uuid4().hex}{EXTENSIONS[upload.mime]}"
    attachment.file.save(key, ContentFile(upload.content), save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


def signed_contract_upload(
    *, order: Order, user: User, upload: ValidatedUpload, ip_address: str | None = None
) -> UploadResult:
    """Take a validated "Contrato Assinado" for the order's MANUAL contract, until approval.

    The newest upload counts (earlier ones stay as history) and sets Contract.signed_at, which
    unlocks APROVAR PROPOSTA. Sending the same file again (a double click) stores nothing new.
    One database: the ERP rows and the portal's share one transaction. Two: the ERP commits
    first; the contract row stays locked meanwhile, so uploads of one order never interleave.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            contract = Contract.objects.select_for_update().filter(order_id=order.pk).first()
            current_order = Order.objects.select_related("tenant", "approval").get(pk=order.pk)
            current_order.contract = contract
            if contract is None or not signed_contract_upload_allowed(order=current_order):
                raise UploadRefused(_refusal(current_order))
            current = signed_contract_current(order=current_order)
            if current is not None and current.sha256 == upload.sha256:
                return UploadResult(current, created=False)
            record = {"user": user, "upload": upload, "ip_address": ip_address, "now": now}
            with transaction.atomic(using=erp_alias()):
                _erp_send(order=current_order, **record)
            attachment = _store(order=current_order, **record)
            contract.signed_at = now
            contract.save(update_fields=["signed_at"])
    except _ErpNotOpen:
        erp_sync_order(tenant=order.tenant, erp_id=order.erp_id)
        raise UploadRefused(
            _(
                "A proposta %(number)s mudou no sistema da empresa e não está mais aberta. "
                "Nada foi enviado; atualize a página para ver a situação atual."
            )
            % {"number": order.number}
        ) from None
    except DatabaseError as error:
        logger.exception("Signed contract upload for order %s failed", order.pk)
        raise UploadRefused(
            _(
                "Não foi possível enviar o contrato agora: o sistema da empresa não respondeu. "
                "Nada foi gravado. Tente novamente em alguns minutos."
            )
        ) from error
    logger.info(
        "Signed contract for order %s sent by %s (%s)", order.number, user.email, upload.sha256
    )
    return UploadResult(attachment, created=True)


# The contract as a PDF -----------------------------------------------------------------------


@dataclass(frozen=True)
class ContractPdf:
    file: FieldFile
    sha256: str
    filename: str


def _source_sha256(contract: Contract) -> str:
    return hashlib.sha256(f"{contract.title}\0{contract.content_html}".encode()).hexdigest()


def _rendered(contract: Contract) -> ContractDocument | None:
    return ContractDocument.objects.filter(
        contract=contract, source_sha256=_source_sha256(contract)
    ).first()


def _render_contract(contract: Contract, order: Order) -> bytes:
    return render_pdf(
        "pdf/contract.html",
        {
            "company": company_for(order.tenant),
            "contract": contract,
            "order": order,
            # The ERP's own HTML: rendered by WeasyPrint only (never in a browser page), which
            # runs no scripts and fetches nothing (proposals.pdf).
            "body": Markup(contract.content_html),
        },
        own_markup=False,
    )


def contract_pdf_ensure(*, contract: Contract) -> ContractPdf:
    """The contract's PDF: the file the ERP sent, or its HTML rendered once and kept.

    Expects `contract.order` with its tenant loaded.
    """
    order = contract.order
    filename = f"contrato-pedido-{order.number}.pdf"
    if contract.erp_file:
        return ContractPdf(contract.erp_file, contract.erp_file_sha256, filename)
    document = _rendered(contract)
    if document is None:
        with transaction.atomic():
            locked = Contract.objects.select_for_update().get(pk=contract.pk)
            document = _rendered(locked)
            if document is None:
                content = _render_contract(locked, order)
                document = ContractDocument(
                    tenant=order.tenant,
                    contract=locked,
                    source_sha256=_source_sha256(locked),
                    size=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    created_at=timezone.now(),
                )
                key = f"{order.tenant.slug}/{uuid.uuid4().hex}.pdf"
                document.file.save(key, ContentFile(content), save=False)
                try:
                    document.save()
                except Exception:
                    document.file.delete(save=False)
                    raise
    return ContractPdf(document.file, document.sha256, filename)
