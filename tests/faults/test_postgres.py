"""PostgreSQL restarted, or not answering, while gunicorn serves pages.

The restart runs on a throwaway cluster of the test's own (tests.servers.PostgresCluster), never
on the machine's shared server. What must hold: every request gets an answer within a bound (a
503 page saying the portal is briefly unavailable while the database is down), /healthz says
`db: down` (503) during the outage and `ok` after, and once PostgreSQL is back every page is
served again with the customer's data, without restarting gunicorn.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import pytest
import requests
from django.conf import settings
from django.db import connections
from django.test import Client

from portal.errors import DATABASE_DOWN, RETRY_AFTER_SECONDS
from tests.factories import TEST_PASSWORD
from tests.servers import ROOT, Node, PostgresCluster, Visitor, wait_for

pytestmark = pytest.mark.postgres

HOST = "alfa.portal.test"
EMAIL = "compras@clientealfa.com.br"
CUSTOMER = "Cliente Alfa Um Ltda"
# No request may wait longer than this, down or up (connections are refused at once while the
# server is down; DATABASE_CONNECT_TIMEOUT bounds a server that does not answer).
ANSWER_BOUND_SECONDS = 5.0
SEED = f"""
from django.core.management import call_command
from django_scopes import scopes_disabled
call_command("migrate", verbosity=0)
call_command("erp_schema", "create", verbosity=0)
from erp_sync.mirror import erp_sync_tenant
from portal.accounts.models import Customer
from tests.erp_builders import erp_cliente, erp_pedido
from tests.factories import TenantDomainFactory, TenantFactory, UserFactory
with scopes_disabled():
    tenant = TenantFactory(slug="alfa", name="Alfa Máquinas Ltda", erp_company_id=1)
    TenantDomainFactory(tenant=tenant, hostname="{HOST}")
    erp_pedido(erp_cliente(1, id=501, nome="{CUSTOMER}"), 7001)
    erp_sync_tenant(tenant=tenant)
    UserFactory(customer=Customer.objects.get(erp_id=501), email="{EMAIL}")
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A throwaway PostgreSQL cluster with one customer, served by a gunicorn node (2 workers)."""
    if "erp" in connections:
        pytest.skip("independent of the suite's databases (its own cluster): runs in make test-pg")
    log_dir = tmp_path_factory.mktemp("postgres-restart")
    cluster = PostgresCluster()
    try:
        cluster.create()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings_test",
            "DATABASE_URL": cluster.create_database("portal"),
            "PORTAL_TEST_DIR": str(log_dir),  # files and file cache of its own
        }
        for name in ("ERP_DATABASE_URL", "CACHE_URL", "AWS_STORAGE_BUCKET_NAME"):
            env.pop(name, None)
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SEED],
            cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        with Node("restart", env, log_dir, workers=2) as node:
            yield node, cluster
    finally:
        cluster.destroy()


@dataclass(frozen=True)
class Answer:
    path: str
    started: float
    seconds: float
    status: int | None  # None: no answer at all (connection error, timeout)
    text: str
    retry_after: str | None


class Traffic:
    """A page and /healthz requested in a loop by their own threads (a logged-in customer and a
    load balancer), every answer recorded, until the block ends."""

    def __init__(self, node: Node, cookies):
        self.node = node
        self.cookies = cookies
        self.answers: list[Answer] = []
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._loop, args=(path, with_cookies))
            for path, with_cookies in (
                ("/pedidos/", True),
                ("/pedidos/", True),
                ("/healthz", False),
            )
        ]

    def _loop(self, path: str, with_cookies: bool) -> None:
        session = requests.Session()
        if with_cookies:
            session.cookies.update(self.cookies)
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                response = session.get(
                    f"{self.node.url}{path}", headers={"Host": HOST}, allow_redirects=False,
                    timeout=30,
                )  # fmt: skip
                status, text = response.status_code, response.text
                retry_after = response.headers.get("Retry-After")
            except requests.RequestException as error:
                status, text, retry_after = None, repr(error), None
            seconds = time.monotonic() - started
            self.answers.append(Answer(path, started, seconds, status, text, retry_after))
            time.sleep(0.02)

    def seen(self, path: str, status: int, *, since: float, count: int = 1) -> bool:
        found = [a for a in list(self.answers) if a.started >= since]
        return len([a for a in found if a.path == path and a.status == status]) >= count

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(60)


def customer_page(node: Node, cookies) -> requests.Response:
    return requests.get(
        f"{node.url}/pedidos/", headers={"Host": HOST}, cookies=cookies, allow_redirects=False,
        timeout=30,
    )  # fmt: skip


def test_pages_recover_after_a_postgresql_restart_without_restarting_gunicorn(served):
    node, cluster = served
    visitor = Visitor(HOST)
    assert visitor.log_in(node, EMAIL, TEST_PASSWORD).status_code == 302
    cookies = visitor.session.cookies

    # Restarted while the node is idle: every worker's kept connection is dead.
    with Traffic(node, cookies) as warm:  # both workers open their connection
        wait_for(lambda: warm.seen("/pedidos/", 200, since=0, count=6), seconds=30, what="warm")
    cluster.stop()
    cluster.start()
    pages = [customer_page(node, cookies) for _ in range(6)]
    assert [page.status_code for page in pages] == [200] * 6
    assert all(CUSTOMER in page.text for page in pages)

    # Restarted under traffic.
    with Traffic(node, cookies) as traffic:
        wait_for(lambda: traffic.seen("/pedidos/", 200, since=0, count=4), seconds=30, what="up")
        down = time.monotonic()
        cluster.stop()
        wait_for(
            lambda: (
                traffic.seen("/healthz", 503, since=down)
                and traffic.seen("/pedidos/", 503, since=down, count=10)
            ),
            seconds=15,
            what="outage seen",
        )
        cluster.start()
        up = time.monotonic()
        wait_for(lambda: traffic.seen("/healthz", 200, since=up), seconds=15, what="healthz ok")
        healthy = min(a.started for a in traffic.answers if a.started >= up and a.status == 200)
        wait_for(
            lambda: traffic.seen("/pedidos/", 200, since=healthy, count=4),
            seconds=15,
            what="pages back",
        )
    answers = traffic.answers

    slowest = max(answers, key=lambda a: a.seconds)
    assert all(a.status is not None for a in answers), [a.text for a in answers if not a.status]
    assert slowest.seconds < ANSWER_BOUND_SECONDS, slowest
    assert {a.status for a in answers} <= {200, 503}
    unavailable = [a for a in answers if a.status == 503]
    for answer in unavailable:
        if answer.path == "/healthz":
            assert '"db": "down"' in answer.text
        else:
            assert "Portal temporariamente indisponível" in answer.text
            assert DATABASE_DOWN in answer.text
            assert answer.retry_after == str(RETRY_AFTER_SECONDS)
    after = [a for a in answers if a.started >= healthy]
    assert {a.status for a in after} == {200}
    assert all(CUSTOMER in a.text for a in after if a.path == "/pedidos/")
    outage = [a for a in answers if down <= a.started < up]
    print(
        f"\n{len(answers)} requests, {len(outage)} during the {up - down:.2f} s outage "
        f"(slowest answer then {max(a.seconds for a in outage) * 1000:.0f} ms); "
        f"{len(unavailable)} answered 503; healthz ok {(healthy - up) * 1000:.0f} ms after "
        f"PostgreSQL was back; slowest of all {slowest.seconds * 1000:.0f} ms ({slowest.path})"
    )


@pytest.mark.django_db
def test_a_database_that_does_not_answer_fails_healthz_within_the_connect_timeout():
    """A server that accepts the connection and says nothing (a network partition, a hung
    host): the request ends after DATABASE_CONNECT_TIMEOUT instead of holding the worker."""
    silent = socket.create_server(("127.0.0.1", 0))
    answered = []

    def request_elsewhere():
        # A thread has connections of its own: point its `default` at the silent server.
        connection = connections["default"]
        connection.settings_dict = {
            **connection.settings_dict, "HOST": "127.0.0.1", "PORT": silent.getsockname()[1]
        }  # fmt: skip
        started = time.monotonic()
        try:
            answered.append((Client().get("/healthz"), time.monotonic() - started))
        finally:
            connections.close_all()

    thread = threading.Thread(target=request_elsewhere)
    thread.start()
    thread.join(60)
    silent.close()

    response, elapsed = answered[0]
    assert response.status_code == 503
    assert response.json()["db"] == "down"
    assert elapsed < settings.DATABASE_CONNECT_TIMEOUT + 2, f"healthz took {elapsed:.1f} s"
