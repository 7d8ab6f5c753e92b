"""Time of each login path and of password reset, with production's password hasher.

    .venv/bin/python -m bench.login_paths [--rounds 5]

Issue #9, finding 8: every path should cost the same (one PBKDF2 hash for login; for reset, the
answer leaves before the mail). A throwaway SQLite database, requests through Django's WSGI
handler as a server would send them (the reset mail goes out at the response's close(), timed
apart). Rate limits and lockouts are cleared between requests: they are not what is measured.
"""

import argparse
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

WORK = Path(tempfile.mkdtemp(prefix="bench-login-"))
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
os.environ.pop("ERP_DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")

import django  # noqa: E402

django.setup()

from axes.utils import reset as axes_reset  # noqa: E402
from django.conf import global_settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.client import FakePayload  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

from portal.accounts import services  # noqa: E402
from portal.accounts.models import Customer, Tenant, TenantDomain  # noqa: E402

HOST = "alfa.bench.test"
PASSWORD = "s3nha-do-bench-Portal"
CSRF_SECRET = "b" * 32  # a cookie secret and the same as the form's token: a valid pair


def setup_logins() -> None:
    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(name="Alfa", slug="alfa", erp_company_id=1)
    TenantDomain.objects.create(hostname=HOST, tenant=tenant, is_primary=True)
    with scopes_disabled():
        active = Customer.objects.create(tenant=tenant, erp_id=1, name="Ativo")
        gone = Customer.objects.create(tenant=tenant, erp_id=2, name="Inativo", is_active=False)
    for email, customer in [
        ("ativo@x.com", active),
        ("inativo@x.com", active),
        ("cli@x.com", gone),
    ]:
        services.user_create(tenant=tenant, customer=customer, email=email, password=PASSWORD)
    services.user_set_active(user=active.users.get(email="inativo@x.com"), active=False)


def post(path: str, data: dict) -> tuple[float, float, int]:
    """Seconds to the response, seconds to its close(), and its status."""
    cache.clear()  # rate limits
    axes_reset()
    body = urlencode({**data, "csrfmiddlewaretoken": CSRF_SECRET}).encode()
    environ = {
        "HTTP_COOKIE": f"csrftoken={CSRF_SECRET}",
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": HOST,
        "SERVER_PORT": "80",
        "HTTP_HOST": HOST,
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": FakePayload(body),
        "wsgi.url_scheme": "http",
    }
    handler = WSGIHandler()
    start = time.perf_counter()
    response = handler(environ, lambda status, headers: None)
    answered = time.perf_counter()
    response.close()
    return answered - start, time.perf_counter() - start, response.status_code


LOGIN = {
    "right password": ("ativo@x.com", PASSWORD),
    "wrong password": ("ativo@x.com", "errada"),
    "unknown e-mail": ("ninguem@x.com", "errada"),
    "inactive login, wrong password": ("inativo@x.com", "errada"),
    "inactive login, right password": ("inativo@x.com", PASSWORD),
    "inactive customer, right password": ("cli@x.com", PASSWORD),
}
RESET = {"existing e-mail": "ativo@x.com", "unknown e-mail": "ninguem@x.com"}


def main() -> None:
    logging.getLogger("axes").setLevel(logging.ERROR)  # every failure is logged at WARNING
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    with override_settings(
        PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS,
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    ):
        setup_logins()
        # Paths take turns, so a busy moment of the machine falls on all of them alike.
        login = {name: [] for name in LOGIN}
        for _ in range(rounds):
            for name, (email, password) in LOGIN.items():
                login[name].append(post("/entrar/", {"username": email, "password": password}))
        reset = {name: [] for name in RESET}
        for _ in range(rounds * 4):
            for name, email in RESET.items():
                reset[name].append(post("/senha/recuperar/", {"email": email}))
        print(f"login (median of {rounds}, seconds to the response):")
        for name, runs in login.items():
            print(f"  {name:36} {statistics.median(r[0] for r in runs):.3f} s  ({runs[0][2]})")
        print(f"password reset (median of {rounds * 4}, ms to the response / to its close):")
        for name, runs in reset.items():
            answered = statistics.median(r[0] for r in runs) * 1000
            closed = statistics.median(r[1] for r in runs) * 1000
            print(f"  {name:36} {answered:.1f} ms / {closed:.1f} ms  ({runs[0][2]})")


if __name__ == "__main__":
    main()
