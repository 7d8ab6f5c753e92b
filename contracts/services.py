"""Writes on contracts: the "Contrato Assinado" upload, written through to the ERP, and the
contract's PDF (the ERP's own file, or its HTML rendered once under the portal's letterhead)."""

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scope
from markupsafe import Markup

from contracts.models import Contract, ContractDocument, SignatureMode
from contracts.selectors import (
    signed_contract_current,
    signed_contract_history,
    signed_contract_upload_allowed,
)
from contracts.uploads import EXTENSIONS, ValidatedUpload
from erp_sync.gateway import (
    ErpEvent,
    erp_event_add,
    erp_order_is_open,
    erp_signed_contract_store,
)
from erp_sync.router import erp_alias
from notifications.tasks import notify_company_contract_uploaded
from portal.accounts.models import User
from portal.background.queue import enqueue_on_commit
from portal.documents.pdf import company_for, render_pdf
from portal.documents.storage import StorageUnavailable, file_discard, file_store
from portal.documents.stored import document_store_once
from proposals.models import Attachment, AttachmentKind, AttachmentOrigin, Order, OrderStatus

logger = logging.getLogger(__name__)

# Re-reads one order from the ERP into the portal: called as remirror(tenant=…, erp_id=…)
# (erp_sync.mirror.erp_sync_order, handed in by the view: the mirror sits above this module).
Remirror = Callable[..., object]


SIGNED_BEFORE_CHANGE = gettext_lazy(
    "Este arquivo foi assinado antes da alteração do contrato e não vale mais. Baixe o "
    "contrato atualizado, assine e envie novamente."
)


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
    if not erp_order_is_open(company_id=company, erp_id=order.erp_id):
        raise _ErpNotOpen
    erp_signed_contract_store(
        erp_id=order.erp_id,
        name=upload.display_name,
        mime=upload.mime,
        content=upload.content,
        sha256=upload.sha256,
        now=now,
    )
    erp_event_add(
        company_id=company,
        erp_id=order.erp_id,
        kind=ErpEvent.CONTRACT_SENT,
        data={
            "email": user.email,
            "ip": ip_address,
            "versao": order.erp_version,
            "sha256": upload.sha256,
        },
        now=now,
    )


def _attachment_stored(
    *, order: Order, user: User, upload: ValidatedUpload, ip_address, now
) -> Attachment:
    """The portal's row for the upload (not saved yet), its file already in storage."""
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
    file_store(attachment.file, key, upload.content)
    return attachment


def _take(*, order: Order, user: User, upload: ValidatedUpload, ip_address) -> UploadResult:
    attachment = None
    try:
        with transaction.atomic():
            contract = Contract.objects.select_for_update().filter(order_id=order.pk).first()
            # Under the lock: the order of uploads is the order they reach both sides.
            now = timezone.now()
            current_order = Order.objects.select_related("tenant", "approval").get(pk=order.pk)
            current_order.contract = contract
            if contract is None or not signed_contract_upload_allowed(order=current_order):
                raise UploadRefused(_refusal(current_order))
            history = signed_contract_history(order=current_order)
            current = signed_contract_current(order=current_order)
            if current is not None and current.sha256 == upload.sha256:
                return UploadResult(current, created=False)
            if any(a.voided_at and a.sha256 == upload.sha256 for a in history):
                raise UploadRefused(SIGNED_BEFORE_CHANGE)
            record = {"user": user, "upload": upload, "ip_address": ip_address, "now": now}
            # The file first: a storage that fails leaves no trace in the ERP or the portal.
            attachment = _attachment_stored(order=current_order, **record)
            with transaction.atomic(using=erp_alias()):
                _erp_send(order=current_order, **record)
            attachment.save()
            contract.signed_at = now
            contract.save(update_fields=["signed_at"])
            enqueue_on_commit(
                notify_company_contract_uploaded,
                tenant_id=order.tenant_id,
                attachment_id=attachment.pk,
            )
    except Exception:
        if attachment is not None:  # its row was rolled back: the file would be an orphan
            file_discard(attachment.file.storage, attachment.file.name)
        raise
    return UploadResult(attachment, created=True)


def signed_contract_upload(
    *,
    order: Order,
    user: User,
    upload: ValidatedUpload,
    remirror: Remirror,
    ip_address: str | None = None,
) -> UploadResult:
    """Take a validated "Contrato Assinado" for the order's MANUAL contract, until approval.

    The last upload counts (earlier ones stay as history) and sets Contract.signed_at, which
    unlocks APROVAR PROPOSTA. Sending the same file again (a double click) stores nothing new.
    The file is stored first; then, with one database, the ERP rows and the portal's share one
    transaction. Two: the ERP commits first; the contract row stays locked meanwhile, so uploads
    of one order never interleave. An ERP order that is no longer open is re-read into the
    portal with `remirror`.
    """
    try:
        result = _take(order=order, user=user, upload=upload, ip_address=ip_address)
    except _ErpNotOpen:
        remirror(tenant=order.tenant, erp_id=order.erp_id)
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
    except StorageUnavailable as error:
        raise UploadRefused(
            "Não foi possível receber o Contrato Assinado agora: o armazenamento de arquivos do "
            "portal não está disponível. Nada foi gravado; envie o arquivo novamente em alguns "
            "minutos."
        ) from error
    if result.created:
        logger.info(
            "Signed contract for order %s sent by %s (%s)",
            order.number,
            user.email,
            upload.sha256,
        )
    return result


# The contract as a PDF -----------------------------------------------------------------------


@dataclass(frozen=True)
class ContractPdf:
    file: FieldFile
    sha256: str
    filename: str


def _source_sha256(contract: Contract) -> str:
    return hashlib.sha256(f"{contract.title}\0{contract.content_html}".encode()).hexdigest()


def contract_source_key(contract: Contract) -> str:
    """What the contract is made of, as the ERP has it now: its file's SHA-256, or its title and
    HTML's. A signature binds this; when it changes, the signature is void."""
    return contract.erp_file_sha256 or _source_sha256(contract)


def _render_contract(contract: Contract, order: Order) -> bytes:
    return render_pdf(
        "pdf/contract.html",
        {
            "company": company_for(order.tenant),
            "contract": contract,
            "order": order,
            # The ERP's own HTML: rendered by WeasyPrint only (never in a browser page), which
            # runs no scripts and fetches nothing (portal.documents.pdf).
            "body": Markup(contract.content_html),
        },
        own_markup=False,
    )


def contract_pdf_ensure(*, contract: Contract) -> ContractPdf:
    """The contract's PDF: the file the ERP sent, or its HTML rendered once and kept.

    Expects `contract.order` with its tenant loaded. Renders outside any transaction and stores
    the result once (portal.documents.stored); works in a request and in a worker alike.
    """
    order = contract.order
    filename = f"contrato-pedido-{order.number}.pdf"
    if contract.erp_file:
        return ContractPdf(contract.erp_file, contract.erp_file_sha256, filename)
    source = _source_sha256(contract)
    with scope(tenant=contract.tenant_id):
        document = document_store_once(
            stored=lambda: ContractDocument.objects.filter(
                contract=contract, source_sha256=source
            ).first(),
            render=lambda: _render_contract(contract, order),
            build=lambda **file: ContractDocument(
                tenant=order.tenant,
                contract=contract,
                source_sha256=source,
                created_at=timezone.now(),
                **file,
            ),
            folder=order.tenant.slug,
        )
    return ContractPdf(document.file, document.sha256, filename)
