"""Who receives a notification, and what the daily reminders are due to say."""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django_scopes import scopes_disabled

from contracts.selectors import contract_signer_emails_pending
from notifications.models import NotificationKind, SentMail
from portal.accounts.models import Tenant, User
from proposals.models import Order, OrderStatus

REMINDER_EVERY_DAYS = 3
MAX_REMINDERS = 3
# The mails that ask a signer to sign a version of a contract (the reminders count from the
# latest). Their event key: '<order id>:<contract sha256>', and ':<when>' for a re-send.
SIGNING_REQUESTS = (NotificationKind.SIGNATURE_REQUESTED, NotificationKind.SIGNATURE_VOIDED)


def customer_mail_recipients(*, tenant: Tenant, customer_id: int) -> list[User]:
    """The customer's active logins at this tenant, in a stable order."""
    users = User.objects.filter(tenant=tenant, customer_id=customer_id, is_active=True)
    return list(users.order_by("pk"))


def proposals_expiring_between(*, first: datetime.date, last: datetime.date) -> list[Order]:
    """Open proposals whose validity ends between `first` and `last`, at every active tenant."""
    with scopes_disabled():
        proposals = Order.objects.filter(
            status=OrderStatus.PROPOSAL,
            valid_until__range=(first, last),
            tenant__is_active=True,
        )
        return list(proposals.only("pk", "tenant_id", "valid_until").order_by("pk"))


def signature_requested_at(
    *, tenant: Tenant, order_id: int, user_id: int, contract_sha256: str
) -> datetime.datetime | None:
    """When the signer was last asked to sign this version of the order's contract."""
    key = f"{order_id}:{contract_sha256}"
    with scopes_disabled():
        requests = SentMail.objects.filter(
            Q(event_key=key) | Q(event_key__startswith=f"{key}:"),
            tenant=tenant,
            kind__in=SIGNING_REQUESTS,
            user_id=user_id,
        ).exclude(sent_at=None)
        return requests.order_by("-sent_at").values_list("sent_at", flat=True).first()


@dataclass(frozen=True)
class SignatureReminder:
    tenant_id: int
    order_id: int
    user_id: int
    contract_sha256: str
    number: int  # 1..MAX_REMINDERS


def signature_reminders_due(*, now: datetime.datetime) -> list[SignatureReminder]:
    """A reminder every REMINDER_EVERY_DAYS days (at most MAX_REMINDERS) to each signer whose
    signing request is still pending: the order still an open proposal, its contract not
    signed by everyone, and this signer among those who have not signed.

    Read from the signing requests mailed (SIGNING_REQUESTS); only the latest request per
    signer and order counts (a changed contract asks again, a re-send starts over)."""
    window = now - datetime.timedelta(days=REMINDER_EVERY_DAYS * (MAX_REMINDERS + 1))
    with scopes_disabled():
        requests = SentMail.objects.filter(
            kind__in=SIGNING_REQUESTS,
            sent_at__gte=window,
            user__isnull=False,
            tenant__is_active=True,
        ).order_by("sent_at")
        latest = {}
        for request in requests:
            order_id, contract_sha256 = request.event_key.split(":")[:2]
            latest[(int(order_id), request.user_id)] = (request, contract_sha256)
        orders = Order.objects.filter(
            pk__in={order_id for order_id, _ in latest},
            status=OrderStatus.PROPOSAL,
            contract__signed_at=None,
        ).select_related("contract")
        pending = {o.pk: contract_signer_emails_pending(contract=o.contract) for o in orders}
    due = []
    for (order_id, user_id), (request, contract_sha256) in latest.items():
        number = min((now - request.sent_at).days // REMINDER_EVERY_DAYS, MAX_REMINDERS)
        if number >= 1 and request.recipient in pending.get(order_id, ()):
            due.append(
                SignatureReminder(request.tenant_id, order_id, user_id, contract_sha256, number)
            )
    return due
