from django.http import HttpResponseNotFound
from django.http.request import split_domain_port
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django_scopes import scope, scopes_disabled

from portal.accounts.selectors import is_support_host, tenant_for_host
from portal.languages import request_language

ANY_HOST_PATHS = {"/healthz"}
UNKNOWN_HOST_BODY = (
    '<!doctype html><html lang="pt-br"><meta charset="utf-8"><title>Portal não configurado</title>'
    "<h1>Portal não configurado</h1><p>Este endereço não corresponde a nenhum portal.</p></html>"
)


class TenantMiddleware:
    """First in the chain: resolve request.tenant from the Host header and scope the request.

    An unknown host gets a plain 404 (no data, no login form). The support host runs with
    scopes disabled (support sees every tenant in admin); every other request runs inside its
    tenant's scope, so an unscoped query raises instead of leaking.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        hostname, _port = split_domain_port(request.get_host())
        request.tenant = None
        request.is_support_host = False
        if request.path in ANY_HOST_PATHS:
            with scopes_disabled():
                return self.get_response(request)
        if is_support_host(hostname=hostname):
            request.is_support_host = True
            with scopes_disabled():
                response = self.get_response(request)
        else:
            tenant = tenant_for_host(hostname=hostname)
            if tenant is None:
                return HttpResponseNotFound(UNKNOWN_HOST_BODY)
            request.tenant = tenant
            with scope(tenant=tenant):
                response = self.get_response(request)
        patch_vary_headers(response, ["Host"])
        return response


class PrivateCacheMiddleware:
    """Pages for a logged-in user hold customer data: never stored by browsers or proxies."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            add_never_cache_headers(response)
            response["Cache-Control"] = "private, no-store, max-age=0"
        return response


class LanguageMiddleware:
    """After authentication: each request runs in portal.languages.request_language() (Django's
    LocaleMiddleware would follow Accept-Language and cannot see the user's choice)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request_language(request)
        request.LANGUAGE_CODE = language
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
