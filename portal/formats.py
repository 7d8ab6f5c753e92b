"""Brazilian formats, in one place: R$ 1.234,56 and dd/mm/aaaa (also in the English interface),
CPF 123.456.789-09 and CNPJ 12.345.678/0001-95 (check digits by django-localflavor).

Babel lays out the numbers (grouping, separators, where the currency sign goes) from the pt_BR
locale whatever the page's language; we round first, half up as the ERP does, because Babel
rounds half to even (R$ 0,005 would show as R$ 0,00, the ERP's as R$ 0,01). The patterns are
parsed once: an 80-item order formats a few hundred amounts per page.
"""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from localflavor.br.validators import BRCNPJValidator, BRCPFValidator

BRAZIL = Locale.parse("pt_BR")


def _rounded(value, places: int) -> Decimal:
    amount = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return amount if amount else abs(amount)  # no "-0,00"


@lru_cache(maxsize=16)
def _pattern(places: int, optional: int = 0, currency: bool = False) -> NumberPattern:
    """'#,##0.00' for 2 places; optional places (shown only when not zero) as '#'; the currency
    sign before the number as pt_BR puts it ('R$ 1,00', '-R$ 1,00')."""
    fraction = "0" * places + "#" * optional
    number = f"#,##0.{fraction}" if fraction else "#,##0"
    return parse_pattern(f"¤\u00a0{number}" if currency else number)


def _apply(pattern: NumberPattern, amount: Decimal) -> str:
    return pattern.apply(amount, BRAZIL, currency="BRL", currency_digits=False)


def number_br(value, places: int = 2) -> str:
    """1234.5 -> '1.234,50'."""
    if value is None or value == "":
        return ""
    return _apply(_pattern(places), _rounded(value, places))


def quantity_br(value) -> str:
    """Quantities keep up to 4 places, without trailing zeros: 2.5000 -> '2,5', 3 -> '3'."""
    if value is None:
        return ""
    return _apply(_pattern(0, 4), _rounded(value, 4))


def unit_price_br(value) -> str:
    """Unit prices keep the ERP's extra places where they are used (fuel by the litre, screws by
    the piece): 301.5000 -> '301,50', 5.879 -> '5,879', 0.035 -> '0,035'."""
    if value is None or value == "":
        return ""
    return _apply(_pattern(2, 2), _rounded(value, 4))


def brl(value) -> str:
    """Decimal -> 'R$ 1.234,56' (negative: '-R$ 1.234,56')."""
    if value is None or value == "":
        return ""
    return _apply(_pattern(2, currency=True), _rounded(value, 2))


def brl_unit_price(value) -> str:
    """A unit price in reais, with its extra places: 'R$ 0,035'."""
    if value is None or value == "":
        return ""
    return _apply(_pattern(2, 2, currency=True), _rounded(value, 4))


def date_br(value) -> str:
    """date or aware datetime (shown in the local time zone) -> 'dd/mm/aaaa'."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return value.strftime("%d/%m/%Y")


def datetime_br(value) -> str:
    """aware datetime -> 'dd/mm/aaaa hh:mm' in America/Sao_Paulo."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%d/%m/%Y %H:%M")


def _valid(validator, value: str) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True


def cpf_cnpj_br(value) -> str:
    """A CPF or CNPJ with its punctuation when its check digits hold ('12.345.678/0001-95'),
    as given otherwise: it is the ERP's data, shown, never refused."""
    if not value:
        return ""
    plain = re.sub(r"[^0-9A-Z]", "", str(value).upper())
    if len(plain) == 11 and plain.isdigit() and _valid(BRCPFValidator(), plain):
        return f"{plain[:3]}.{plain[3:6]}.{plain[6:9]}-{plain[9:]}"
    # CNPJs may hold letters from July 2026 (Receita Federal's alphanumeric CNPJ).
    if len(plain) == 14 and _valid(BRCNPJValidator(), plain):
        return f"{plain[:2]}.{plain[2:5]}.{plain[5:8]}/{plain[8:12]}-{plain[12:]}"
    return str(value)


def validate_cnpj(value: str) -> None:
    """A company's own CNPJ (the tenant's): its check digits must hold."""
    if not _valid(BRCNPJValidator(), value.strip().upper()):
        raise ValidationError(
            "CNPJ inválido: confira os números (ex.: 12.345.678/0001-95).", code="invalid"
        )


def filesize_br(size: int) -> str:
    """1536 -> '1,5 KB': Django's filesizeformat, with Brazilian digits in any language."""
    with translation.override("pt-br"):
        return filesizeformat(size)


def datetime_seconds_br(value) -> str:
    """aware datetime -> 'dd/mm/aaaa hh:mm:ss' in America/Sao_Paulo (evidence: to the second)."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M:%S")


def datetime_utc(value) -> str:
    """aware datetime -> 'dd/mm/aaaa hh:mm:ss UTC'."""
    if value is None:
        return ""
    return value.astimezone(datetime.UTC).strftime("%d/%m/%Y %H:%M:%S UTC")


def cpf_digits(value: str) -> str:
    return "".join(c for c in value or "" if c.isdigit())


def cpf_masked(value: str) -> str:
    """A CPF as every page shows it: only the middle six digits, '***.456.789-**'."""
    digits = cpf_digits(value)
    if len(digits) != 11:
        return "***.***.***-**" if digits else ""
    return f"***.{digits[3:6]}.{digits[6:9]}-**"
