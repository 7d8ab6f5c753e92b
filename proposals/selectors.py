"""Reads of a customer's orders. Every one takes the request's tenant and user.

A user sees only the orders of their own Customer at their own tenant; anything else is a 404,
exactly like a number that does not exist. A login without a customer (tenant staff) sees none.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import (
    Case,
    DateField,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from portal.accounts.models import Tenant, User
from proposals.models import (
    Attachment,
    AttachmentKind,
    Decline,
    Order,
    OrderStatus,
    proposal_deadline,
)
from proposals.search import search_condition

DASHBOARD_ORDERS = 10
DASHBOARD_ACTIONS = 20
# ÚLTIMOS PEDIDOS and PEDIDOS: the ERP's issue date, newest first; the number breaks ties.
NEWEST_FIRST = ("-issued_on", "-number")


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    issued_from: date | None = None
    issued_until: date | None = None
    number: int | None = None
    text: str = ""


@dataclass(frozen=True)
class OrderPage:
    """One keyset page, newest first: `after`/`before` are the numbers that open its neighbours."""

    orders: list[Order] = field(default_factory=list)
    next_after: int | None = None
    previous_before: int | None = None


def _customer_orders(*, tenant: Tenant | None, user: User) -> QuerySet[Order]:
    """Every read of a customer's orders starts here: their own, live ones (an order the ERP
    deleted is kept as evidence for staff, never shown to the customer)."""
    if tenant is None or user.customer_id is None or user.tenant_id != tenant.pk:
        return Order.objects.none()
    return Order.objects.filter(
        tenant=tenant, customer_id=user.customer_id, removed_at__isnull=True
    )


def order_list_latest_for_user(
    *, tenant: Tenant | None, user: User, limit: int = DASHBOARD_ORDERS
) -> list[Order]:
    """The customer's latest orders by issue date (one query; their installments, where a row
    must be rendered: `order_installments_load`)."""
    return list(_customer_orders(tenant=tenant, user=user).order_by(*NEWEST_FIRST)[:limit])


def order_installments_load(orders: list[Order]) -> None:
    """Each order's installments, in one query (`order.installments.all()` then asks none)."""
    prefetch_related_objects(orders, "installments")


def order_list_awaiting_action(
    *, tenant: Tenant | None, user: User, today: date, limit: int = DASHBOARD_ACTIONS
) -> list[Order]:
    """Proposals the customer can still act on (approve, or sign their contract first), the
    nearest deadline first: open (PRO), not expired, not approved and not declined as they
    stand. One query, with each one's contract."""
    orders = (
        _customer_orders(tenant=tenant, user=user)
        .alias(deadline=proposal_deadline())
        .filter(status=OrderStatus.PROPOSAL, approval__isnull=True, deadline__gte=today)
        .exclude(_declined_as_is())
        .select_related("contract")
        .order_by("deadline", *NEWEST_FIRST)  # the index order_customer_open_deadline
    )
    return list(orders[:limit])


def _filtered(orders: QuerySet[Order], filters: OrderFilters) -> QuerySet[Order]:
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.issued_from:
        orders = orders.filter(issued_on__gte=filters.issued_from)
    if filters.issued_until:
        orders = orders.filter(issued_on__lte=filters.issued_until)
    if filters.number is not None:
        orders = orders.filter(number=filters.number)
    if filters.text:
        condition = search_condition(filters.text)
        if condition is not None:
            orders = orders.filter(condition)
    return orders


def _cursor_date(orders: QuerySet[Order], number: int, missing: date) -> Coalesce:
    """The issue date of the order a page starts from, inside the page's own query (a number
    that is not the customer's, or no longer exists, reads as `missing`)."""
    issued = orders.filter(number=number).values("issued_on")[:1]
    return Coalesce(Subquery(issued), Value(missing), output_field=DateField())


