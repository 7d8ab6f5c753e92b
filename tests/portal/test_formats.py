"""Brazilian formats: one place formats money, quantities, unit prices and dates."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

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


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_formats_are_brazilian_in_every_language(language):
    when = datetime.datetime(2026, 3, 9, 17, 5, tzinfo=datetime.UTC)
    with translation.override(language):
        assert formats.brl(Decimal("1234.56")) == "R$\u00a01.234,56"
        assert formats.brl(Decimal("-1234.56")) == "-R$\u00a01.234,56"
        assert formats.brl_unit_price(Decimal("0.0350")) == "R$\u00a00,035"
        assert formats.number_br(Decimal("1234567.891"), 1) == "1.234.567,9"
        assert formats.quantity_br(Decimal("1500.2500")) == "1.500,25"
        assert formats.date_br(datetime.date(2026, 3, 9)) == "09/03/2026"
        assert formats.datetime_br(when) == "09/03/2026 14:05"  # America/Sao_Paulo


def test_money_rounds_half_up_like_the_erp_and_shows_no_negative_zero():
    """Babel alone would round half to even (R$ 0,00 for 0,005) and print '-R$ 0,00'."""
    assert formats.brl(Decimal("0.005")) == "R$\u00a00,01"
    assert formats.brl(Decimal("2.675")) == "R$\u00a02,68"
    assert formats.brl(Decimal("-0.004")) == "R$\u00a00,00"
    assert formats.brl(None) == "" and formats.brl("") == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("52998224725", "529.982.247-25"),  # a valid CPF, as an ERP may store it
        ("529.982.247-25", "529.982.247-25"),
        ("12345678000195", "12.345.678/0001-95"),
        (" 12.345.678/0001-95 ", "12.345.678/0001-95"),
        ("12ABC34501DE35", "12.ABC.345/01DE-35"),  # the alphanumeric CNPJ of 2026
        ("529.982.247-26", "529.982.247-26"),  # wrong check digit: as the ERP gave it
        ("98.765.432/0001-10", "98.765.432/0001-10"),
        ("ISENTO", "ISENTO"),
        ("", ""),
        (None, ""),
    ],
)
def test_cpf_cnpj_formatted_when_valid_and_as_given_otherwise(value, expected):
    assert formats.cpf_cnpj_br(value) == expected


def test_cnpj_validation():
    formats.validate_cnpj("12.345.678/0001-95")
    formats.validate_cnpj("12345678000195")
    with pytest.raises(ValidationError, match="CNPJ inválido"):
        formats.validate_cnpj("12.345.678/0001-96")


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_file_sizes_are_djangos_with_brazilian_digits(language):
    with translation.override(language):
        sizes = [formats.filesize_br(size) for size in (512, 2560, 10 * 1024 * 1024)]
    assert sizes == ["512\xa0bytes", "2,5\xa0KB", "10,0\xa0MB"]
