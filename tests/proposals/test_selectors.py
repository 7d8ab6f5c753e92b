"""Reads of a customer's orders: only their own, at their own tenant, by keyset pages."""

import datetime
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.http import Http404
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from proposals.models import Attachment, AttachmentKind, AttachmentOrigin, OrderStatus
from proposals.selectors import (
    OrderFilters,
    attachment_get_for_user,
    order_get_for_user,
    order_list_for_user,
    order_list_latest_for_user,
)
from tests.factories import OrderFactory, OrderItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def numbers(orders) -> list[int]:
    return [order.number for order in orders]


def request_scope(tenant):
    """The scope a request on `tenant`'s host runs in (none: the support host)."""
    return scope(tenant=tenant) if tenant is not None else scopes_disabled()


def test_order_get_for_user_returns_the_customers_own_order(tenant_a, user_a, customer_a):
    order = OrderFactory(customer=customer_a, number=7001)
    OrderItemFactory(order=order, description="Compressor")

    with request_scope(tenant_a):
        found = order_get_for_user(tenant=tenant_a, user=user_a, number=7001)
        # Read by the page's fragment when it renders (proposals.fragments), in the request.
        assert [item.description for item in found.items.all()] == ["Compressor"]

    assert found == order


def test_order_get_for_user_hides_everything_that_is_not_the_users(
    tenant_a, tenant_b, user_a, other_user_a, user_b, customer_a
):
    OrderFactory(customer=customer_a, number=7001)
    staff = UserFactory(customer=None, tenant=tenant_a, is_staff=True)
    attempts = [
        (tenant_a, other_user_a, 7001),  # another customer of the same company
        (tenant_a, user_b, 7001),  # a login of another company
        (tenant_b, user_b, 7001),  # the number does not exist there
        (tenant_a, staff, 7001),  # staff have no customer: no orders
        (None, user_a, 7001),  # the support host has no tenant
        (tenant_a, user_a, 7002),  # does not exist
    ]
    for tenant, user, number in attempts:
        with request_scope(tenant), pytest.raises(Http404):
            order_get_for_user(tenant=tenant, user=user, number=number)


def test_latest_orders_are_the_newest_of_the_customer_only(
    tenant_a, user_a, customer_a, other_customer_a
):
    for number in (3, 1, 2):
        OrderFactory(customer=customer_a, number=number)
    OrderFactory(customer=other_customer_a, number=4)

    with request_scope(tenant_a):
        latest = order_list_latest_for_user(tenant=tenant_a, user=user_a, limit=2)
    assert numbers(latest) == [3, 2]


def test_keyset_pages_forward_and_back(tenant_a, user_a, customer_a):
    for number in range(1, 8):
        OrderFactory(customer=customer_a, number=number)

    def listing(**kwargs):
        with request_scope(tenant_a):
            return order_list_for_user(
                tenant=tenant_a, user=user_a, filters=OrderFilters(), page_size=3, **kwargs
            )

    first = listing()
    assert numbers(first.orders) == [7, 6, 5]
    assert (first.next_after, first.previous_before) == (5, None)
    second = listing(after=5)
    assert numbers(second.orders) == [4, 3, 2]
    assert (second.next_after, second.previous_before) == (2, 4)
    last = listing(after=2)
    assert numbers(last.orders) == [1]
    assert (last.next_after, last.previous_before) == (None, 1)
    back = listing(before=1)
    assert numbers(back.orders) == [4, 3, 2]
    assert (back.next_after, back.previous_before) == (2, 4)
    newest = listing(before=4)
    assert numbers(newest.orders) == [7, 6, 5]
    assert (newest.next_after, newest.previous_before) == (5, None)


def test_text_search_stays_within_the_customers_orders(
    tenant_a, user_a, customer_a, other_customer_a
):
    mine = OrderFactory(customer=customer_a, number=10, issued_on=datetime.date(2026, 2, 1))
    OrderItemFactory(order=mine, description="Bomba d'água", code="BMB-1", notes="Trifásica")
    theirs = OrderFactory(customer=other_customer_a, number=11)
    OrderItemFactory(order=theirs, description="Bomba d'água")
    OrderFactory(customer=customer_a, number=12, status=OrderStatus.CANCELLED)

    def search(**filters):
        with request_scope(tenant_a):
            page = order_list_for_user(
                tenant=tenant_a, user=user_a, filters=OrderFilters(**filters), page_size=10
            )
        return numbers(page.orders)

    assert search(text="bomba") == [10]
    assert search(text="trifásica") == [10]
    assert search(text="bmb-1") == [10]
    assert search(text="bomba", status=OrderStatus.CANCELLED) == []
    assert search(
        issued_from=datetime.date(2026, 2, 1), issued_until=datetime.date(2026, 2, 1)
    ) == [10]
    assert search(number=11) == []


def test_attachment_must_belong_to_that_order_of_that_customer(
    tenant_a, user_a, other_user_a, customer_a
):
    order = OrderFactory(customer=customer_a, number=20)
    OrderFactory(customer=customer_a, number=21)
    content = b"conteudo"
    attachment = Attachment(
        tenant=tenant_a,
        order=order,
        kind=AttachmentKind.OTHER,
        origin=AttachmentOrigin.ERP,
        name="a.pdf",
        mime="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        created_at=timezone.now(),
    )
    attachment.file.save("a", ContentFile(content))

    with request_scope(tenant_a):
        found = attachment_get_for_user(
            tenant=tenant_a, user=user_a, order_number=20, attachment_id=attachment.pk
        )
    assert found == attachment
    for user, number in ((user_a, 21), (other_user_a, 20)):
        with request_scope(tenant_a), pytest.raises(Http404):
            attachment_get_for_user(
                tenant=tenant_a, user=user, order_number=number, attachment_id=attachment.pk
            )
