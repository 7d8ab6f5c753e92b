"""Security headers and production settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import OrderFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_customer_pages_are_private_and_carry_the_security_headers(customer_a, client_a):
    order = OrderFactory(customer=customer_a)
    response = client_a.get(reverse("order_detail", args=[order.number]))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "Host" in response["Vary"]
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


@pytest.mark.django_db
def test_login_page_is_not_cached_as_customer_data_but_still_protected(anon_a):
    response = anon_a.get(reverse("login"))
    assert "Content-Security-Policy" in response
    assert response["X-Content-Type-Options"] == "nosniff"


def test_check_deploy_is_clean_with_a_production_environment(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": "x" * 20 + "-production-secret-" + "y" * 30,
        "HTTPS": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    for test_only in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(test_only, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def manage_without_secret_key(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **env}
    for name in ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", [("check", "--deploy"), ("migrate", "--check")])
def test_production_without_a_secret_key_refuses_to_start(command, tmp_path):
    """Issue #9, finding 9: the built-in demo key passed `check --deploy` ("no issues")."""
    result = manage_without_secret_key(
        *command, HTTPS="1", DEBUG="0", DATABASE_URL=f"sqlite:///{tmp_path / 'p.sqlite3'}"
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr
    assert "no issues" not in result.stdout


def test_debug_runs_without_a_secret_key(tmp_path):
    result = manage_without_secret_key(
        "check", DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'd.sqlite3'}"
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_https_settings_turn_on_hsts_and_secure_cookies(tmp_path):
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_SSL_REDIRECT, s.DEBUG)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "HTTPS": "1"}
    env.pop("DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-c", f"import django;django.setup();{code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["31536000", "True", "True", "True", "False"]
