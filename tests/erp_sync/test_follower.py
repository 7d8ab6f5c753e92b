"""The live mirror on PostgreSQL: NOTIFY does the work (the reconcile interval is 60 s here).

Proposal PDFs rendered ahead go through the queue: the follower queues a task, a real worker
process (`task_worker`) renders it."""

import shutil
import threading
import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import connections, transaction
from django_scopes import scopes_disabled
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from erp_sync.follower import Follower
from erp_sync.models import ErpPedido, SkippedRecord, SyncState
from erp_sync.router import erp_alias
from proposals.models import Attachment, Order, ProposalDocument
from tests.erp_builders import erp_anexo, erp_cliente, erp_pedido

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def start_follower():
    running = []

    def start(**options) -> Follower:
        options.setdefault("reconcile_seconds", 60)
        follower = Follower(tenant_slug=None, poll_seconds=0.2, **options)

        def run():
            # A thread of its own starts with scopes enabled, as the command does: the
            # follower says itself where it crosses tenants.
            try:
                follower.run()
            finally:
                connections.close_all()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        running.append((follower, thread))
        return follower

    yield start
    for follower, thread in running:
        follower.stop.set()
        thread.join(15)


def eventually(check, seconds: float = 5.0):
    """Seconds it took until check() held (fails after `seconds`)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.02)
    pytest.fail(f"not seen within {seconds} s")


def mirrored(number: int, status: str | None = None):
    def check():
        with scopes_disabled():
            order = Order.objects.filter(number=number).first()
        return order is not None and (status is None or order.status == status)

    return check


def test_an_erp_change_reaches_the_portal_through_notify(tenant_a, start_follower):
    follower = start_follower()
    assert follower.ready.wait(10)
    cliente = erp_cliente(tenant_a.erp_company_id)

    pedido = erp_pedido(cliente, 7001)
    assert eventually(mirrored(7001)) < 1.0
    ErpPedido.objects.filter(id=pedido.id).update(status="PED")
    assert eventually(mirrored(7001, "PED")) < 1.0

    # Staff see that lag (ERP change → portal) on the sync status page.
    state = SyncState.objects.filter(tenant=tenant_a)
    eventually(lambda: state.exists() and 0 < state.get().last_lag_ms < 1000)


def test_changes_made_while_the_follower_was_down_appear_at_start(tenant_a, start_follower):
    erp_pedido(erp_cliente(tenant_a.erp_company_id), 7002)
    follower = start_follower()
    assert follower.ready.wait(10)
    assert mirrored(7002)()


def test_a_standby_follower_takes_over_when_the_active_one_stops(tenant_a, start_follower):
    first = start_follower()
    assert first.ready.wait(10)
    second = start_follower()
    assert not second.ready.wait(1.0), "two followers must never be active at once"

    first.stop.set()
    assert second.ready.wait(10)
    erp_pedido(erp_cliente(tenant_a.erp_company_id), 7003)
    assert eventually(mirrored(7003)) < 1.0


def test_the_follower_survives_its_connection_being_killed(tenant_a, start_follower):
    follower = start_follower()
    assert follower.ready.wait(10)
    killed = follower.listen_pid
    with connections[erp_alias()].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [killed])

    eventually(lambda: follower.ready.is_set() and follower.listen_pid != killed, 10)
    erp_pedido(erp_cliente(tenant_a.erp_company_id), 7004)
    assert eventually(mirrored(7004)) < 1.0


def test_two_erp_transactions_committing_out_of_order_are_both_mirrored(tenant_a, start_follower):
    follower = start_follower()
    assert follower.ready.wait(10)
    cliente = erp_cliente(tenant_a.erp_company_id)
    late = connections.create_connection(erp_alias())
    try:
        with late.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                "INSERT INTO erp_pedido (empresa_id, cliente_id, numero, status, emitido_em) "
                "VALUES (%s, %s, 7005, 'PRO', CURRENT_DATE)",
                [tenant_a.erp_company_id, cliente.id],
            )
            erp_pedido(cliente, 7006)  # starts after, commits first
            eventually(mirrored(7006))
            cursor.execute("COMMIT")
    finally:
        late.close()
    eventually(mirrored(7005))


def proposal_pdf_versions(number: int) -> set[int]:
    with scopes_disabled():
        documents = ProposalDocument.objects.filter(order__number=number)
        return set(documents.values_list("erp_version", flat=True))


def test_each_new_proposal_version_gets_its_pdf_before_any_request(
    tenant_a, start_follower, task_worker
):
    follower = start_follower()
    assert follower.ready.wait(10)
    pedido = erp_pedido(erp_cliente(tenant_a.erp_company_id), 7001, items=3)

    eventually(lambda: proposal_pdf_versions(7001) == {pedido.versao}, 30)
    ErpPedido.objects.filter(id=pedido.id).update(vendedor="Carlos Lima")
    pedido.refresh_from_db()
    eventually(lambda: proposal_pdf_versions(7001) == {pedido.versao - 1, pedido.versao}, 30)

    with scopes_disabled():
        document = ProposalDocument.objects.get(order__number=7001, erp_version=pedido.versao)
    with document.file.open("rb") as stream:
        assert "Carlos Lima" in "".join(p.extract_text() for p in PdfReader(stream).pages)


def test_orders_that_are_not_proposals_render_nothing_ahead(tenant_a, start_follower, task_worker):
    follower = start_follower()
    assert follower.ready.wait(10)
    cliente = erp_cliente(tenant_a.erp_company_id)
    erp_pedido(cliente, 7001, status="PED")
    pedido = erp_pedido(cliente, 7002)
    eventually(lambda: proposal_pdf_versions(7002) == {pedido.versao}, 30)
    ErpPedido.objects.filter(id=pedido.id).update(status="CAN")

    eventually(mirrored(7002, "CAN"))
    erp_pedido(cliente, 7003)  # rendered after whatever was handed over before it
    eventually(lambda: proposal_pdf_versions(7003), 30)
    assert proposal_pdf_versions(7001) == set()
    assert proposal_pdf_versions(7002) == {pedido.versao}


def test_a_bulk_load_leaves_the_pdfs_to_the_first_request(tenant_a, start_follower, task_worker):
    cliente = erp_cliente(tenant_a.erp_company_id)
    for numero in (7001, 7002, 7003):
        erp_pedido(cliente, numero)
    follower = start_follower(prerender_limit=2)
    assert follower.ready.wait(10)
    assert mirrored(7003)()
    assert not DBTaskResult.objects.exists(), "a bulk load (the first sync) queues nothing"

    pedido = erp_pedido(cliente, 7004)  # one change after the load: rendered ahead again
    eventually(lambda: proposal_pdf_versions(7004) == {pedido.versao}, 30)
    assert proposal_pdf_versions(7001) == proposal_pdf_versions(7002) == set()
    assert proposal_pdf_versions(7003) == set()
    # The ERP wrote the order, its items and installments one by one: a task per version seen.
    renders = DBTaskResult.objects.filter(task_path="proposals.tasks.proposal_pdf_render_ahead")
    queued = [result.args_kwargs["kwargs"] for result in renders]
    with scopes_disabled():
        assert {task["order_id"] for task in queued} == {Order.objects.get(number=7004).pk}
    assert max(task["erp_version"] for task in queued) == pedido.versao


def test_a_malformed_notification_is_recorded_and_the_follower_goes_on(tenant_a, start_follower):
    follower = start_follower()
    assert follower.ready.wait(10)
    with connections[erp_alias()].cursor() as cursor:
        cursor.execute("SELECT pg_notify('erp_changes', 'pedido:1:não-é-um-id')")

    state = SyncState.objects.filter(tenant=tenant_a)
    eventually(lambda: state.exists() and state.get().is_failing)
    assert "Notificação inválida em erp_changes: 'pedido:1:não-é-um-id'" in state.get().last_error

    erp_pedido(erp_cliente(tenant_a.erp_company_id), 7007)
    eventually(mirrored(7007), 10)
    eventually(lambda: not state.get().is_failing)  # the next good pass clears the notice


def test_a_storage_error_is_recorded_and_the_order_taken_once_storage_is_back(
    tenant_a, start_follower
):
    # A file stands where the mirror makes its attachments folder: the disk refuses the write
    # (a real OSError, as a broken volume gives).
    blocked = Path(default_storage.path("attachments"))
    shutil.rmtree(blocked, ignore_errors=True)
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_bytes(b"")
    follower = start_follower(reconcile_seconds=2)
    assert follower.ready.wait(10)

    with transaction.atomic(using=erp_alias()):  # the order arrives with its attachment
        pedido = erp_pedido(erp_cliente(tenant_a.erp_company_id), 7008)
        erp_anexo(pedido, b"%PDF-1.7\n% especificacao\n")

    # The order is skipped and listed for staff; the follower goes on.
    skipped = SkippedRecord.objects.filter(tenant=tenant_a, erp_id=pedido.id)
    eventually(skipped.exists, 10)
    assert "Error" in skipped.get().error and follower.ready.is_set()
    with scopes_disabled():
        assert not Order.objects.filter(number=7008).exists()

    blocked.unlink()  # the volume is back: the next full pass takes the order
    eventually(mirrored(7008), 10)
    with scopes_disabled():
        assert Attachment.objects.get(order__number=7008).name == "especificacao.pdf"
    eventually(lambda: not skipped.exists())
