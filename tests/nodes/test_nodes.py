"""Several stateless web nodes (DESIGN.md, "Running"): what one node does holds on the other.

Two gunicorn nodes, A and B, over one PostgreSQL, one Redis (CACHE_URL) and one S3 (moto's
server): a session, a tenant-domain change and an upload made through A hold on B. Two ERP
followers: one is active, the other stands by on the advisory lock and takes over when the
first dies. Two task workers running each task once: tests/background/test_worker.py (real
`manage.py db_worker` processes on the same database).
"""

import hashlib
import subprocess
import sys
import time
from contextlib import ExitStack

import pytest
import requests
from django.conf import settings
from django.db import connections
from django_scopes import scopes_disabled

from erp_sync.follower import ADVISORY_LOCK_KEY
from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido, ErpPedidoAnexo
from erp_sync.router import erp_alias
from proposals.models import Attachment, Order
from tests.conftest import HOST_A
from tests.contracts.samples import pdf_bytes
from tests.erp_builders import erp_cliente, erp_pedido
from tests.factories import TEST_PASSWORD, UserFactory
from tests.servers import ROOT, Visitor, form_fields, manage, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NUMBER = 7001
NEW_HOST = "novo.alfa.test"


def test_a_session_made_on_node_a_works_on_node_b_and_a_logout_on_a_ends_it(
    nodes, user_a, password
):
    a, b = nodes
    visitor = Visitor(HOST_A)
    login = visitor.log_in(a, user_a.email, password)
    assert (login.status_code, login.headers["Location"]) == (302, "/")

    page = visitor.get(b, "/")
    assert page.status_code == 200
    assert "Cliente Alfa Um Ltda" in page.text

    kept = visitor.session.cookies["sessionid"]
    assert visitor.post(a, "/sair/").status_code == 302
    # The cookie replayed on B (a copy, another tab, a request in flight): the session is over.
    replay = Visitor(HOST_A)
    replay.session.cookies.set("sessionid", kept)
    after = replay.get(b, "/")
    assert after.status_code == 302
    assert after.headers["Location"].startswith("/entrar/")


def answer(node, host: str) -> int:
    return requests.get(f"{node.url}/entrar/", headers={"Host": host}, timeout=10).status_code


def honoured_within_a_second(node, host: str, status: int) -> None:
    wait_for(lambda: answer(node, host) == status, seconds=1.0, what=f"{host} → {status}")


def tenants_command(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "tenants", *args],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip


class SupportAdmin:
    """Support, logged in on the support host of one node, editing a tenant's domains."""

    def __init__(self, node, tenant):
        self.node = node
        self.path = f"/admin/accounts/tenant/{tenant.pk}/change/"
        support = UserFactory(
            customer=None, tenant=None, is_staff=True, is_superuser=True,
            email="suporte@fornecedor.com.br",
        )  # fmt: skip
        self.visitor = Visitor(settings.SUPPORT_HOST)
        assert self.visitor.log_in(node, support.email, TEST_PASSWORD).status_code == 302

    def edit_domains(self, change) -> None:
        fields = form_fields(self.visitor.get(self.node, self.path).text, "tenant_form")
        change(fields)
        response = self.visitor.post(self.node, self.path, {**fields, "_save": "1"})
        assert response.status_code == 302, response.text

    def add(self, host: str) -> None:
        def fill_first_empty_row(fields):
            empty = next(
                key for key, value in fields.items()
                if key.startswith("domains-") and key.endswith("-hostname") and not value
            )  # fmt: skip
            fields[empty] = host

        self.edit_domains(fill_first_empty_row)

    def remove(self, host: str) -> None:
        def tick_delete(fields):
            row = next(key for key, value in fields.items() if value == host)
            fields[row.replace("-hostname", "-DELETE")] = "on"

        self.edit_domains(tick_delete)


