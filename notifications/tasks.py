"""Every notification is a task. Enqueue them with
portal.background.queue.enqueue_on_commit(task, **kwargs), inside the transaction that makes
the event happen: nothing goes if it rolls back.

Each task takes ids (never model instances: a task may run on another machine, later) and
`tenant_id`, which also scopes its failures in admin. Each sends at most once per (event,
recipient), however many times it runs (notifications.services.mail_send_once). A mail server
that refuses or does not answer: the task schedules another attempt, later and later, and only
after the last one fails (visible to staff in admin).
"""

import datetime
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scopes_disabled
from django_tasks import task
from django_tasks.base import Task

from contracts.models import Contract, DigitalSignature, SealedContract, SignerRole
from notifications.mail import Mail, MailFile
from notifications.models import NotificationKind as Kind
from notifications.selectors import (
    customer_mail_recipients,
    proposals_expiring_between,
    signature_reminders_due,
    signature_requested_at,
)
from notifications.services import MailDeferred, MailRefused, Outcome, mail_send_once
from portal.accounts.models import Tenant, User
from portal.accounts.selectors import tenant_absolute_url
from portal.background.queue import enqueue_on_commit, enqueue_retry, retry_backoff
from portal.formats import date_br
from portal.languages import user_language
from proposals.documents import proposal_pdf_filename, proposal_pdf_to_serve
from proposals.models import Approval, Attachment, Order, OrderStatus

EXPIRING_WITHIN_DAYS = 3


class MailNotDelivered(Exception):
    """Some recipients did not get their message; the task failed (see admin)."""


def _deliver(task: Task, *, tenant: Tenant, mails: list[Mail], attempt: int, **kwargs) -> dict:
    """Send each mail once; retry later those the mail server did not take now."""
    outcomes, deferred, refused = Counter(), [], []
    for mail in mails:
        try:
            outcome = mail_send_once(tenant=tenant, mail=mail)
        except MailDeferred as error:
            deferred.append(str(error))
            continue
        except MailRefused as error:
            refused.append(str(error))
            continue
        if outcome == Outcome.BEING_SENT:  # its claim expires if that run died: look again
            deferred.append(f"{mail.recipient}: being sent by another run")
        outcomes[outcome.value] += 1
    if deferred and attempt < settings.NOTIFICATION_MAX_ATTEMPTS:
        delay = retry_backoff(
            attempt,
            base_seconds=settings.NOTIFICATION_RETRY_SECONDS,
            max_seconds=settings.NOTIFICATION_RETRY_MAX_SECONDS,
        )
        enqueue_retry(task, attempt=attempt, delay_seconds=delay, tenant_id=tenant.pk, **kwargs)
        outcomes["deferred"] = len(deferred)
    elif deferred:
        refused += deferred
    if refused:
        raise MailNotDelivered("; ".join(refused))
    return dict(outcomes)


def _tenant(tenant_id: int) -> Tenant:
    return Tenant.objects.get(pk=tenant_id)


def _order(tenant: Tenant, order_id: int) -> Order | None:
    with scopes_disabled():
        return (
            Order.objects.filter(tenant=tenant, pk=order_id)
            .select_related("customer", "tenant")
            .first()
        )


def _url(tenant: Tenant, name: str, *args) -> str:
    return tenant_absolute_url(tenant=tenant, path=reverse(name, args=args))


def _admin_url(tenant: Tenant, order: Order) -> str:
    return _url(tenant, "admin:proposals_order_change", order.pk)


# A subject is written when the recipient's language is known: a function of no arguments that
# calls gettext, run once per recipient inside translation.override(their language).
Subject = Callable[[], str]


def _user_mail(
    user: User, kind: str, event_key: str, subject: Subject, context: dict, files=()
) -> Mail:
    language = user_language(user)
    with translation.override(language):
        text = subject()
    return Mail(kind, event_key, user.email.lower(), text, kind, context, user, files, language)


