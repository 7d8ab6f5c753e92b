"""Writes on orders: the customer's approval, written through to the ERP's row, and the
customer's decline, handed to the ERP as an event.

Approving needs the order and the state of its contract, so this module sits above both
proposals' and contracts' models and selectors (DESIGN.md, "Layout"). The mirror sits above it:
callers hand in `remirror`, the mirror's re-read of one order (erp_sync.mirror.erp_sync_order).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts.models import SignatureMode
from contracts.selectors import signed_contract_sha256
from erp_sync.gateway import ErpEvent, erp_event_add, erp_order_is_open, erp_order_mark_approved
from erp_sync.router import erp_alias, erp_is_portal_database
from notifications.tasks import (
    notify_approval_confirmation,
    notify_company_proposal_approved,
    notify_company_proposal_declined,
)
from portal import formats
from portal.accounts.models import User
from portal.background.queue import enqueue_on_commit
from proposals.documents import proposal_pdf_ensure
from proposals.models import Approval, Decline, Order, OrderStatus

logger = logging.getLogger(__name__)

# Re-reads one order from the ERP into the portal: called as remirror(tenant=…, erp_id=…).
Remirror = Callable[..., object]


CONTRACT_CHANGED = gettext_lazy(
    "O contrato foi alterado pela empresa depois do envio do Contrato Assinado. Baixe o "
    "contrato atualizado, assine e envie novamente antes de aprovar a proposta."
)


def order_declined_as_is(*, order: Order) -> Decline | None:
    """The customer's decline of the order as it stands now (its current version), if any.

    Uses the `declined_as_is` annotation or the prefetched declines when the selector loaded
    them; asks the database otherwise.
    """
    if getattr(order, "declined_as_is", None) is False:
        return None
    cache = getattr(order, "_prefetched_objects_cache", {})
    if "declines" in cache:
        declines = cache["declines"]
    else:
        declines = Decline.objects.filter(order=order).select_related("user")
    return next((d for d in declines if d.order_version == order.erp_version), None)


def order_next_action(order: Order) -> str:
    """What a proposal awaiting the customer asks of them first: "sign" its contract (one not
    signed yet), else "approve". Reads the contract loaded with the order, if any."""
    # No contract raises RelatedObjectDoesNotExist, an AttributeError.
    contract = getattr(order, "contract", None)
    return "sign" if contract is not None and not contract.is_signed else "approve"


def order_approval_blockers(*, order: Order, today: date | None = None) -> list[str]:
    """Why this order cannot be approved now, in pt-BR (empty: APROVAR PROPOSTA is live).

    Expects `order.contract` loaded (select_related) or absent.
    """
    today = today or timezone.localdate()
    if order.status != OrderStatus.PROPOSAL:
        if order.status == OrderStatus.APPROVED:
            return [_("Esta proposta já foi aprovada.")]
        return [
            _("Esta proposta não está aberta para aprovação (status: %(status)s).")
            % {"status": order.get_status_display()}
        ]
    if order_declined_as_is(order=order) is not None:
        return [
            _(
                "Você recusou esta proposta. A empresa vai analisar o motivo; se ela enviar "
                "uma nova versão, você poderá aprová-la aqui."
            )
        ]
    reasons = []
    if order.valid_until is not None and order.valid_until < today:
        reasons.append(
            _(
                "A validade desta proposta terminou em %(date)s. "
                "Peça ao vendedor uma proposta atualizada."
            )
            % {"date": formats.date_br(order.valid_until)}
        )
    contract = getattr(order, "contract", None)
    if contract is not None and not contract.is_signed:
        if contract.signature_mode == SignatureMode.DIGITAL:
            reasons.append(
                _(
                    "O contrato precisa ser assinado digitalmente por todos os signatários "
                    "antes da aprovação."
                )
            )
        elif contract.changed_after_signing:
            reasons.append(CONTRACT_CHANGED)
        else:
            reasons.append(_("Envie o contrato assinado antes de aprovar a proposta."))
    return reasons


class ApprovalOutcome(StrEnum):
    APPROVED = "approved"
    ALREADY_APPROVED = "already_approved"
    CHANGED = "changed"
    NOT_ALLOWED = "not_allowed"
    UNAVAILABLE = "unavailable"


def _approval_message(outcome: ApprovalOutcome, number: int) -> str:
    messages = {
        ApprovalOutcome.APPROVED: _(
            "Proposta %(number)s aprovada. O pedido segue para faturamento."
        ),
        ApprovalOutcome.ALREADY_APPROVED: _("A proposta %(number)s já estava aprovada."),
        ApprovalOutcome.CHANGED: _(
            "A proposta %(number)s foi alterada pela empresa depois que você a abriu. Nada foi "
            "aprovado: confira abaixo o que mudou antes de aprovar novamente."
        ),
        ApprovalOutcome.UNAVAILABLE: _(
            "Não foi possível aprovar a proposta %(number)s agora: o sistema da empresa não "
            "respondeu. Nada foi aprovado. Tente novamente em alguns minutos."
        ),
    }
    return messages[outcome] % {"number": number}


@dataclass(frozen=True)
class ApprovalResult:
    outcome: ApprovalOutcome
    message: str
    approval: Approval | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in (ApprovalOutcome.APPROVED, ApprovalOutcome.ALREADY_APPROVED)

    @property
    def changed(self) -> bool:
        return self.outcome == ApprovalOutcome.CHANGED


def _result(outcome: ApprovalOutcome, order: Order, approval=None) -> ApprovalResult:
    return ApprovalResult(outcome, _approval_message(outcome, order.number), approval)


def _cancelled(order: Order) -> ApprovalResult:
    """The ERP cancelled the proposal, perhaps while the customer was confirming: say so, not
    "confira o que mudou"."""
    message = _(
        "A proposta %(number)s foi cancelada pela empresa e não está aberta para aprovação. "
        "Nada foi aprovado."
    )
    return ApprovalResult(ApprovalOutcome.NOT_ALLOWED, message % {"number": order.number})


class _ErpRefused(Exception):
    """The conditional UPDATE matched no row: the ERP's order is not the one the customer saw."""