def test_a_domain_added_or_removed_through_node_a_is_honoured_by_node_b_within_a_second(
    nodes, node_env, tenant_a
):
    a, b = nodes
    admin = SupportAdmin(a, tenant_a)
    # B has just answered for the host, so its answer is cached in Redis: each change below
    # must reach that cache, not wait for it to expire (DOMAIN_CACHE_SECONDS).
    assert answer(b, NEW_HOST) == 404

    admin.add(NEW_HOST)
    honoured_within_a_second(b, NEW_HOST, 200)

    tenants_command(node_env, "domain-remove", tenant_a.slug, NEW_HOST)
    honoured_within_a_second(b, NEW_HOST, 404)

    admin.add(NEW_HOST)
    honoured_within_a_second(b, NEW_HOST, 200)

    admin.remove(NEW_HOST)
    honoured_within_a_second(b, NEW_HOST, 404)
    assert answer(b, HOST_A) == 200


def test_a_signed_contract_uploaded_through_node_a_downloads_through_node_b(
    nodes, tenant_a, user_a, password
):
    a, b = nodes
    contract = {"titulo": "Contrato de fornecimento", "conteudo_html": "<p>Cláusula.</p>"}
    erp_pedido(erp_cliente(1, id=user_a.customer.erp_id), NUMBER, contrato=contract)
    erp_sync_tenant(tenant=tenant_a)
    visitor = Visitor(HOST_A)
    visitor.log_in(a, user_a.email, password)
    signed = pdf_bytes(2)

    upload = visitor.post(
        a,
        f"/pedidos/{NUMBER}/contrato/",
        files={"arquivo": ("assinado.pdf", signed, "application/pdf")},
    )
    assert upload.status_code == 303
    detail = visitor.get(b, upload.headers["Location"])
    assert "Contrato Assinado recebido: assinado.pdf" in detail.text

    with scopes_disabled():
        attachment = Attachment.objects.get(order__number=NUMBER, origin="PORTAL")
    download = visitor.get(b, f"/pedidos/{NUMBER}/anexos/{attachment.pk}/")
    assert download.status_code == 302  # to S3, signed for 60 seconds
    assert requests.get(download.headers["Location"], timeout=10).content == signed
    sent = ErpPedidoAnexo.objects.get(tipo="CONTRATO_ASSINADO", origem="PORTAL")
    assert bytes(sent.conteudo) == signed
    assert sent.sha256 == hashlib.sha256(signed).hexdigest()


def advisory_lock_holders() -> int:
    with connections[erp_alias()].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND objid = %s AND database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())",
            [ADVISORY_LOCK_KEY],
        )
        return cursor.fetchone()[0]


def mirrored_status(number: int) -> str | None:
    with scopes_disabled():
        return Order.objects.filter(number=number).values_list("status", flat=True).first()


def test_two_followers_one_active_the_other_takes_over_when_it_is_killed(
    node_env, log_dir, tenant_a, user_a
):
    pedido = erp_pedido(erp_cliente(1, id=user_a.customer.erp_id), NUMBER)
    followers = [
        manage(f"follower-{n}", "erp_sync", "--follow", env=node_env, log_dir=log_dir)
        for n in (1, 2)
    ]
    with ExitStack() as stack:
        for follower in followers:
            stack.enter_context(follower)
        active = wait_for(
            lambda: next((f for f in followers if "Active follower" in f.log), None),
            seconds=60,
            what="an active follower",
        )
        standby = next(f for f in followers if f is not active)
        wait_for(lambda: mirrored_status(NUMBER) == "PRO", seconds=10, what="first pass")
        assert standby.running() and "Active follower" not in standby.log
        assert advisory_lock_holders() == 1

        active.kill()
        killed = time.monotonic()
        ErpPedido.objects.filter(pk=pedido.pk).update(status="PED")  # while nobody follows
        wait_for(lambda: "Active follower" in standby.log, seconds=10, what="takeover")
        wait_for(lambda: mirrored_status(NUMBER) == "PED", seconds=10, what="mirrored by B")
        print(f"standby took over and mirrored in {time.monotonic() - killed:.2f} s")
        assert advisory_lock_holders() == 1