def _to_customer(
    tenant: Tenant,
    order: Order,
    *,
    kind: str,
    event_key: str,
    subject: Subject,
    files: tuple[MailFile, ...] = (),
    **context,
) -> list[Mail]:
    """One mail per login of the order's customer (template: the kind's name), each in that
    user's language."""
    context = {"order": order, "order_url": _url(tenant, "order_detail", order.number), **context}
    return [
        _user_mail(user, kind, event_key, subject, context, files)
        for user in customer_mail_recipients(tenant=tenant, customer_id=order.customer_id)
    ]


def _to_company(
    tenant: Tenant,
    order: Order,
    *,
    kind: str,
    event_key: str,
    subject: Subject,
    files: tuple[MailFile, ...] = (),
    **context,
) -> list[Mail]:
    """The company's notification e-mail (none set: nothing to send), in the portal's default
    language (pt-BR): the company's staff read the ERP's language."""
    if not tenant.notification_email:
        return []
    context = {"order": order, "admin_url": _admin_url(tenant, order), **context}
    recipient = tenant.notification_email.lower()
    language = settings.LANGUAGE_CODE
    with translation.override(language):
        text = subject()
    return [Mail(kind, event_key, recipient, text, kind, context, None, files, language)]


def _file(field_file, filename: str, mimetype: str = "application/pdf") -> MailFile:
    with field_file.open("rb") as stream:
        return MailFile(filename, stream.read(), mimetype)


def _signer(tenant: Tenant, user_id: int) -> User | None:
    return User.objects.filter(tenant=tenant, pk=user_id, is_active=True).first()


def _live_seal(tenant: Tenant, seal_id: int) -> SealedContract | None:
    """The sealed contract, unless a change in the ERP voided it before the mail went."""
    with scopes_disabled():
        return SealedContract.objects.filter(
            tenant=tenant, pk=seal_id, voided_at__isnull=True
        ).first()


def _seal_file(seal: SealedContract) -> MailFile:
    return _file(seal.file, seal.download_name)


# To the customer's users ---------------------------------------------------------------------


@task
def notify_proposal_created(*, tenant_id: int, order_id: int, attempt: int = 1) -> dict:
    """A new proposal reached the portal (the mirror; never what a tenant's first sync finds)."""
    tenant = _tenant(tenant_id)
    order = _order(tenant, order_id)
    if order is None or order.status != OrderStatus.PROPOSAL:
        return {"skipped": "not a proposal"}
    mails = _to_customer(
        tenant,
        order,
        kind=Kind.PROPOSAL_CREATED,
        event_key=str(order.pk),
        subject=lambda: (
            _("Nova proposta nº %(number)s de %(company)s")
            % {"number": order.number, "company": tenant.brand_name}
        ),
    )
    return _deliver(
        notify_proposal_created, tenant=tenant, mails=mails, attempt=attempt, order_id=order_id
    )


@task
def notify_approval_confirmation(*, tenant_id: int, approval_id: int, attempt: int = 1) -> dict:
    """To the customer's users: the proposal was approved; the approved PDF attached."""
    tenant = _tenant(tenant_id)
    with scopes_disabled():
        approval = (
            Approval.objects.filter(tenant=tenant, pk=approval_id)
            .select_related("order__customer", "order__tenant", "user")
            .first()
        )
        if approval is None:
            return {"skipped": "no approval"}
        order = approval.order
        document = proposal_pdf_to_serve(order=order)
    pdf = _file(document.file, proposal_pdf_filename(order))
    mails = _to_customer(
        tenant,
        order,
        kind=Kind.APPROVAL_CONFIRMATION,
        event_key=str(approval.pk),
        subject=lambda: (
            _("Proposta nº %(number)s aprovada — %(company)s")
            % {"number": order.number, "company": tenant.brand_name}
        ),
        files=(pdf,),
        approval=approval,
    )
    return _deliver(
        notify_approval_confirmation,
        tenant=tenant,
        mails=mails,
        attempt=attempt,
        approval_id=approval_id,
    )