def _erp_approve(*, order: Order, user: User, seen_version: int, now, ip_address: str | None):
    """The write-through: one conditional UPDATE on erp_pedido, plus the portal event row."""
    company = order.tenant.erp_company_id
    approved = erp_order_mark_approved(
        company_id=company,
        erp_id=order.erp_id,
        seen_version=seen_version,
        approved_by=user.email,
        now=now,
    )
    if not approved:
        raise _ErpRefused
    erp_event_add(
        company_id=company,
        erp_id=order.erp_id,
        kind=ErpEvent.PROPOSAL_APPROVED,
        data={"email": user.email, "ip": ip_address, "versao": seen_version},
        now=now,
    )


def _record_approval(
    *,
    order,
    user,
    seen_version,
    now,
    ip_address,
    user_agent,
    remirror: Remirror,
    proposal_sha256="",
    signed_contract_sha256="",
) -> Approval:
    approval = Approval.objects.create(
        tenant=order.tenant,
        order=order,
        user=user,
        approved_at=now,
        ip_address=ip_address,
        user_agent=user_agent[:1000],
        order_version=seen_version,
        proposal_sha256=proposal_sha256,
        signed_contract_sha256=signed_contract_sha256,
    )
    remirror(tenant=order.tenant, erp_id=order.erp_id)
    # The customer's confirmation (with the approved PDF) and the company's notice, once the
    # approval commits; the customer never waits for the mail server.
    for notify in (notify_approval_confirmation, notify_company_proposal_approved):
        enqueue_on_commit(notify, tenant_id=order.tenant_id, approval_id=approval.pk)
    return approval


def _record_approval_after_erp(**record) -> Approval | None:
    """Two databases: the ERP has committed the approval; a portal failure now loses nothing
    the customer did, since the next sync mirrors the ERP's APR (the Approval row is then absent,
    the ERP's event row holds the evidence)."""
    try:
        with transaction.atomic():
            return _record_approval(**record)
    except DatabaseError:
        logger.exception("Order %s approved in the ERP; portal record failed", record["order"].pk)
        return None


def _outcome_after_refusal(*, order: Order, remirror: Remirror) -> ApprovalResult:
    """Nothing was approved: re-mirror the order and tell the customer what the ERP says now."""
    remirror(tenant=order.tenant, erp_id=order.erp_id)
    current = (
        Order.objects.filter(pk=order.pk, removed_at__isnull=True)
        .select_related("contract")
        .first()
    )
    if current is None:
        return ApprovalResult(
            ApprovalOutcome.NOT_ALLOWED, _("Esta proposta não está mais disponível no sistema.")
        )
    if current.status == OrderStatus.APPROVED:
        return _result(ApprovalOutcome.ALREADY_APPROVED, current)
    if current.status == OrderStatus.CANCELLED:
        return _cancelled(current)
    if current.status == OrderStatus.PROPOSAL and current.erp_version != order.erp_version:
        return _result(ApprovalOutcome.CHANGED, current)
    return ApprovalResult(
        ApprovalOutcome.NOT_ALLOWED, " ".join(order_approval_blockers(order=current))
    )


