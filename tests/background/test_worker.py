"""Real `manage.py db_worker` processes running real queued tasks.

SQLite: a database file of the test's own (pytest's SQLite test database lives in memory, out
of a worker process's reach). PostgreSQL: the test database itself; several workers at once,
and a worker killed in the middle of a task.
"""

import signal
import subprocess
import sys
from collections import Counter

import pytest
from django_scopes import scopes_disabled
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from erp_sync.mirror import erp_sync_tenant
from portal.background.queue import enqueue_on_commit
from proposals.models import Order, ProposalDocument
from proposals.tasks import proposal_pdf_render_ahead
from tests.background.probe import probe_record
from tests.background.workers import (
    ROOT,
    eventually,
    start_worker,
    stop_worker,
    worker_env,
)
from tests.erp_builders import erp_cliente, erp_pedido


def test_a_worker_process_renders_a_queued_proposal_pdf_on_sqlite(tmp_path):
    env = worker_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}", MEDIA_ROOT=str(tmp_path / "m")
    )
    env.pop("ERP_DATABASE_URL", None)

    def manage(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
            capture_output=True, text=True, timeout=120,
        ).stdout  # fmt: skip

    manage("migrate", "-v", "0")
    manage("demo")
    enqueue = (
        "from django.db import transaction\n"
        "from django_scopes import scopes_disabled\n"
        "from portal.background.queue import enqueue_on_commit\n"
        "from proposals.models import Order\n"
        "from proposals.tasks import proposal_pdf_render_ahead as render\n"
        "with scopes_disabled():\n"
        "    order = Order.objects.get(tenant__slug='alfa', number=7029)\n"
        "for _ in range(2):\n"
        "    with transaction.atomic():\n"
        "        enqueue_on_commit(render, tenant_id=order.tenant_id, order_id=order.pk,\n"
        "                          erp_version=order.erp_version)\n"
    )
    manage("shell", "-c", enqueue)

    worker = start_worker(env, "--batch")  # runs what is queued, then exits
    assert worker.wait(120) == 0, stop_worker(worker)

    outcome = (
        "from django_scopes import scopes_disabled\n"
        "from django_tasks_db.models import DBTaskResult\n"
        "from proposals.models import ProposalDocument\n"
        "results = DBTaskResult.objects.order_by('finished_at')\n"
        "print([(r.status, r.return_value) for r in results])\n"
        "with scopes_disabled():\n"
        "    print(ProposalDocument.objects.filter(order__number=7029).count())\n"
    )
    results, documents = manage("shell", "-c", outcome).strip().splitlines()[-2:]
    assert results == "[('SUCCESSFUL', 'rendered'), ('SUCCESSFUL', 'already rendered')]"
    assert documents == "1"


@pytest.fixture
def proposal(tenant_a):
    """A mirrored proposal with many items: its PDF takes a while to render."""
    erp_pedido(erp_cliente(tenant_a.erp_company_id), 7001, items=400)
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        return Order.objects.get(number=7001)


def enqueue_render(order: Order) -> DBTaskResult:
    enqueue_on_commit(
        proposal_pdf_render_ahead,
        tenant_id=order.tenant_id,
        order_id=order.pk,
        erp_version=order.erp_version,
    )
    return DBTaskResult.objects.latest("enqueued_at")


def status_of(result: DBTaskResult) -> str:
    result.refresh_from_db()
    return result.status


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_renders_a_queued_proposal_pdf_on_postgresql(proposal):
    result = enqueue_render(proposal)
    worker = start_worker(worker_env())
    try:
        eventually(lambda: status_of(result) == TaskResultStatus.SUCCESSFUL, 120, "rendered")
    finally:
        output = stop_worker(worker)
    assert worker.returncode == 0, output
    assert result.return_value == "rendered"
    with scopes_disabled():
        document = ProposalDocument.objects.get(order=proposal)
    assert document.erp_version == proposal.erp_version
    with document.file.open("rb") as stream:
        assert stream.read(5) == b"%PDF-"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_run_each_of_200_tasks_exactly_once(tmp_path):
    runs = tmp_path / "runs"
    keys = [f"task-{n}" for n in range(200)]
    for key in keys:
        enqueue_on_commit(probe_record, key=key, path=str(runs))
    workers = [start_worker(worker_env()) for _ in range(2)]
    try:
        eventually(
            lambda: not DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).exists(),
            120,
            "all 200 tasks run",
        )
    finally:
        outputs = [stop_worker(worker) for worker in workers]
    lines = [line.split() for line in runs.read_text().splitlines()]
    assert Counter(key for key, _ in lines) == Counter(keys), outputs
    pids = Counter(pid for _, pid in lines)
    assert len(pids) == 2 and min(pids.values()) > 0, f"both workers took tasks: {pids}"
    assert all(len(r.worker_ids) == 1 for r in DBTaskResult.objects.all())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_task_whose_worker_is_killed_runs_again_and_renders_once(proposal):
    result = enqueue_render(proposal)
    doomed = start_worker(worker_env())
    try:
        eventually(lambda: status_of(result) == TaskResultStatus.RUNNING, 60, "task started")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    finally:
        stop_worker(doomed)
    with scopes_disabled():
        assert not ProposalDocument.objects.filter(order=proposal).exists(), "killed too late"
    assert status_of(result) == TaskResultStatus.RUNNING  # what the dead worker left behind

    survivor = start_worker(worker_env())
    try:
        eventually(lambda: status_of(result) == TaskResultStatus.SUCCESSFUL, 120, "run again")
    finally:
        stop_worker(survivor)
    assert result.return_value == "rendered"
    assert len(result.worker_ids) == 2  # the dead worker's attempt, then the survivor's
    with scopes_disabled():
        assert ProposalDocument.objects.filter(order=proposal).count() == 1