STATUS_SUBJECTS = {
    OrderStatus.ORDER: gettext_lazy("A proposta nº %(number)s virou pedido — %(company)s"),
    OrderStatus.CANCELLED: gettext_lazy("Pedido nº %(number)s cancelado — %(company)s"),
}


@task
def notify_status_changed(
    *, tenant_id: int, order_id: int, to_status: str, erp_version: int, attempt: int = 1
) -> dict:
    """The ERP moved the order to Pedido (PED) or Cancelado (CAN)."""
    tenant = _tenant(tenant_id)
    order = _order(tenant, order_id)
    if to_status not in STATUS_SUBJECTS or order is None or order.status != to_status:
        return {"skipped": "status moved on"}
    mails = _to_customer(
        tenant,
        order,
        kind=Kind.STATUS_CHANGED,
        event_key=f"{order.pk}:{to_status}:{erp_version}",
        subject=lambda: (
            str(STATUS_SUBJECTS[to_status]) % {"number": order.number, "company": tenant.brand_name}
        ),
    )
    return _deliver(
        notify_status_changed,
        tenant=tenant,
        mails=mails,
        attempt=attempt,
        order_id=order_id,
        to_status=to_status,
        erp_version=erp_version,
    )


@task
def notify_proposal_expiring(
    *, tenant_id: int, order_id: int, valid_until: str, attempt: int = 1
) -> dict:
    """An open proposal's validity ends on `valid_until` (ISO date); the daily job sends it."""
    tenant = _tenant(tenant_id)
    order = _order(tenant, order_id)
    if (
        order is None
        or order.status != OrderStatus.PROPOSAL
        or order.valid_until is None
        or order.valid_until.isoformat() != valid_until
    ):
        return {"skipped": "no longer expiring then"}
    mails = _to_customer(
        tenant,
        order,
        kind=Kind.PROPOSAL_EXPIRING,
        event_key=f"{order.pk}:{valid_until}",
        subject=lambda: (
            _("A proposta nº %(number)s vence em %(date)s")
            % {"number": order.number, "date": date_br(order.valid_until)}
        ),
    )
    return _deliver(
        notify_proposal_expiring,
        tenant=tenant,
        mails=mails,
        attempt=attempt,
        order_id=order_id,
        valid_until=valid_until,
    )


def _signer_mail(
    tenant: Tenant, order: Order, user: User, *, kind: str, event_key: str, subject: Subject, **ctx
) -> Mail:
    context = {
        "order": order,
        "sign_url": _url(tenant, "contract_detail", order.number),
        **ctx,
    }
    return _user_mail(user, kind, event_key, subject, context)


def _contract(tenant: Tenant, order: Order) -> Contract | None:
    with scopes_disabled():
        return Contract.objects.filter(tenant=tenant, order=order).first()


def _role(contract: Contract, user: User):
    with scopes_disabled():
        role = contract.signers.filter(email__iexact=user.email).values_list("role", flat=True)
        return SignerRole(role.first() or SignerRole.PARTY).label  # lazy: the mail's language


