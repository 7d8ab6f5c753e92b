"""Brazilian formats: one place formats money, quantities, unit prices and dates."""

import datetime
from decimal import Decimal

import pytest

from portal import formats


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234.5"), "R$\u00a01.234,50"),
        (Decimal("-0.005"), "-R$\u00a00,01"),
        (Decimal("1000000"), "R$\u00a01.000.000,00"),
    ],
)
def test_money(value, expected):
    assert formats.brl(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("301.5000"), "301,50"),
        (Decimal("300"), "300,00"),
        (Decimal("5.8790"), "5,879"),
        (Decimal("0.0350"), "0,035"),
        (Decimal("1234.1234"), "1.234,1234"),
    ],
)
def test_unit_prices_keep_the_places_the_erp_used(value, expected):
    assert formats.unit_price_br(value) == expected
    assert formats.brl_unit_price(value) == f"R$\u00a0{expected}"


def test_quantities_and_dates():
    assert formats.quantity_br(Decimal("2.5000")) == "2,5"
    assert formats.quantity_br(Decimal("1500")) == "1.500"
    assert formats.date_br(datetime.date(2026, 3, 9)) == "09/03/2026"
