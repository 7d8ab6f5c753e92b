"""Brazilian formats, in one place: R$ 1.234,56 and dd/mm/aaaa (also in the English interface),
CPF 123.456.789-09 and CNPJ 12.345.678/0001-95 (check digits by django-localflavor)."""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from localflavor.br.validators import BRCNPJValidator, BRCPFValidator

CENT = Decimal("0.01")


def _group_thousands(integer_part: str) -> str:
    groups = []
    while len(integer_part) > 3:
        groups.insert(0, integer_part[-3:])
        integer_part = integer_part[:-3]
    groups.insert(0, integer_part)
    return ".".join(groups)


def number_br(value, places: int = 2) -> str:
    """1234.5 -> '1.234,50'."""
    if value is None or value == "":
        return ""
    quantum = Decimal(1).scaleb(-places)
    amount = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):.{places}f}"
    integer_part, _, fraction = text.partition(".")
    grouped = _group_thousands(integer_part)
    return f"{sign}{grouped},{fraction}" if places else f"{sign}{grouped}"


def quantity_br(value) -> str:
    """Quantities keep up to 4 places, without trailing zeros: 2.5000 -> '2,5', 3 -> '3'."""
    if value is None:
        return ""
    amount = Decimal(value).normalize()
    places = max(0, -amount.as_tuple().exponent)
    return number_br(value, min(places, 4))


def unit_price_br(value) -> str:
    """Unit prices keep the ERP's extra places where they are used (fuel by the litre, screws by
    the piece): 301.5000 -> '301,50', 5.879 -> '5,879', 0.035 -> '0,035'."""
    if value is None or value == "":
        return ""
    exponent = Decimal(value).normalize().as_tuple().exponent
    return number_br(value, min(max(2, -exponent), 4))


def _with_currency(text: str) -> str:
    if text.startswith("-"):
        return f"-R$\u00a0{text[1:]}"
    return f"R$\u00a0{text}"


def brl(value) -> str:
    """Decimal -> 'R$ 1.234,56' (negative: '-R$ 1.234,56')."""
    if value is None or value == "":
        return ""
    return _with_currency(number_br(value))


def brl_unit_price(value) -> str:
    """A unit price in reais, with its extra places: 'R$ 0,035'."""
    if value is None or value == "":
        return ""
    return _with_currency(unit_price_br(value))


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