@task
def notify_signature_requested(
    *,
    tenant_id: int,
    order_id: int,
    user_id: int,
    contract_sha256: str,
    resend: str = "",
    attempt: int = 1,
) -> dict:
    """Ask a designated signer (a login) to sign the contract whose source has this SHA-256
    (contracts.services.contract_source_key).

    Once per signer and contract version: a contract changed after signing (new hash) asks
    again; staff re-send with `resend` (when they asked). The daily reminders count from the
    latest request."""
    tenant = _tenant(tenant_id)
    order, user = _order(tenant, order_id), _signer(tenant, user_id)
    contract = _contract(tenant, order) if order else None
    if contract is None or user is None:
        return {"skipped": "no contract or signer"}
    mail = _signer_mail(
        tenant,
        order,
        user,
        kind=Kind.SIGNATURE_REQUESTED,
        event_key=":".join(filter(None, (str(order.pk), contract_sha256, resend))),
        subject=lambda: (
            _("Assinatura do contrato da proposta nº %(number)s — %(company)s")
            % {"number": order.number, "company": tenant.brand_name}
        ),
        contract=contract,
        role=_role(contract, user),
    )
    return _deliver(
        notify_signature_requested,
        tenant=tenant,
        mails=[mail],
        attempt=attempt,
        order_id=order_id,
        user_id=user_id,
        contract_sha256=contract_sha256,
        resend=resend,
    )


@task
def notify_signature_voided(
    *,
    tenant_id: int,
    order_id: int,
    signature_id: int,
    contract_sha256: str,
    attempt: int = 1,
) -> dict:
    """The ERP changed the contract (or its signers) after this signature: it no longer counts.

    It asks the signer to sign the new version (`contract_sha256`, as a signing request does:
    the reminders count from it). Essential: it says that something the user did was undone."""
    tenant = _tenant(tenant_id)
    with scopes_disabled():
        signature = DigitalSignature.objects.filter(
            tenant=tenant, pk=signature_id, voided_at__isnull=False
        ).first()
    order = _order(tenant, order_id)
    user = _signer(tenant, signature.user_id) if signature and signature.user_id else None
    contract = _contract(tenant, order) if order else None
    if contract is None or user is None:
        return {"skipped": "no contract or signer"}
    mail = _signer_mail(
        tenant,
        order,
        user,
        kind=Kind.SIGNATURE_VOIDED,
        event_key=f"{order.pk}:{contract_sha256}",
        subject=lambda: (
            _("O contrato da proposta nº %(number)s mudou: assine novamente")
            % {"number": order.number}
        ),
        contract=contract,
        signature=signature,
    )
    return _deliver(
        notify_signature_voided,
        tenant=tenant,
        mails=[mail],
        attempt=attempt,
        order_id=order_id,
        signature_id=signature_id,
        contract_sha256=contract_sha256,
    )


@task
def notify_signature_reminder(
    *,
    tenant_id: int,
    order_id: int,
    user_id: int,
    contract_sha256: str,
    number: int,
    attempt: int = 1,
) -> dict:
    """Reminder `number` (1..3) to a signer who has not signed (the daily job sends them)."""
    tenant = _tenant(tenant_id)
    order, user = _order(tenant, order_id), _signer(tenant, user_id)
    contract = _contract(tenant, order) if order else None
    if contract is None or user is None:
        return {"skipped": "no contract or signer"}
    requested = signature_requested_at(
        tenant=tenant, order_id=order.pk, user_id=user.pk, contract_sha256=contract_sha256
    )
    mail = _signer_mail(
        tenant,
        order,
        user,
        kind=Kind.SIGNATURE_REMINDER,
        event_key=f"{order.pk}:{contract_sha256}:{number}",
        subject=lambda: (
            _("Lembrete: contrato da proposta nº %(number)s aguarda sua assinatura")
            % {"number": order.number}
        ),
        contract=contract,
        requested_at=requested or timezone.now(),
    )
    return _deliver(
        notify_signature_reminder,
        tenant=tenant,
        mails=[mail],
        attempt=attempt,
        order_id=order_id,
        user_id=user_id,
        contract_sha256=contract_sha256,
        number=number,
    )


