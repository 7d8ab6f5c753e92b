"""Reads of an order's contract and its "Contrato Assinado" uploads, for the request's customer."""

import io
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.utils import timezone
from pypdf import PdfReader

from contracts.models import (
    SIGNING_CODE_TRIES,
    Contract,
    DigitalSignature,
    SealedContract,
    SignatureMode,
    SignatureTrail,
    SignerRole,
    SigningCode,
)
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
    digital: "DigitalSigning | None" = None

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


def contract_signing_for_order(*, order: Order, user: User) -> ContractSigning:
    """Expects `order.contract` and `order.approval` loaded (select_related) or absent."""
    contract = getattr(order, "contract", None)
    if contract is None:
        return ContractSigning(contract=None)
    if contract.signature_mode == SignatureMode.DIGITAL:
        contract.order = order
        return ContractSigning(
            contract=contract, digital=digital_signing_for(contract=contract, user=user)
        )
    return ContractSigning(
        contract=contract,
        signed=signed_contract_history(order=order),
        can_upload=signed_contract_upload_allowed(order=order),
    )


def contract_signer_emails_pending(*, contract: Contract) -> set[str]:
    """E-mails (lower case) of the designated signers who still have to sign this DIGITAL
    contract: no live signature (a change in the ERP voids those of the old text)."""
    if contract.signature_mode != SignatureMode.DIGITAL or contract.signed_at is not None:
        return set()
    signed = DigitalSignature.objects.filter(
        trail__contract=contract, voided_at__isnull=True
    ).values_list("email", flat=True)
    designated = contract.signers.values_list("email", flat=True)
    return {email.lower() for email in designated} - {email.lower() for email in signed}


# Digital signature ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SignerState:
    """A designated signer as the contract's page shows them."""

    email: str
    role: str
    role_label: str
    name: str
    has_login: bool
    is_me: bool
    signature: DigitalSignature | None = None

    @property
    def signed_at(self):
        return self.signature.signed_at if self.signature else None


@dataclass(frozen=True)
class DigitalSigning:
    """The digital signing of a contract: who must sign, who did, the seal, and the request's
    user's part in it (`me`, their pending `code`)."""

    contract: Contract
    is_open: bool
    trail: SignatureTrail | None = None
    signers: list[SignerState] = field(default_factory=list)
    voided: list[DigitalSignature] = field(default_factory=list)
    seal: SealedContract | None = None
    me: SignerState | None = None
    code: SigningCode | None = None

    @property
    def signed_count(self) -> int:
        return sum(1 for signer in self.signers if signer.signature is not None)

    @property
    def complete(self) -> bool:
        return bool(self.signers) and self.signed_count == len(self.signers)

    @property
    def can_sign(self) -> bool:
        return self.me is not None and self.me.signature is None and self.is_open

    @property
    def voided_mine(self) -> list[DigitalSignature]:
        if self.me is None or self.me.signature is not None:
            return []
        return [s for s in self.voided if s.email == self.me.email]


ROLE_ORDER = {SignerRole.PARTY: 0, SignerRole.WITNESS: 1}


def digital_signing_for(*, contract: Contract, user: User) -> DigitalSigning | None:
    """The digital signing of one of the customer's contracts (None: not a DIGITAL contract).

    Expects `contract.order` (with tenant and approval). Six queries, however many signers,
    signatures or evidence events the contract has.
    """
    if contract.signature_mode != SignatureMode.DIGITAL:
        return None
    order = contract.order
    is_open = order.status == OrderStatus.PROPOSAL and getattr(order, "approval", None) is None
    designated = sorted(contract.signers.all(), key=lambda s: (ROLE_ORDER.get(s.role, 9), s.pk))
    trail = SignatureTrail.objects.filter(contract=contract).first()
    signatures, seal = [], None
    if trail is not None:
        signatures = list(DigitalSignature.objects.filter(trail=trail).order_by("signed_at", "pk"))
        seal = SealedContract.objects.filter(trail=trail, voided_at__isnull=True).first()
        if seal is not None:
            seal.trail = trail  # its download name needs the order number: no query for it
    live = {s.email: s for s in signatures if s.voided_at is None}
    emails = [signer.email.lower() for signer in designated]
    logins = {
        login.email.lower(): login
        for login in User.objects.filter(
            tenant_id=contract.tenant_id,
            customer_id=order.customer_id,
            email__in=emails,
            is_active=True,
        )
    }
    me_email = user.email.lower() if user.customer_id == order.customer_id else None
    signers = []
    for signer in designated:
        email = signer.email.lower()
        signature = live.get(email)
        login = logins.get(email)
        name = signature.full_name if signature else (login.name if login and login.name else "")
        signers.append(
            SignerState(
                email=email,
                role=signer.role,
                role_label=signer.get_role_display(),
                name=name,
                has_login=login is not None,
                is_me=email == me_email,
                signature=signature,
            )
        )
    me = next((s for s in signers if s.is_me), None)
    code = None
    if me is not None and me.signature is None and trail is not None:
        code = SigningCode.objects.filter(
            trail=trail,
            user=user,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            attempts__lt=SIGNING_CODE_TRIES,
        ).first()
    return DigitalSigning(
        contract=contract,
        is_open=is_open,
        trail=trail,
        signers=signers,
        voided=[s for s in signatures if s.voided_at is not None],
        seal=seal,
        me=me,
        code=code,
    )


