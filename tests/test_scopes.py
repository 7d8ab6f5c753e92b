"""Tenant scopes are off only while fixtures are built (tests/conftest.py): a test body runs as
a request does, so a service that forgets its tenant scope fails its test (issue #8)."""

import pytest
from django_scopes import ScopeError, scope

from proposals.models import Order
from tests.factories import OrderFactory


@pytest.fixture
def order(customer_a):
    return OrderFactory(customer=customer_a, number=7001)  # built with scopes off


@pytest.mark.django_db
def test_a_query_without_a_scope_fails_in_a_test_body(order):
    with pytest.raises(ScopeError):
        list(Order.objects.all())
    with scope(tenant=order.tenant):
        assert list(Order.objects.all()) == [order]