@task
def notify_signature_code(
    *,
    tenant_id: int,
    order_id: int,
    user_id: int,
    challenge_id: int,
    expires_at: str,
    code: str,
    valid_minutes: int = 10,
    attempt: int = 1,
) -> dict:
    """The one-time code a signer types to sign (essential: goes even to the unsubscribed).

    `challenge_id` and `expires_at` (ISO) name this code: one mail per code, and a new code
    for the same signer is a new mail. The code travels in the task's arguments: admin masks
    it, and it expires in `valid_minutes` anyway."""
    tenant = _tenant(tenant_id)
    order, user = _order(tenant, order_id), _signer(tenant, user_id)
    if order is None or user is None:
        return {"skipped": "no order or signer"}
    mail = _signer_mail(
        tenant,
        order,
        user,
        kind=Kind.SIGNATURE_CODE,
        event_key=f"{challenge_id}:{expires_at}",
        subject=lambda: (
            _("Seu código para assinar o contrato da proposta nº %(number)s")
            % {"number": order.number}
        ),
        code=code,
        valid_minutes=valid_minutes,
    )
    return _deliver(
        notify_signature_code,
        tenant=tenant,
        mails=[mail],
        attempt=attempt,
        order_id=order_id,
        user_id=user_id,
        challenge_id=challenge_id,
        expires_at=expires_at,
        code=code,
        valid_minutes=valid_minutes,
    )


@task
def notify_contract_all_signed(
    *, tenant_id: int, order_id: int, seal_id: int, attempt: int = 1
) -> dict:
    """To the customer's users: everyone signed; the sealed "Contrato Assinado" attached."""
    tenant = _tenant(tenant_id)
    order = _order(tenant, order_id)
    contract = _contract(tenant, order) if order else None
    seal = _live_seal(tenant, seal_id)
    if contract is None or seal is None:
        return {"skipped": "no contract or no live seal"}
    mails = _to_customer(
        tenant,
        order,
        kind=Kind.CONTRACT_ALL_SIGNED,
        event_key=str(seal.pk),
        subject=lambda: (
            _("Contrato da proposta nº %(number)s assinado por todos") % {"number": order.number}
        ),
        files=(_seal_file(seal),),
        contract=contract,
        seal=seal,
        verify_url=_url(tenant, "verify_code", seal.verification_code),
    )
    return _deliver(
        notify_contract_all_signed,
        tenant=tenant,
        mails=mails,
        attempt=attempt,
        order_id=order_id,
        seal_id=seal_id,
    )


# To the company -------------------------------------------------------------------------------


@task
def notify_company_contract_uploaded(
    *, tenant_id: int, attachment_id: int, attempt: int = 1
) -> dict:
    """A customer sent a "Contrato Assinado" (upload)."""
    tenant = _tenant(tenant_id)
    with scopes_disabled():
        attachment = (
            Attachment.objects.filter(tenant=tenant, pk=attachment_id)
            .select_related("order__customer", "uploaded_by")
            .first()
        )
    if attachment is None:
        return {"skipped": "no attachment"}
    order = attachment.order
    mails = _to_company(
        tenant,
        order,
        kind=Kind.COMPANY_CONTRACT_UPLOADED,
        event_key=str(attachment.pk),
        subject=lambda: (
            _("Contrato assinado enviado — proposta nº %(number)s (%(customer)s)")
            % {"number": order.number, "customer": order.customer.name}
        ),
        attachment=attachment,
    )
    return _deliver(
        notify_company_contract_uploaded,
        tenant=tenant,
        mails=mails,
        attempt=attempt,
        attachment_id=attachment_id,
    )


@task
def notify_company_contract_signed(
    *, tenant_id: int, order_id: int, seal_id: int, attempt: int = 1
) -> dict:
    """Every designated signer signed digitally; the sealed contract attached."""
    tenant = _tenant(tenant_id)
    order = _order(tenant, order_id)
    contract = _contract(tenant, order) if order else None
    seal = _live_seal(tenant, seal_id)
    if contract is None or seal is None:
        return {"skipped": "no contract or no live seal"}
    mails = _to_company(
        tenant,
        order,
        kind=Kind.COMPANY_CONTRACT_SIGNED,
        event_key=str(seal.pk),
        subject=lambda: (
            _("Contrato assinado digitalmente — proposta nº %(number)s (%(customer)s)")
            % {"number": order.number, "customer": order.customer.name}
        ),
        files=(_seal_file(seal),),
        contract=contract,
        seal=seal,
    )
    return _deliver(
        notify_company_contract_signed,
        tenant=tenant,
        mails=mails,
        attempt=attempt,
        order_id=order_id,
        seal_id=seal_id,
    )


