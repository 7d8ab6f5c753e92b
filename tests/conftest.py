"""Shared fixtures: two tenants on their own hosts, customers, logins, and the ERP tables.

django-scopes is disabled while fixtures are built (pretix's way), never for a test's body: a
body that reads tenant-scoped rows says so (`scopes_disabled()`, or `scope(tenant=…)` where the
code under test should run scoped), so a service that forgets its own scope fails its test.
Requests made through the test client run inside their tenant's scope
(portal.middleware.TenantMiddleware).
"""

import os
import shutil

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django_scopes import scopes_disabled

from erp_sync.router import erp_alias
from tests.background.workers import start_worker, stop_worker, worker_env
from tests.factories import (
    TEST_PASSWORD,
    CustomerFactory,
    TenantDomainFactory,
    TenantFactory,
    UserFactory,
)

HOST_A = "alfa.portal.test"
HOST_B = "beta.portal.test"
ERP_TABLES = [
    "erp_portal_evento",
    "erp_pedido_anexo",
    "erp_contrato_signatario",
    "erp_pedido_contrato",
    "erp_pedido_parcela",
    "erp_pedido_item",
    "erp_pedido",
    "erp_cliente",
]


def pytest_collection_modifyitems(config, items):
    """Every database test may touch both aliases (the ERP may live in its own database)."""
    on_postgres = connections["default"].vendor == "postgresql"
    if os.environ.get("REQUIRE_POSTGRES") and not on_postgres:
        raise pytest.UsageError("REQUIRE_POSTGRES is set but DATABASE_URL is not PostgreSQL")
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and "databases" not in marker.kwargs:
            item.add_marker(
                pytest.mark.django_db(databases="__all__", **marker.kwargs), append=False
            )
        if item.get_closest_marker("postgres") and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only: run by `make test-pg`"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("erp_schema", "create", verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def _remove_test_files():
    """settings_test keeps files, the cache and a SQLite test database in a fresh temporary
    folder; remove it after the run."""
    yield
    shutil.rmtree(settings.TEST_DIR, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    with scopes_disabled():
        yield


@pytest.fixture(autouse=True)
def _clean_erp_tables_after_transactional_tests(request):
    """Flush after a transactional test skips unmanaged tables: empty the ERP's ourselves."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        connection = connections[erp_alias()]
        with connection.cursor() as cursor:
            for table in ERP_TABLES:
                cursor.execute(f"DELETE FROM {table}")


@pytest.fixture
def task_worker():
    """A real `manage.py db_worker` process on this test's databases, stopped after the test.

    Its tasks must be committed to be seen: use it in `django_db(transaction=True)` tests."""
    worker = start_worker(worker_env())
    yield worker
    output = stop_worker(worker)
    assert worker.returncode == 0, output


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tenant_a(db):
    tenant = TenantFactory(slug="alfa", name="Alfa Máquinas Ltda", erp_company_id=1)
    TenantDomainFactory(tenant=tenant, hostname=HOST_A)
    return tenant


@pytest.fixture
def tenant_b(db):
    tenant = TenantFactory(slug="beta", name="Beta Serviços S.A.", erp_company_id=2)
    TenantDomainFactory(tenant=tenant, hostname=HOST_B)
    return tenant


@pytest.fixture
def customer_a(tenant_a):
    return CustomerFactory(tenant=tenant_a, name="Cliente Alfa Um Ltda")


@pytest.fixture
def other_customer_a(tenant_a):
    return CustomerFactory(tenant=tenant_a, name="Cliente Alfa Dois Ltda")


@pytest.fixture
def customer_b(tenant_b):
    return CustomerFactory(tenant=tenant_b, name="Cliente Beta Ltda")


@pytest.fixture
def user_a(customer_a):
    return UserFactory(customer=customer_a, email="compras@clientealfa.com.br")


@pytest.fixture
def other_user_a(other_customer_a):
    return UserFactory(customer=other_customer_a, email="compras@outroalfa.com.br")


@pytest.fixture
def user_b(customer_b):
    return UserFactory(customer=customer_b, email="compras@clientebeta.com.br")


def host_client(host: str, user=None) -> Client:
    """A test client talking to `host`, logged in as `user` when given."""
    client = Client(HTTP_HOST=host)
    if user is not None:
        client.force_login(user, backend="portal.accounts.backends.TenantEmailBackend")
    return client


@pytest.fixture
def client_a(user_a):
    return host_client(HOST_A, user_a)


@pytest.fixture
def anon_a(tenant_a):
    return host_client(HOST_A)


@pytest.fixture
def password():
    return TEST_PASSWORD
