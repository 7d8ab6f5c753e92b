"""Rate limits on the pages that take an e-mail from anyone: login and password reset.

Per IP and per (tenant, e-mail), counted in the shared cache by django-ratelimit, every POST
alike (right or wrong). The axes lockout stops guessing one login's password from one address;
these stop spraying many logins from one address, and one login from many addresses, and
reset mail floods.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from portal.accounts.models import normalize_email


def _tenant_key(request) -> str:
    tenant = getattr(request, "tenant", None)
    return tenant.slug if tenant is not None else "_support"


def request_rate_limited(request, *, action: str, email: str) -> bool:
    """Count this POST of `action` (settings.RATE_LIMITS) and say whether it is over a limit.

    Both counters always count: an address over its limit keeps an e-mail's count going.
    """
    rates = settings.RATE_LIMITS[action]
    by_email = f"{_tenant_key(request)}:{normalize_email(email)}"
    over = [
        is_ratelimited(request, group=f"{action}:ip", key="ip", rate=rates["ip"], increment=True),
        is_ratelimited(
            request,
            group=f"{action}:email",
            key=lambda _group, _request: by_email,
            rate=rates["email"],
            increment=True,
        ),
    ]
    return any(over)


def rate_limit_message() -> str:
    return _("Muitas tentativas em pouco tempo. Aguarde alguns minutos e tente novamente.")