def order_approve(
    *,
    order: Order,
    user: User,
    seen_version: int,
    remirror: Remirror,
    ip_address: str | None = None,
    user_agent: str = "",
) -> ApprovalResult:
    """Approve a proposal as the customer saw it (version `seen_version`). Idempotent.

    The ERP's row is the arbiter: `UPDATE … WHERE status='PRO' AND versao=<seen>` matches once.
    One database: the ERP write, the event and the portal's Approval share one transaction.
    Two databases: the ERP first, then the portal; if the portal part fails, the next sync
    repairs the order's status from the ERP. `remirror` brings the ERP's order into the portal
    after the approval and after a refusal (erp_sync.mirror.erp_sync_order).
    """
    if Approval.objects.filter(order=order).exists():
        return _result(ApprovalOutcome.ALREADY_APPROVED, order)
    if order.status == OrderStatus.CANCELLED:
        return _cancelled(order)
    if seen_version != order.erp_version:
        return _result(ApprovalOutcome.CHANGED, order)
    blockers = order_approval_blockers(order=order)
    if blockers:
        if order.status == OrderStatus.APPROVED:
            return _result(ApprovalOutcome.ALREADY_APPROVED, order)
        return ApprovalResult(ApprovalOutcome.NOT_ALLOWED, " ".join(map(str, blockers)))

    # What the customer had in front of them: the proposal PDF of the version seen (rendered
    # now if they never opened it) and the current "Contrato Assinado" (upload or seal).
    document = proposal_pdf_ensure(order=order)
    if document.erp_version != seen_version:
        # The mirror moved on while the PDF was rendered: perhaps another click approved it.
        return _outcome_after_refusal(order=order, remirror=remirror)
    evidence = {
        "proposal_sha256": document.sha256,
        # A digital signature: the sealed file (never the ERP's contract as it is now).
        "signed_contract_sha256": signed_contract_sha256(order=order),
    }

    now = timezone.now()
    record = {
        "order": order,
        "user": user,
        "seen_version": seen_version,
        "now": now,
        "ip_address": ip_address,
    }
    try:
        if erp_is_portal_database():
            with transaction.atomic():
                _erp_approve(**record)
                approval = _record_approval(
                    **record, user_agent=user_agent, remirror=remirror, **evidence
                )
        else:
            with transaction.atomic(using=erp_alias()):
                _erp_approve(**record)
            approval = _record_approval_after_erp(
                **record, user_agent=user_agent, remirror=remirror, **evidence
            )
    except _ErpRefused:
        return _outcome_after_refusal(order=order, remirror=remirror)
    except IntegrityError:
        # The other click of a double click recorded the Approval first.
        return _result(ApprovalOutcome.ALREADY_APPROVED, order)
    except DatabaseError:
        logger.exception("Approval of order %s failed on the database", order.pk)
        return _result(ApprovalOutcome.UNAVAILABLE, order)
    logger.info("Order %s approved by %s (version %s)", order.number, user.email, seen_version)
    return _result(ApprovalOutcome.APPROVED, order, approval)


# Decline ------------------------------------------------------------------------------------


class DeclineOutcome(StrEnum):
    DECLINED = "declined"
    ALREADY_DECLINED = "already_declined"
    CHANGED = "changed"
    NOT_ALLOWED = "not_allowed"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class DeclineResult:
    outcome: DeclineOutcome
    message: str
    decline: Decline | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in (DeclineOutcome.DECLINED, DeclineOutcome.ALREADY_DECLINED)

    @property
    def changed(self) -> bool:
        return self.outcome == DeclineOutcome.CHANGED


def order_decline_blockers(*, order: Order) -> list[str]:
    """Why the customer cannot decline this order now (empty: RECUSAR PROPOSTA is live).

    An expired proposal may still be declined: it tells the company why it was not taken.
    Expects `order.approval` loaded (select_related) or absent.
    """
    if order.status != OrderStatus.PROPOSAL or getattr(order, "approval", None) is not None:
        return [_("Só uma proposta em aberto pode ser recusada.")]
    if order_declined_as_is(order=order) is not None:
        return [_("Você já recusou esta proposta.")]
    return []


