"""The PEDIDOS search at scale, on PostgreSQL: EXPLAIN ANALYZE of the page's own query.

    .venv/bin/python -m bench.search [--db postgres://…/portal_searchbench] [--orders 1000000]

Seeds the database as bench.load does (once, reused: --orders orders over 20,000 customers,
each with a normalized search text like the mirror's), then prints the plans and timings of
the search the PEDIDOS page runs (proposals.selectors.order_list_for_user, SQL taken from the
ORM) for the measured customer, and the same search over the whole tenant, the case of one
customer holding every order, where only the trigram index can help. Figures go to
bench/README.md.
"""

import argparse
import subprocess
import sys

from bench.load import ROOT, django_env, psql, seed

EXPLAIN_CODE = r"""
import django; django.setup()
from django_scopes import scopes_disabled
from portal.accounts.models import Customer, Tenant
from proposals.models import Order
from proposals.search import search_condition
from proposals.selectors import NEWEST_FIRST, OrderFilters, _filtered
with scopes_disabled():
    tenant = Tenant.objects.get(slug="bench")
    customer = Customer.objects.filter(tenant=tenant).order_by("id").first()
    mine = Order.objects.filter(tenant=tenant, customer=customer)
    page = _filtered(mine, OrderFilters(text={text!r})).order_by(*NEWEST_FIRST)[:26]
    print("### the customer's PEDIDOS search, q={text!r}\n")
    print(page.explain(analyze=True, buffers=True))
    everyone = Order.objects.filter(tenant=tenant).filter(search_condition({text!r}))
    print("\n### the whole tenant (one customer holding every order), q={text!r}\n")
    print(everyone.order_by(*NEWEST_FIRST)[:26].explain(analyze=True, buffers=True))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/portal_searchbench")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--text", default="manutencao preventiva")
    args = parser.parse_args()
    seed(args.db, args.orders)
    psql(args.db, "ANALYZE proposals_order")
    code = EXPLAIN_CODE.format(text=args.text)
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=django_env(args.db), check=True)


if __name__ == "__main__":
    main()