def order_list_for_user(
    *,
    tenant: Tenant | None,
    user: User,
    filters: OrderFilters,
    page_size: int,
    after: int | None = None,
    before: int | None = None,
) -> OrderPage:
    """A page of the customer's orders, newest issue date first (then number), by keyset: no
    COUNT, no OFFSET.

    `after`: the page that follows the order with that number; `before`: the page that precedes
    it. One query: page_size + 1 rows tell whether there is a page beyond.
    """
    mine = _customer_orders(tenant=tenant, user=user)
    orders = _filtered(mine, filters)
    if before is not None:
        day = _cursor_date(mine, before, date.min)
        newer = Q(issued_on__gt=day) | Q(issued_on=day, number__gt=before)
        rows = list(orders.filter(newer).order_by("issued_on", "number")[: page_size + 1])
        more_before = len(rows) > page_size
        page = list(reversed(rows[:page_size]))
        return OrderPage(
            orders=page,
            next_after=page[-1].number if page else None,
            previous_before=page[0].number if page and more_before else None,
        )
    if after is not None:
        day = _cursor_date(mine, after, date.max)
        orders = orders.filter(Q(issued_on__lt=day) | Q(issued_on=day, number__lt=after))
    rows = list(orders.order_by(*NEWEST_FIRST)[: page_size + 1])
    page = rows[:page_size]
    return OrderPage(
        orders=page,
        next_after=page[-1].number if len(rows) > page_size else None,
        previous_before=page[0].number if page and after is not None else None,
    )


def _declined_as_is() -> Exists:
    """Whether the customer declined the order at the version it is now."""
    return Exists(
        Decline.objects.filter(order=OuterRef("pk"), order_version=OuterRef("erp_version"))
    )


def _customer_order(
    *,
    tenant: Tenant | None,
    user: User,
    number: int,
    select: tuple = (),
    prefetch: tuple = (),
    annotate: dict | None = None,
) -> Order:
    """One of the customer's orders with the relations named, or Http404 for a number the
    customer does not own, exactly as for one that does not exist."""
    orders = (
        _customer_orders(tenant=tenant, user=user)
        .filter(number=number)
        .select_related(*select)
        .prefetch_related(*prefetch)
        .annotate(**(annotate or {}))
    )
    # A live order's number is unique in its tenant (order_number_per_tenant): `get`, whose
    # query has no ORDER BY to compile, as `first` adds (a third of this query's Python).
    try:
        order = orders.get()
    except Order.DoesNotExist:
        raise Http404("Pedido não encontrado.") from None
    # The request already holds both: no join to load them again.
    order.tenant = tenant
    order.customer = user.customer
    return order


def order_get_for_user(*, tenant: Tenant | None, user: User, number: int) -> Order:
    """One of the customer's orders for its page: attachments, timeline, approval, declines.

    Its items and installments are read only when the page's fragment of this ERP version is not
    rendered yet (proposals.fragments)."""
    attachments = Attachment.objects.order_by(
        Case(
            When(kind=AttachmentKind.PROPOSAL, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "created_at",
        "id",
    )
    return _customer_order(
        tenant=tenant,
        user=user,
        number=number,
        select=("contract", "approval__user"),
        prefetch=(
            Prefetch("attachments", queryset=attachments),
            "status_changes",
            Prefetch("declines", queryset=Decline.objects.select_related("user")),
        ),
    )


def order_get_brief_for_user(*, tenant: Tenant | None, user: User, number: int) -> Order:
    """One of the customer's orders without its children (downloads): one query."""
    return _customer_order(tenant=tenant, user=user, number=number, select=("contract", "approval"))


def order_get_for_approval(*, tenant: Tenant | None, user: User, number: int) -> Order:
    """One of the customer's orders as the approval (or the decline) needs it: its contract,
    approval, declines and installments (the confirmation's summary), not the items or
    attachments."""
    return _customer_order(
        tenant=tenant,
        user=user,
        number=number,
        select=("contract", "approval"),
        prefetch=("installments",),
        annotate={"declined_as_is": _declined_as_is()},
    )


@dataclass(frozen=True)
class OrderVersion:
    number: int
    version: int
    status: str


def order_version_for_user(*, tenant: Tenant | None, user: User, number: int) -> OrderVersion:
    """What an open order page polls to learn that the ERP changed the order: one query."""
    row = (
        _customer_orders(tenant=tenant, user=user)
        .filter(number=number)
        .values_list("number", "erp_version", "status")
        .first()
    )
    if row is None:
        raise Http404("Pedido não encontrado.")
    return OrderVersion(*row)


def attachment_get_for_user(
    *, tenant: Tenant | None, user: User, order_number: int, attachment_id: int
) -> Attachment:
    """An attachment of one of the customer's orders (Http404 otherwise)."""
    orders = _customer_orders(tenant=tenant, user=user).filter(number=order_number)
    attachment = Attachment.objects.filter(
        tenant=tenant, pk=attachment_id, order__in=orders
    ).first()
    if attachment is None:
        raise Http404("Anexo não encontrado.")
    return attachment
