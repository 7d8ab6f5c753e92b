"""Reads of a customer's orders. Every one takes the request's tenant and user.

A user sees only the orders of their own Customer at their own tenant; anything else is a 404,
exactly like a number that does not exist. A login without a customer (tenant staff) sees none.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404

from portal.accounts.models import Tenant, User
from proposals.models import Attachment, AttachmentKind, Order, OrderItem

DASHBOARD_ORDERS = 10


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
    """The customer's latest orders with their installments (two queries)."""
    orders = _customer_orders(tenant=tenant, user=user).order_by("-number")[:limit]
    return list(orders.prefetch_related("installments"))


def _text_search(text: str) -> Q:
    in_items = OrderItem.objects.filter(order=OuterRef("pk")).filter(
        Q(description__icontains=text) | Q(code__icontains=text) | Q(notes__icontains=text)
    )
    condition = Q(salesperson__icontains=text) | Q(notes__icontains=text) | Q(Exists(in_items))
    if text.isascii() and text.isdigit():
        condition |= Q(number=int(text))
    return condition


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
        orders = orders.filter(_text_search(filters.text))
    return orders


def order_list_for_user(
    *,
    tenant: Tenant | None,
    user: User,
    filters: OrderFilters,
    page_size: int,
    after: int | None = None,
    before: int | None = None,
) -> OrderPage:
    """A page of the customer's orders by number, newest first, by keyset (no COUNT, no OFFSET).

    `after`: the page that follows the order with that number; `before`: the page that precedes
    it. One query: page_size + 1 rows tell whether there is a page beyond.
    """
    orders = _filtered(_customer_orders(tenant=tenant, user=user), filters)
    if before is not None:
        rows = list(orders.filter(number__gt=before).order_by("number")[: page_size + 1])
        more_before = len(rows) > page_size
        page = list(reversed(rows[:page_size]))
        return OrderPage(
            orders=page,
            next_after=page[-1].number if page else None,
            previous_before=page[0].number if page and more_before else None,
        )
    if after is not None:
        orders = orders.filter(number__lt=after)
    rows = list(orders.order_by("-number")[: page_size + 1])
    page = rows[:page_size]
    return OrderPage(
        orders=page,
        next_after=page[-1].number if len(rows) > page_size else None,
        previous_before=page[0].number if page and after is not None else None,
    )


def _customer_order(
    *, tenant: Tenant | None, user: User, number: int, select: tuple = (), prefetch: tuple = ()
) -> Order:
    """One of the customer's orders with the relations named, or Http404 for a number the
    customer does not own, exactly as for one that does not exist."""
    order = (
        _customer_orders(tenant=tenant, user=user)
        .filter(number=number)
        .select_related(*select)
        .prefetch_related(*prefetch)
        .first()
    )
    if order is None:
        raise Http404("Pedido não encontrado.")
    # The request already holds both: no join to load them again.
    order.tenant = tenant
    order.customer = user.customer
    return order


def order_get_for_user(*, tenant: Tenant | None, user: User, number: int) -> Order:
    """One of the customer's orders, whole: items, installments, attachments, timeline, approval."""
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
            "items",
            "installments",
            Prefetch("attachments", queryset=attachments),
            "status_changes",
        ),
    )


def order_get_brief_for_user(*, tenant: Tenant | None, user: User, number: int) -> Order:
    """One of the customer's orders without its children (downloads): one query."""
    return _customer_order(tenant=tenant, user=user, number=number, select=("contract", "approval"))


def order_get_for_approval(*, tenant: Tenant | None, user: User, number: int) -> Order:
    """One of the customer's orders as the approval needs it: its contract, approval and
    installments (the confirmation's summary), not the items or attachments."""
    return _customer_order(
        tenant=tenant,
        user=user,
        number=number,
        select=("contract", "approval"),
        prefetch=("installments",),
    )


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