def digital_signing_for_signer(*, contract: Contract, user: User) -> DigitalSigning:
    """The signing page's state: Http404 unless the user is a designated signer of this
    DIGITAL contract (anyone else gets the same answer as for a contract that does not exist)."""
    signing = digital_signing_for(contract=contract, user=user)
    if signing is None or signing.me is None:
        raise Http404("Contrato não encontrado.")
    return signing


def sealed_contract_get_for_user(*, tenant: Tenant | None, user: User, number: int):
    """The live sealed "Contrato Assinado" of one of the customer's orders (Http404 if none)."""
    contract = contract_get_for_user(tenant=tenant, user=user, number=number)
    seal = (
        SealedContract.objects.filter(
            trail__contract=contract, voided_at__isnull=True, tenant=tenant
        )
        .select_related("trail")
        .first()
    )
    if seal is None:
        raise Http404("Contrato Assinado não encontrado.")
    return seal


def signed_contract_sha256(*, order: Order) -> str:
    """The SHA-256 of the "Contrato Assinado" an approval binds: the sealed file of a digital
    signature, or the current upload (empty: none). Expects `order.contract` loaded or absent."""
    contract = getattr(order, "contract", None)
    if contract is not None and contract.signature_mode == SignatureMode.DIGITAL:
        seal = SealedContract.objects.filter(
            trail__contract=contract, voided_at__isnull=True
        ).first()
        return seal.sealed_sha256 if seal else ""
    upload = signed_contract_current(order=order)
    return upload.sha256 if upload else ""


def sealed_contract_for_code(*, tenant: Tenant | None, code: str) -> SealedContract | None:
    """The sealed contract with this verification code at this tenant (None otherwise)."""
    if tenant is None:
        return None
    return (
        SealedContract.objects.filter(tenant=tenant, verification_code=code.strip().upper())
        .select_related("trail", "certificate")
        .first()
    )


CONTRACT_TEXT_CACHE_SECONDS = 24 * 60 * 60
SENTENCE_END = re.compile(r"[.:;!?)]$")


def _paragraphs(text: str) -> list[str]:
    """Lines of PDF text joined back into paragraphs: a line ends one when it ends a sentence
    or stops well short of the longest line (a heading, a signature line)."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    width = max((len(line) for line in lines), default=0)
    paragraphs, current = [], []
    for line in lines:
        if not line:
            continue
        current.append(line)
        if SENTENCE_END.search(line) or len(line) < 0.6 * width:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def contract_text(*, file, sha256: str) -> list[str]:
    """The contract PDF's text, paragraph by paragraph, for the signing page (readable on a
    phone; the ERP's HTML itself is never put in a page). Cached per file content."""
    key = f"contract-text:{sha256}"
    paragraphs = cache.get(key)
    if paragraphs is None:
        with file.open("rb") as stream:
            reader = PdfReader(io.BytesIO(stream.read()))
            text = "\n".join(page.extract_text() or "" for page in reader.pages)
        paragraphs = _paragraphs(text)
        cache.set(key, paragraphs, CONTRACT_TEXT_CACHE_SECONDS)
    return paragraphs
