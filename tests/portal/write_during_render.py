"""Run by tests/portal/test_store_once.py in a process of its own, on a SQLite file configured as
in production (WAL, IMMEDIATE transactions, busy timeout): a customer's first download renders a
300-item proposal while another connection writes. Prints what the write waited, as JSON.

    DATABASE_URL=sqlite:////tmp/x.sqlite3 python -m tests.portal.write_during_render
"""

import json
import os
import threading
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections, transaction  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

from portal.accounts.models import Customer  # noqa: E402
from proposals import documents  # noqa: E402
from tests.factories import (  # noqa: E402
    CustomerFactory,
    InstallmentFactory,
    OrderFactory,
    OrderItemFactory,
)

ITEMS = 300


def main() -> dict:
    call_command("migrate", verbosity=0)
    with scopes_disabled():
        customer = CustomerFactory()
        order = OrderFactory(customer=customer)
        OrderItemFactory.create_batch(ITEMS, order=order, notes="Entrega programada.")
        InstallmentFactory.create_batch(3, order=order)

    rendering, rendered = threading.Event(), threading.Event()
    render = documents.proposal_pdf_render

    def render_and_tell(**kwargs):
        rendering.set()
        try:
            return render(**kwargs)
        finally:
            rendered.set()

    documents.proposal_pdf_render = render_and_tell
    timings = {}

    def first_download():
        started = time.perf_counter()
        try:
            documents.proposal_pdf_ensure(order=order)
        finally:
            timings["render_ms"] = round((time.perf_counter() - started) * 1000)
            connections.close_all()

    downloader = threading.Thread(target=first_download)
    downloader.start()
    assert rendering.wait(30), "the render never started"
    # Another request meanwhile: the ERP's customer data changes (any write will do).
    started = time.perf_counter()
    with scopes_disabled(), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(name="Cliente renomeado")
    timings["write_ms"] = round((time.perf_counter() - started) * 1000)
    timings["written_while_rendering"] = not rendered.is_set()
    downloader.join(60)
    with scopes_disabled():
        timings["documents"] = order.proposal_documents.count()
    return timings


if __name__ == "__main__":
    print(json.dumps(main()))
