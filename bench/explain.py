"""EXPLAIN (ANALYZE, BUFFERS) of every query a customer page runs, on a `bench.seed` database.

    .venv/bin/python -m bench.explain [--tenant t001] [--customer 1] [page …]

Runs each page's selectors (the very calls the views make) for the customer with that ERP id,
captures their SQL and prints the plan PostgreSQL executes for each, with its timing and
buffers. Pages: dashboard, list, status, search, detail (the detail on a cold
cache). The figures go to bench/README.md ("Go-live").
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/portal_perf_bench")
    parser.add_argument("--tenant", default="t001")
    parser.add_argument("--customer", type=int, default=1, help="the customer's ERP id")
    parser.add_argument("pages", nargs="*")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DATABASE_URL=options.db_url,
        DJANGO_SETTINGS_MODULE="portal.settings",
        SECRET_KEY="bench-" + "s" * 50,
    )
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scope

    from bench.seed import SEARCH_TERM
    from portal.accounts.models import Customer, Tenant, User
    from proposals import selectors
    from proposals.selectors import OrderFilters

    tenant = Tenant.objects.get(slug=options.tenant)
    with scope(tenant=tenant):
        customer = Customer.objects.get(tenant=tenant, erp_id=options.customer)
        user = User(tenant=tenant, customer=customer, email="explain@bench.test")
        newest = customer.orders.order_by("-number").values_list("number", flat=True).first()

        def page(**filters):
            return lambda: selectors.order_list_for_user(
                tenant=tenant, user=user, filters=OrderFilters(**filters), page_size=25
            )

        def detail():
            cache.clear()
            selectors.order_get_for_user(tenant=tenant, user=user, number=newest)

        pages = {
            "dashboard": lambda: selectors.order_list_latest_for_user(tenant=tenant, user=user),
            "list": page(),
            "status": page(status="PED"),
            "search": page(text=SEARCH_TERM),
            "detail": detail,
        }
        for name in options.pages or pages:
            with CaptureQueriesContext(connection) as captured:
                pages[name]()
            for query in captured.captured_queries:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                print(f"=== {name}: {query['sql'][:160]}…\n{plan}\n")


if __name__ == "__main__":
    main()
