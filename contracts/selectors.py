"""Reads of an order's contract and its "Contrato Assinado" uploads, for the request's customer."""

from dataclasses import dataclass, field

from django.conf import settings
from django.http import Http404

from contracts.models import Contract, SignatureMode
from portal.accounts.models import Tenant, User
from proposals.models import Attachment, AttachmentKind, AttachmentOrigin, Order, OrderStatus
from proposals.selectors import order_get_brief_for_user


def contract_get_for_user(*, tenant: Tenant | None, user: User, number: int) -> Contract:
    """The contract of one of the customer's orders (Http404 if the order or contract is not)."""
    order = order_get_brief_for_user(tenant=tenant, user=user, number=number)
    contract = getattr(order, "contract", None)
    if contract is None:
        raise Http404("Contrato não encontrado.")
    contract.order = order
    return contract


def _is_signed_upload(attachment: Attachment) -> bool:
    return (
        attachment.kind == AttachmentKind.SIGNED_CONTRACT
        and attachment.origin == AttachmentOrigin.PORTAL
    )


def signed_contract_history(*, order: Order) -> list[Attachment]:
    """Every "Contrato Assinado" the customer sent for the order, last (the one that counts)
    first. Uses the order's prefetched attachments when it has them.

    By id: uploads are stored one at a time under the contract's lock, the order in which
    they also replaced the ERP's copy (a clock read before the lock would not be).
    """
    cache = getattr(order, "_prefetched_objects_cache", {})
    if "attachments" in cache:
        uploads = [a for a in cache["attachments"] if _is_signed_upload(a)]
        return sorted(uploads, key=lambda a: a.pk, reverse=True)
    return list(
        Attachment.objects.filter(
            order=order, kind=AttachmentKind.SIGNED_CONTRACT, origin=AttachmentOrigin.PORTAL
        ).order_by("-id")
    )


def signed_contract_current(*, order: Order) -> Attachment | None:
    """The upload that counts: the newest, unless the contract changed after it (void)."""
    history = signed_contract_history(order=order)
    return history[0] if history and history[0].voided_at is None else None


def signed_contract_upload_allowed(*, order: Order) -> bool:
    """A MANUAL contract takes (and replaces) its signed copy until the proposal is approved."""
    contract = getattr(order, "contract", None)
    return (
        contract is not None
        and contract.signature_mode == SignatureMode.MANUAL
        and order.status == OrderStatus.PROPOSAL
        and getattr(order, "approval", None) is None
    )


@dataclass(frozen=True)
class ContractSigning:
    """What the order's documents area shows about its contract."""

    contract: Contract | None
    signed: list[Attachment] = field(default_factory=list)
    can_upload: bool = False

    @property
    def current(self) -> Attachment | None:
        return self.signed[0] if self.signed and self.signed[0].voided_at is None else None

    @property
    def voided(self) -> Attachment | None:
        """The newest upload, when the contract changed after it: it must be sent again."""
        return self.signed[0] if self.signed and self.signed[0].voided_at is not None else None

    @property
    def earlier(self) -> list[Attachment]:
        return self.signed[1:] if self.current else self.signed

    @property
    def max_upload_bytes(self) -> int:
        return settings.SIGNED_CONTRACT_MAX_BYTES


def contract_signing_for_order(*, order: Order) -> ContractSigning:
    """Expects `order.contract` and `order.approval` loaded (select_related) or absent."""
    contract = getattr(order, "contract", None)
    if contract is None:
        return ContractSigning(contract=None)
    return ContractSigning(
        contract=contract,
        signed=signed_contract_history(order=order),
        can_upload=signed_contract_upload_allowed(order=order),
    )


def contract_signer_emails_pending(*, contract: Contract) -> set[str]:
    """E-mails (lower case) of the designated signers who still have to sign this DIGITAL
    contract: everyone designated until the contract is signed (the signing reminders' read)."""
    if contract.signature_mode != SignatureMode.DIGITAL or contract.signed_at is not None:
        return set()
    return {email.lower() for email in contract.signers.values_list("email", flat=True)}
