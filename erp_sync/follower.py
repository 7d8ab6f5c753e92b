"""`erp_sync --follow`: keep the mirror live.

PostgreSQL: one active follower per ERP database (a session advisory lock; the others stand by
and take over when it dies), LISTEN erp_changes and re-mirror just the named aggregate, plus a
periodic full reconcile for what a notification cannot tell (commits out of order, a follower
that was down, a lost NOTIFY). SQLite: a full pass every poll interval. A pass that fails for any
reason (a lost connection, a malformed notification, a storage error) is recorded on the sync
state and retried with backoff from a fresh connection and a full pass: one bad pass never ends
the only active follower. SIGTERM/SIGINT end the loop after the current pass.

New versions of proposals get their PDF rendered ahead of the customer's first request: the
follower queues a task per version (proposals.tasks) and a task worker renders it, so rendering
never delays the mirror; a pass that changes more than `prerender_limit` proposals (a bulk load,
the initial mirror) queues nothing and leaves them to the first request. The follower hands the
tasks to a thread of its own that enqueues them: the mirror does not wait for the queue's write
(a commit of its own on the database backend) before it takes the next change.
"""

import logging
import queue
import threading
import time

import psycopg
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone
from psycopg.conninfo import make_conninfo

from contracts.tasks import signature_retries_enqueue
from erp_sync.mirror import (
    SyncStats,
    erp_sync_all,
    erp_sync_customer,
    erp_sync_order,
    sync_state_record_failure,
    sync_state_record_success,
)
from erp_sync.router import erp_alias
from portal.accounts.models import Tenant
from portal.background.queue import enqueue_on_commit
from proposals.tasks import proposal_pdf_render_ahead

logger = logging.getLogger("erp_sync.follow")

CHANNEL = "erp_changes"
# Any constant both followers agree on: "ERPS" in ASCII.
ADVISORY_LOCK_KEY = 0x45525053
MAX_BACKOFF_SECONDS = 30.0
PRERENDER_LIMIT = 100


class _Enqueuer(threading.Thread):
    """Enqueues the render tasks the follower hands over, off the mirror's path."""

    def __init__(self):
        super().__init__(name="follower-enqueue", daemon=True)
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()

    def run(self) -> None:
        try:
            while (batch := self.jobs.get()) is not None:
                close_old_connections()  # a connection an error left broken is replaced
                for kwargs in batch:
                    # Outside any transaction: enqueued at once; a failure is only logged
                    # (the customer's first request renders the PDF instead).
                    enqueue_on_commit(proposal_pdf_render_ahead, **kwargs)
        finally:
            connections.close_all()  # this thread's own

    def stop(self) -> None:
        self.jobs.put(None)
        self.join(30)


def _erp_conninfo() -> str:
    settings_dict = connections[erp_alias()].settings_dict
    return make_conninfo(
        dbname=settings_dict["NAME"],
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=str(settings_dict["PORT"]) if settings_dict.get("PORT") else None,
    )


class MalformedNotification(ValueError):
    """A payload on the channel that is not '<pedido|cliente>:<empresa_id>:<id>'."""


def _parse(payload: str) -> tuple[str, int, int]:
    kind, _, rest = payload.partition(":")
    company, _, erp_id = rest.partition(":")
    if kind not in ("pedido", "cliente") or not (company.isdigit() and erp_id.isdigit()):
        raise MalformedNotification(f"Notificação inválida em {CHANNEL}: {payload[:200]!r}")
    return kind, int(company), int(erp_id)