@task
def notify_company_proposal_approved(*, tenant_id: int, approval_id: int, attempt: int = 1) -> dict:
    tenant = _tenant(tenant_id)
    with scopes_disabled():
        approval = (
            Approval.objects.filter(tenant=tenant, pk=approval_id)
            .select_related("order__customer", "user")
            .first()
        )
    if approval is None:
        return {"skipped": "no approval"}
    order = approval.order
    mails = _to_company(
        tenant,
        order,
        kind=Kind.COMPANY_PROPOSAL_APPROVED,
        event_key=str(approval.pk),
        subject=lambda: (
            _("Proposta nº %(number)s aprovada por %(customer)s")
            % {"number": order.number, "customer": order.customer.name}
        ),
        approval=approval,
    )
    return _deliver(
        notify_company_proposal_approved,
        tenant=tenant,
        mails=mails,
        attempt=attempt,
        approval_id=approval_id,
    )


@task
def notify_company_proposal_declined(
    *,
    tenant_id: int,
    order_id: int,
    user_id: int,
    decline_id: int,
    reason: str,
    declined_at: str,
    attempt: int = 1,
) -> dict:
    """A customer declined the proposal (RECUSAR PROPOSTA) with `reason`.

    `decline_id` names the decline (one mail per decline); `declined_at` is ISO 8601."""
    tenant = _tenant(tenant_id)
    order = _order(tenant, order_id)
    user = User.objects.filter(tenant=tenant, pk=user_id).first()
    if order is None or user is None:
        return {"skipped": "no order or user"}
    mails = _to_company(
        tenant,
        order,
        kind=Kind.COMPANY_PROPOSAL_DECLINED,
        event_key=str(decline_id),
        subject=lambda: (
            _("Proposta nº %(number)s recusada por %(customer)s")
            % {"number": order.number, "customer": order.customer.name}
        ),
        user=user,
        reason=reason,
        declined_at=datetime.datetime.fromisoformat(declined_at),
    )
    return _deliver(
        notify_company_proposal_declined,
        tenant=tenant,
        mails=mails,
        attempt=attempt,
        order_id=order_id,
        user_id=user_id,
        decline_id=decline_id,
        reason=reason,
        declined_at=declined_at,
    )


# The daily job ---------------------------------------------------------------------------------


@task
def send_daily_reminders() -> dict:
    """Once a day (settings.TASKS_DAILY): proposals whose validity ends within
    EXPIRING_WITHIN_DAYS days, and signatures pending for 3, 6 and 9 days. Each reminder is a
    task of its own and goes once, so a day run twice, or a day missed, loses nothing."""
    today = timezone.localdate()
    expiring = proposals_expiring_between(
        first=today, last=today + datetime.timedelta(days=EXPIRING_WITHIN_DAYS)
    )
    for order in expiring:
        enqueue_on_commit(
            notify_proposal_expiring,
            tenant_id=order.tenant_id,
            order_id=order.pk,
            valid_until=order.valid_until.isoformat(),
        )
    signatures = signature_reminders_due(now=timezone.now())
    for reminder in signatures:
        enqueue_on_commit(
            notify_signature_reminder,
            tenant_id=reminder.tenant_id,
            order_id=reminder.order_id,
            user_id=reminder.user_id,
            contract_sha256=reminder.contract_sha256,
            number=reminder.number,
        )
    return {"expiring": len(expiring), "signature_reminders": len(signatures)}
