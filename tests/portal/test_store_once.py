"""Rendered documents are stored once, and no lock is held while WeasyPrint renders
(portal.documents.stored, used by the proposal PDF and the contract PDF alike)."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django_scopes import scope, scopes_disabled

from contracts.models import Contract, ContractDocument
from contracts.services import contract_pdf_ensure
from erp_sync.mirror import erp_sync_tenant
from proposals.documents import proposal_pdf_ensure
from proposals.models import Order, ProposalDocument
from tests.erp_builders import erp_cliente, erp_pedido

ROOT = Path(__file__).resolve().parents[2]
NUMBER = 7001


def stored_files() -> set[str]:
    return {
        os.path.join(folder, name)
        for folder, _, names in os.walk(settings.MEDIA_ROOT)
        for name in names
    }


def ensure_proposal(order_pk: int):
    order = Order.objects.select_related("tenant", "customer").get(pk=order_pk)
    return proposal_pdf_ensure(order=order)


def ensure_contract(order_pk: int):
    contract = Contract.objects.select_related("order__tenant").get(order_id=order_pk)
    return contract_pdf_ensure(contract=contract)


def rows_of(kind: str, order_pk: int) -> int:
    with scopes_disabled():
        if kind == "proposal":
            return ProposalDocument.objects.filter(order_id=order_pk).count()
        return ContractDocument.objects.filter(contract__order_id=order_pk).count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["proposal", "contract"])
def test_two_simultaneous_first_requests_store_one_row_and_leave_one_file(kind, tenant_a, user_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    erp_pedido(cliente, NUMBER, items=40, contrato={"titulo": "Contrato de fornecimento"})
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        order = Order.objects.get(tenant=tenant_a, number=NUMBER)
    ensure = {"proposal": ensure_proposal, "contract": ensure_contract}[kind]
    barrier = threading.Barrier(2)
    results, errors = {}, []
    files = stored_files()

    def first_request(key):
        try:
            with scope(tenant=tenant_a):  # as a request runs (scopes are per thread)
                barrier.wait()
                results[key] = ensure(order.pk)
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            for connection in connections.all():
                connection.close()

    threads = [threading.Thread(target=first_request, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert results[0].sha256 == results[1].sha256
    assert results[0].file.name == results[1].file.name
    assert rows_of(kind, order.pk) == 1
    (new_file,) = stored_files() - files
    assert new_file.endswith(results[0].file.name)


@pytest.mark.skipif(
    connections["default"].vendor != "sqlite", reason="SQLite's write lock: make test-sqlite"
)
def test_a_write_during_a_long_render_is_not_blocked(tmp_path):
    """On SQLite every write transaction takes the database's one write lock: a render inside
    one kept the other requests and the follower waiting for the whole render."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'render.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "portal.settings_test",
    }
    env.pop("ERP_DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "tests.portal.write_during_render"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"300-item render {figures['render_ms']} ms; a write meanwhile {figures['write_ms']} ms")
    assert figures["written_while_rendering"], figures
    assert figures["write_ms"] < 250, figures
    assert figures["documents"] == 1
