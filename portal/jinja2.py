"""The Jinja2 environment of the customer pages: Django's url/static, messages, gettext (the
request's language), Brazilian formats as filters whatever the language."""

from functools import lru_cache

from django.conf import settings
from django.contrib.messages import get_messages
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, ngettext
from jinja2 import Environment

from erp_sync.selectors import sync_state_is_failing
from portal import formats
from portal.branding import brand_colors


@lru_cache(maxsize=8192)
def url(name: str, *args) -> str:
    """reverse(), memoized: list pages link every row, and the URLconf never changes at run time."""
    return reverse(name, args=args or None)


def environment(**options) -> Environment:
    env = Environment(extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.globals.update(
        {
            "url": url,
            "static": static,
            "get_messages": get_messages,
            "mirror_may_be_stale": lambda tenant: sync_state_is_failing(tenant=tenant),
            "brand_colors": brand_colors,
            "today": timezone.localdate,
            "language_code": get_language,
            "languages": lambda: settings.LANGUAGES,
        }
    )
    env.filters.update(
        {
            "brl": formats.brl,
            "brl_unit_price": formats.brl_unit_price,
            "number_br": formats.number_br,
            "unit_price_br": formats.unit_price_br,
            "quantity_br": formats.quantity_br,
            "date_br": formats.date_br,
            "datetime_br": formats.datetime_br,
            "datetime_seconds_br": formats.datetime_seconds_br,
            "datetime_utc": formats.datetime_utc,
            "cpf_masked": formats.cpf_masked,
            "cpf_cnpj_br": formats.cpf_cnpj_br,
            "filesize_br": formats.filesize_br,
        }
    )
    return env
