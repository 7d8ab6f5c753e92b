"""Writes on orders: the customer's approval, written through to the ERP's row.

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

from contracts.models import SignatureMode
from contracts.selectors import signed_contract_current
from erp_sync.gateway import ErpEvent, erp_event_add, erp_order_mark_approved
from erp_sync.router import erp_alias, erp_is_portal_database
from notifications.tasks import notify_approval_confirmation, notify_company_proposal_approved
from portal import formats
from portal.accounts.models import User
from portal.background.queue import enqueue_on_commit
from proposals.documents import proposal_pdf_ensure
from proposals.models import Approval, Order, OrderStatus

logger = logging.getLogger(__name__)

# Re-reads one order from the ERP into the portal: called as remirror(tenant=…, erp_id=…).
Remirror = Callable[..., object]


CONTRACT_CHANGED = (
    "O contrato foi alterado pela empresa depois do envio do Contrato Assinado. Baixe o "
    "contrato atualizado, assine e envie novamente antes de aprovar a proposta."
)


def order_approval_blockers(*, order: Order, today: date | None = None) -> list[str]:
    """Why this order cannot be approved now, in pt-BR (empty: APROVAR PROPOSTA is live).

    Expects `order.contract` loaded (select_related) or absent.
    """
    today = today or timezone.localdate()
    if order.status != OrderStatus.PROPOSAL:
        if order.status == OrderStatus.APPROVED:
            return ["Esta proposta já foi aprovada."]
        status = order.get_status_display()
        return [f"Esta proposta não está aberta para aprovação (status: {status})."]
    reasons = []
    if order.valid_until is not None and order.valid_until < today:
        reasons.append(
            f"A validade desta proposta terminou em {formats.date_br(order.valid_until)}. "
            "Peça ao vendedor uma proposta atualizada."
        )
    contract = getattr(order, "contract", None)
    if contract is not None and not contract.is_signed:
        if contract.signature_mode == SignatureMode.DIGITAL:
            reasons.append(
                "O contrato precisa ser assinado digitalmente por todos os signatários "
                "antes da aprovação."
            )
        elif contract.changed_after_signing:
            reasons.append(CONTRACT_CHANGED)
        else:
            reasons.append("Envie o contrato assinado antes de aprovar a proposta.")
    return reasons


class ApprovalOutcome(StrEnum):
    APPROVED = "approved"
    ALREADY_APPROVED = "already_approved"
    CHANGED = "changed"
    NOT_ALLOWED = "not_allowed"
    UNAVAILABLE = "unavailable"


MESSAGES = {
    ApprovalOutcome.APPROVED: "Proposta {number} aprovada. O pedido segue para faturamento.",
    ApprovalOutcome.ALREADY_APPROVED: "A proposta {number} já estava aprovada.",
    ApprovalOutcome.CHANGED: (
        "A proposta {number} foi alterada pela empresa depois que você a abriu. Nada foi "
        "aprovado: confira abaixo o que mudou antes de aprovar novamente."
    ),
    ApprovalOutcome.UNAVAILABLE: (
        "Não foi possível aprovar a proposta {number} agora: o sistema da empresa não respondeu. "
        "Nada foi aprovado. Tente novamente em alguns minutos."
    ),
}


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
    return ApprovalResult(outcome, MESSAGES[outcome].format(number=order.number), approval)


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
            ApprovalOutcome.NOT_ALLOWED, "Esta proposta não está mais disponível no sistema."
        )
    if current.status == OrderStatus.APPROVED:
        return _result(ApprovalOutcome.ALREADY_APPROVED, current)
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
    if seen_version != order.erp_version:
        return _result(ApprovalOutcome.CHANGED, order)
    blockers = order_approval_blockers(order=order)
    if blockers:
        if order.status == OrderStatus.APPROVED:
            return _result(ApprovalOutcome.ALREADY_APPROVED, order)
        return ApprovalResult(ApprovalOutcome.NOT_ALLOWED, " ".join(blockers))

    # What the customer had in front of them: the proposal PDF of the version seen (rendered
    # now if they never opened it) and the current "Contrato Assinado".
    document = proposal_pdf_ensure(order=order)
    if document.erp_version != seen_version:
        return _result(ApprovalOutcome.CHANGED, order)
    signed = signed_contract_current(order=order)
    evidence = {
        "proposal_sha256": document.sha256,
        "signed_contract_sha256": signed.sha256 if signed else "",
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
