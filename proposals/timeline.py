"""An order's history as the customer reads it, by the ERP's own dates.

Built from what the detail page already loaded (no queries): the issue date, the ERP's
`aprovado_em`/`aprovado_por`, the status changes the mirror saw happen, and the customer's
declines. The status an order had when the portal first mirrored it is shown with the ERP's
dates, never with the moment of that first mirror (at go-live, the same for every order).
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from proposals.models import Order, OrderStatus


@dataclass(frozen=True)
class TimelineEntry:
    badge: str  # a status code (its colour) or "recusa"
    label: str
    when: datetime.date | datetime.datetime | None = None
    who: str = ""
    note: str = ""

    @property
    def has_time(self) -> bool:
        return isinstance(self.when, datetime.datetime)


def _moment(value: datetime.datetime) -> datetime.date | datetime.datetime:
    """A row dated by a day only (the mirror stores it at local midnight) shows as that day."""
    local = timezone.localtime(value)
    return local.date() if local.time() == datetime.time() else value


def _status(status: str, when=None, who: str = "") -> TimelineEntry:
    return TimelineEntry(badge=status, label=OrderStatus(status).label, when=when, who=who)


def _approved(order: Order, when=None) -> TimelineEntry:
    return _status(OrderStatus.APPROVED, when=when, who=order.approved_by)


def _known_before(order: Order, status: str) -> list[TimelineEntry]:
    """How an order the portal first found past PRO got there, by the ERP's own dates: the
    issue, the ERP's approval (`aprovado_em`/`aprovado_por`), then the status, undated (the
    ERP does not say when it moved the order on)."""
    entries = [_status(OrderStatus.PROPOSAL, when=order.issued_on)]
    if status == OrderStatus.PROPOSAL:
        return entries
    if order.approved_at is not None or status == OrderStatus.APPROVED:
        entries.append(_approved(order, when=order.approved_at))
    if status != OrderStatus.APPROVED:
        entries.append(_status(status))
    return entries


def order_timeline(*, order: Order) -> list[TimelineEntry]:
    """Expects `order.status_changes` and `order.declines` (with users) prefetched."""
    changes = list(order.status_changes.all())
    entries: list[TimelineEntry] = []
    later: list[tuple[datetime.datetime, TimelineEntry]] = []
    if not changes:
        entries = _known_before(order, order.status)
    for position, change in enumerate(changes):
        first_seen = position == 0 and not change.from_status
        if first_seen and change.to_status != OrderStatus.PROPOSAL:
            entries += _known_before(order, change.to_status)
        elif first_seen:
            entries.append(_status(change.to_status, when=_moment(change.changed_at)))
        elif change.to_status == OrderStatus.APPROVED:
            later.append((change.changed_at, _approved(order, when=change.changed_at)))
        else:
            later.append((change.changed_at, _status(change.to_status, when=change.changed_at)))
    for decline in order.declines.all():
        entry = TimelineEntry(
            badge="recusa",
            label=_("Proposta recusada"),
            when=decline.declined_at,
            who=decline.user.email,
            note=decline.reason,
        )
        later.append((decline.declined_at, entry))
    later.sort(key=lambda pair: pair[0])
    return entries + [entry for _when, entry in later]
