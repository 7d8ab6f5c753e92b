import magic
from django.conf import settings
from django.core.cache import cache

from portal.accounts.models import Tenant, TenantDomain, User, normalize_email

# A cached miss is stored as 0 so unknown hosts do not reach the database on every request.
_NO_TENANT = 0
DOMAIN_CACHE_SECONDS = 300
# The logo types browsers and WeasyPrint show; never SVG (it may carry scripts).
LOGO_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def tenant_for_host(*, hostname: str) -> Tenant | None:
    """The active tenant served at `hostname` (lower-case, no port).

    The Tenant itself is cached (no query on a hit); TenantDomain and Tenant clear the entry
    when they change.
    """
    key = TenantDomain.cache_key(hostname)
    tenant = cache.get(key)
    if tenant is None:
        domain = (
            TenantDomain.objects.filter(hostname=hostname, tenant__is_active=True)
            .select_related("tenant")
            .first()
        )
        tenant = domain.tenant if domain else _NO_TENANT
        cache.set(key, tenant, DOMAIN_CACHE_SECONDS)
    return None if tenant == _NO_TENANT else tenant


def is_support_host(*, hostname: str) -> bool:
    return hostname == settings.SUPPORT_HOST


def tenant_primary_hostname(*, tenant: Tenant) -> str:
    domain = tenant.domains.filter(is_primary=True).first() or tenant.domains.first()
    if domain is None:
        raise TenantDomain.DoesNotExist(f"Tenant {tenant.slug} has no domain")
    return domain.hostname


def tenant_absolute_url(*, tenant: Tenant, path: str) -> str:
    """An absolute URL on the tenant's own primary hostname (e-mails, PDFs), never the request's."""
    scheme = "https" if settings.HTTPS else "http"
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{scheme}://{tenant_primary_hostname(tenant=tenant)}{port}{path}"


def user_for_login(*, tenant: Tenant | None, email: str) -> User | None:
    """The login with this e-mail at this tenant (None: the support host's own users)."""
    return (
        User.objects.select_related("customer")
        .filter(tenant=tenant, email=normalize_email(email))
        .first()
    )


def tenant_logo_type(*, tenant: Tenant) -> str | None:
    """The sniffed type of the tenant's logo file, if it is an image we show (None otherwise)."""
    if not tenant.logo:
        return None
    try:
        with tenant.logo.open("rb") as stream:
            head = stream.read(4096)
    except OSError:
        return None
    mime = magic.from_buffer(head, mime=True)
    return mime if mime in LOGO_TYPES else None
