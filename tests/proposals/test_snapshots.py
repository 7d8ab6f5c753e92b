import datetime
from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from proposals.models import OrderSnapshot
from proposals.snapshots import order_snapshot_data, order_version_comparison
from tests.factories import InstallmentFactory, OrderFactory, OrderItemFactory


@scopes_disabled()  # builds data, as a fixture would
def _snapshot(order):
    OrderSnapshot.objects.update_or_create(
        tenant=order.tenant,
        order=order,
        erp_version=order.erp_version,
        defaults={"data": order_snapshot_data(order, order.items.all(), order.installments.all())},
    )


@pytest.mark.django_db
def test_comparison_shows_changed_price_removed_item_and_new_due_date(customer_a):
    order = OrderFactory(customer=customer_a, total=Decimal("1500.00"), erp_version=3)
    kept = OrderItemFactory(order=order, sequence=1, description="Bomba d'água", unit_price=100)
    removed = OrderItemFactory(order=order, sequence=2, description="Mangueira 20 m")
    installment = InstallmentFactory(order=order, number=1, due_date=datetime.date(2026, 12, 10))
    _snapshot(order)

    order.erp_version = 4
    order.total = Decimal("1740.50")
    order.save()
    kept.unit_price = Decimal("1240.5")
    kept.save()
    removed.delete()
    installment.due_date = datetime.date(2026, 12, 20)
    installment.save()
    _snapshot(order)

    with scope(tenant=order.tenant):  # as the detail page runs it
        comparison = order_version_comparison(order=order, seen_version=3)

    assert comparison.has_changes
    assert (comparison.seen_version, comparison.current_version) == (3, 4)
    assert [(f.label, f.before, f.after) for f in comparison.fields] == [
        ("Valor total", "R$\u00a01.500,00", "R$\u00a01.740,50")
    ]
    by_label = {row.label: row for row in comparison.items}
    assert by_label["Item 2 — Mangueira 20 m"].change == "removed"
    price = by_label["Item 1 — Bomba d'água"].fields
    assert [(f.label, f.before, f.after) for f in price] == [
        ("Valor unitário", "R$\u00a0100,00", "R$\u00a01.240,50")
    ]
    assert [(f.label, f.before, f.after) for f in comparison.installments[0].fields] == [
        ("Vencimento", "10/12/2026", "20/12/2026")
    ]


@pytest.mark.django_db
def test_no_comparison_for_the_current_version_or_an_unknown_one(customer_a):
    order = OrderFactory(customer=customer_a, erp_version=2)
    _snapshot(order)
    with scope(tenant=order.tenant):
        assert order_version_comparison(order=order, seen_version=2) is None
        assert order_version_comparison(order=order, seen_version=1) is None
