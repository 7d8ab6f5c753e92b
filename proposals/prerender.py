"""Proposal PDFs rendered ahead of the customer's first request, in a process of its own.

The ERP follower hands over the proposals it has just mirrored at a new version. Rendering is
CPU-bound Python (WeasyPrint): in a thread of the follower it would hold the GIL and delay the
mirror (follow latency p99 42 → 288 ms; bench/README.md, "Mirror engine"); a child process
renders beside it instead. The child is spawned (never forked: the follower holds connections
and threads) and is told the parent's databases and storage, so it writes where the parent
reads — in tests too, where both are throwaway.
"""

import logging
import multiprocessing
import os
import queue
import signal

import django
from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)


def _settings_for_child() -> dict:
    return {
        "DATABASES": {alias: dict(connections[alias].settings_dict) for alias in connections},
        "STORAGES": settings.STORAGES,
        "MEDIA_ROOT": settings.MEDIA_ROOT,
    }


def _child(jobs, stop, overrides: dict) -> None:
    # Ctrl+C reaches the whole process group: the parent decides when this child ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Background work: the mirror, the database and the web workers go first for the CPU.
    os.nice(10)
    for name, value in overrides.items():
        setattr(settings, name, value)
    django.setup()
    from proposals.documents import proposal_pdf_prerender

    parent = multiprocessing.parent_process()
    while not stop.is_set() and parent.is_alive():
        try:
            order_ids = jobs.get(timeout=1.0)
        except queue.Empty:
            continue
        for order_id in order_ids:  # one at a time: stopping waits for one render at most
            if stop.is_set():
                break
            try:
                proposal_pdf_prerender(order_ids=[order_id])
            except DatabaseError:
                logger.exception("Proposal PDF of order %s not rendered ahead", order_id)
                connections.close_all()
    connections.close_all()


class ProposalPrerenderer:
    """The follower's handle on the rendering process: start, submit order ids, stop."""

    def __init__(self):
        self._context = multiprocessing.get_context("spawn")
        self._jobs = None
        self._stop = None
        self._process = None

    def start(self) -> None:
        self._jobs = self._context.Queue()
        self._stop = self._context.Event()
        self._process = self._context.Process(
            target=_child,
            args=(self._jobs, self._stop, _settings_for_child()),
            name="proposal-prerender",
            daemon=True,
        )
        self._process.start()

    def submit(self, order_ids: list[int]) -> None:
        if not order_ids:
            return
        if self._process is None or not self._process.is_alive():
            logger.warning("Proposal PDF renderer not running: starting it")
            self.start()
        self._jobs.put(list(order_ids))

    def stop(self, timeout: float = 10.0) -> None:
        if self._process is None:
            return
        self._stop.set()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._process = None