def _erp_decline_event(*, order: Order, user: User, reason: str, seen_version, now, ip_address):
    erp_event_add(
        company_id=order.tenant.erp_company_id,
        erp_id=order.erp_id,
        kind=ErpEvent.PROPOSAL_DECLINED,
        data={"reason": reason, "email": user.email, "ip": ip_address, "versao": seen_version},
        now=now,
    )


def _record_decline(*, order, user, reason, seen_version, now, ip_address, user_agent) -> Decline:
    return Decline.objects.create(
        tenant=order.tenant,
        order=order,
        user=user,
        declined_at=now,
        reason=reason,
        ip_address=ip_address,
        user_agent=user_agent[:1000],
        order_version=seen_version,
    )


def order_decline_notify(*, decline: Decline) -> None:
    """The tenant's "proposta recusada" mail (to its notification e-mail, with the reason),
    queued once the decline commits; the customer never waits for the mail server."""
    logger.info(
        "Order %s declined by %s (version %s)",
        decline.order.number,
        decline.user.email,
        decline.order_version,
    )
    enqueue_on_commit(
        notify_company_proposal_declined,
        tenant_id=decline.tenant_id,
        order_id=decline.order_id,
        user_id=decline.user_id,
        decline_id=decline.pk,
        reason=decline.reason,
        declined_at=decline.declined_at.isoformat(),
    )


def order_decline(
    *,
    order: Order,
    user: User,
    reason: str,
    seen_version: int,
    remirror: Remirror,
    ip_address: str | None = None,
    user_agent: str = "",
) -> DeclineResult:
    """The customer declines the proposal as they saw it (version `seen_version`), saying why.

    The portal records the decline and hands it to the ERP as a PROPOSTA_RECUSADA event; the
    ERP decides what follows (a new version, a cancellation). Idempotent: one decline per
    version. One database: the event and the Decline share one transaction. `remirror` brings
    the ERP's order into the portal when the ERP no longer shows what the customer saw
    (erp_sync.mirror.erp_sync_order).
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("A decline needs a reason.")
    number = order.number
    if seen_version != order.erp_version:
        return DeclineResult(
            DeclineOutcome.CHANGED,
            _(
                "A proposta %(number)s foi alterada pela empresa depois que você a abriu. Nada "
                "foi recusado: confira abaixo o que mudou."
            )
            % {"number": number},
        )
    blockers = order_decline_blockers(order=order)
    if blockers:
        if order_declined_as_is(order=order) is not None:
            return DeclineResult(DeclineOutcome.ALREADY_DECLINED, blockers[0])
        return DeclineResult(DeclineOutcome.NOT_ALLOWED, " ".join(map(str, blockers)))

    record = {
        "order": order,
        "user": user,
        "reason": reason,
        "seen_version": seen_version,
        "now": timezone.now(),
        "ip_address": ip_address,
    }
    try:
        if not erp_order_is_open(
            company_id=order.tenant.erp_company_id, erp_id=order.erp_id, seen_version=seen_version
        ):
            remirror(tenant=order.tenant, erp_id=order.erp_id)
            return DeclineResult(
                DeclineOutcome.CHANGED,
                _(
                    "A proposta %(number)s mudou no sistema da empresa enquanto você a recusava. "
                    "Nada foi recusado: confira a proposta como ela está agora."
                )
                % {"number": number},
            )
        # The portal's row first: its unique constraint settles a double click before the
        # ERP hears of it. With two databases the ERP's event commits just before the portal.
        with transaction.atomic():
            decline = _record_decline(**record, user_agent=user_agent)
            with transaction.atomic(using=erp_alias()):
                _erp_decline_event(**record)
    except IntegrityError:
        # The other click of a double click recorded the decline first.
        return DeclineResult(DeclineOutcome.ALREADY_DECLINED, _("Você já recusou esta proposta."))
    except DatabaseError:
        logger.exception("Decline of order %s failed on the database", order.pk)
        return DeclineResult(
            DeclineOutcome.UNAVAILABLE,
            _(
                "Não foi possível recusar a proposta %(number)s agora: o sistema da empresa não "
                "respondeu. Nada foi recusado. Tente novamente em alguns minutos."
            )
            % {"number": number},
        )
    order_decline_notify(decline=decline)
    return DeclineResult(
        DeclineOutcome.DECLINED,
        _("Proposta %(number)s recusada. A empresa recebeu o seu motivo.") % {"number": number},
        decline,
    )