class Follower:
    def __init__(
        self,
        *,
        tenant_slug: str | None,
        poll_seconds: float,
        reconcile_seconds: float,
        stop: threading.Event | None = None,
        prerender_limit: int = PRERENDER_LIMIT,
    ):
        self.tenant_slug = tenant_slug
        self.poll_seconds = poll_seconds
        self.reconcile_seconds = reconcile_seconds
        self.stop = stop or threading.Event()
        self.listen_pid: int | None = None
        self.ready = threading.Event()  # set once active and caught up (lock, LISTEN, a pass)
        self.prerender_limit = prerender_limit
        self.enqueuer: _Enqueuer | None = None
        self._next_signature_sweep = 0.0

    def run(self) -> None:
        backoff = 1.0
        while not self.stop.is_set():
            try:
                if connections[erp_alias()].vendor == "postgresql":
                    self._follow_notifications()
                else:
                    self._poll()
                backoff = 1.0
            except Exception as error:
                self.ready.clear()
                if isinstance(error, DatabaseError | psycopg.Error):
                    logger.exception("ERP connection lost; retrying in %.0f s", backoff)
                else:
                    logger.exception("Follower pass failed; retrying in %.0f s", backoff)
                for connection in connections.all():
                    connection.close()
                self._record_failure(error)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        self.ready.clear()
        if self.enqueuer is not None:
            self.enqueuer.stop()
        logger.info("Follower stopped")

    def _tenants(self):
        tenants = Tenant.objects.filter(is_active=True)
        return tenants.filter(slug=self.tenant_slug) if self.tenant_slug else tenants

    def _record_failure(self, error: Exception) -> None:
        try:
            sync_state_record_failure(
                error=f"{type(error).__name__}: {error}", tenants=self._tenants()
            )
        except DatabaseError:
            logger.exception("Could not record the failure: the portal's database is down too")
            connections.close_all()

    # One pass ---------------------------------------------------------------------------

    def full_pass(self) -> None:
        started = time.monotonic()
        proposals = []
        for tenant, stats in erp_sync_all(tenant_slug=self.tenant_slug).items():
            self._report(tenant, stats, started, full_pass=True)
            proposals += [(tenant.pk, *changed) for changed in stats.proposals_changed]
        self._prerender(proposals)
        if time.monotonic() >= self._next_signature_sweep:
            self._next_signature_sweep = time.monotonic() + self.reconcile_seconds
            self._retry_signatures()

    def _retry_signatures(self) -> None:
        """Queue the seals that failed and the timestamps the TSA owes (at most once per
        reconcile period: on SQLite a full pass runs every poll)."""
        try:
            queued = signature_retries_enqueue()
        except DatabaseError:
            logger.exception("Could not queue the digital signature retries")
            return
        if any(queued.values()):
            logger.info("Signatures: %(seals)d seals, %(timestamps)d timestamps queued", queued)

    def _prerender(self, proposals: list[tuple[int, int, int]]) -> None:
        """Queue the PDF of each (tenant id, order id, version) just mirrored."""
        if not proposals:
            return
        if len(proposals) > self.prerender_limit:
            logger.info("%d proposals changed at once: PDFs render on request", len(proposals))
            return
        if self.enqueuer is None or not self.enqueuer.is_alive():
            self.enqueuer = _Enqueuer()
            self.enqueuer.start()
        self.enqueuer.jobs.put(
            [
                {"tenant_id": tenant_id, "order_id": order_id, "erp_version": erp_version}
                for tenant_id, order_id, erp_version in proposals
            ]
        )

    def _report(self, tenant: Tenant, stats: SyncStats, started: float, full_pass: bool) -> None:
        elapsed_ms = round((time.monotonic() - started) * 1000)
        lag_ms = stats.lag_ms(now=timezone.now())
        if stats.changed:
            lag = f"; ERP change → portal {lag_ms} ms" if lag_ms is not None else ""
            logger.info("%s: %s in %d ms%s", tenant.slug, stats, elapsed_ms, lag)
        sync_state_record_success(tenant=tenant, stats=stats, lag_ms=lag_ms, full_pass=full_pass)

    def apply(self, payloads: set[str]) -> None:
        """Re-mirror the aggregates named by notifications ('pedido:<empresa>:<id>')."""
        started = time.monotonic()
        changes = [_parse(payload) for payload in payloads]
        by_company = {t.erp_company_id: t for t in self._tenants()}
        proposals = []
        # Customers first: an order may name a customer that is new in the same transaction.
        for kind, company, erp_id in sorted(changes, key=lambda change: change[0] != "cliente"):
            tenant = by_company.get(company)
            if tenant is None:
                continue
            sync = erp_sync_customer if kind == "cliente" else erp_sync_order
            stats = sync(tenant=tenant, erp_id=erp_id)
            self._report(tenant, stats, started, False)
            proposals += [(tenant.pk, *changed) for changed in stats.proposals_changed]
        self._prerender(proposals)

    # SQLite: poll -------------------------------------------------------------------------

    def _poll(self) -> None:
        while not self.stop.is_set():
            self.full_pass()
            self.ready.set()
            self.stop.wait(self.poll_seconds)

    # PostgreSQL: advisory lock + LISTEN ---------------------------------------------------

    def _follow_notifications(self) -> None:
        with psycopg.connect(_erp_conninfo(), autocommit=True) as listener:
            self.listen_pid = listener.info.backend_pid
            if not self._take_lock(listener):
                return
            listener.execute(f"LISTEN {CHANNEL}")
            logger.info("Active follower (backend %s): listening on %s", self.listen_pid, CHANNEL)
            self.full_pass()
            self.ready.set()
            next_reconcile = time.monotonic() + self.reconcile_seconds
            while not self.stop.is_set():
                wait = max(0.0, min(1.0, next_reconcile - time.monotonic()))
                payloads = {n.payload for n in listener.notifies(timeout=wait, stop_after=1)}
                if payloads:
                    # A burst (an ERP batch) arrives together: take what is already there.
                    payloads |= {n.payload for n in listener.notifies(timeout=0)}
                    self.apply(payloads)
                if time.monotonic() >= next_reconcile:
                    self.full_pass()
                    next_reconcile = time.monotonic() + self.reconcile_seconds

    def _take_lock(self, listener) -> bool:
        """Stand by until this follower is the only active one for this ERP database."""
        while not self.stop.is_set():
            got = listener.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
            if got.fetchone()[0]:
                return True
            self.stop.wait(self.poll_seconds)
        return False
