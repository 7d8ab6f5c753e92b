"""Template engines compared on the PEDIDOS page: 25 orders, the same markup, in-process.

    .venv/bin/python -m bench.templates [--renders 500]

Jinja2 renders templates/proposals/order_list.html (the page customers get); Django templates
render a copy with the same markup kept under bench/templates/bench/ (never served). No
database: the orders, tenant and user are unsaved model instances, as a view would hand them over.
"""

import argparse
import datetime
import os
import statistics
import time
from decimal import Decimal
from pathlib import Path

import django
from django import template

# Test settings: plain static storage, so no collectstatic manifest is needed to render.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")
django.setup()

from django.contrib.messages.storage.cookie import CookieStorage  # noqa: E402
from django.template import engines  # noqa: E402
from django.template.backends.django import DjangoTemplates  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.urls import resolve, reverse  # noqa: E402
from django.utils import translation  # noqa: E402

from portal import formats  # noqa: E402
from portal.accounts.models import Customer, Tenant, User  # noqa: E402
from proposals.forms import OrderFilterForm  # noqa: E402
from proposals.models import Order, OrderStatus  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
ORDERS = 25

# The pt-BR filters, as a Django template library ({% load portal_br %}) for the copy.
register = template.Library()
for name in ("brl", "number_br", "quantity_br", "date_br", "datetime_br"):
    register.filter(name, getattr(formats, name))


def django_engine() -> DjangoTemplates:
    return DjangoTemplates(
        {
            "NAME": "bench-django",
            "DIRS": [BENCH_DIR / "templates"],
            "APP_DIRS": False,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ],
                "libraries": {"portal_br": "bench.templates"},
            },
        }
    )


def page_request():
    tenant = Tenant(
        id=1,
        name="Alfa Máquinas Ltda",
        slug="alfa",
        erp_company_id=1,
        legal_name="Alfa Máquinas e Equipamentos Ltda",
        cnpj="12.345.678/0001-95",
        phone="(41) 3333-4444",
        email="contato@alfa.com.br",
        primary_color="#1f4e79",
    )
    customer = Customer(id=1, tenant=tenant, erp_id=5001, name="Cliente Alfa Um Ltda")
    user = User(id=1, tenant=tenant, customer=customer, email="compras@cliente.com.br")
    url = reverse("order_list")
    request = RequestFactory().get(url, {"status": "PRO"}, HTTP_HOST="alfa.localhost")
    request.tenant = tenant
    request.user = user
    request.resolver_match = resolve(url)
    request.csp_nonce = "bench-nonce"
    request.LANGUAGE_CODE = "pt-br"
    request._messages = CookieStorage(request)
    return request, customer


def page_context(request, customer) -> dict:
    issued = datetime.date(2026, 3, 9)
    statuses = list(OrderStatus)
    orders = [
        Order(
            tenant=request.tenant,
            customer=customer,
            erp_id=90000 + n,
            number=70000 - n,
            status=statuses[n % len(statuses)],
            issued_on=issued - datetime.timedelta(days=n),
            valid_until=issued + datetime.timedelta(days=15 - n) if n % 3 else None,
            total=Decimal("1234.56") * (n + 1),
            erp_version=1,
        )
        for n in range(ORDERS)
    ]
    return {
        "form": OrderFilterForm(request.GET),
        "orders": orders,
        "filtered": True,
        "next_query": f"status=PRO&apos={orders[-1].number}",
        "previous_query": f"status=PRO&antes={orders[0].number}",
    }


def timed(render, renders: int) -> list[float]:
    for _ in range(20):
        render()
    samples = []
    for _ in range(renders):
        start = time.perf_counter()
        render()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=500)
    args = parser.parse_args()

    translation.activate("pt-br")
    request, customer = page_request()
    context = page_context(request, customer)
    jinja = engines["jinja2"].get_template("proposals/order_list.html")
    dtl = django_engine().get_template("bench/order_list.html")
    renderers = {
        "Jinja2": lambda: jinja.render(context, request),
        "Django templates": lambda: dtl.render(context, request),
    }
    for name, render in renderers.items():
        html = render()
        assert all(str(order.number) in html for order in context["orders"]), name
        assert "R$\u00a01.234,56" in html and "VISUALIZAR" in html, name

    results = {name: timed(render, args.renders) for name, render in renderers.items()}
    jinja_mean = statistics.mean(results["Jinja2"])
    print(f"PEDIDOS page, {ORDERS} orders, {args.renders} renders each (after 20 warm-up)")
    print(f"{'engine':<18} {'mean ms':>8} {'median ms':>10} {'p95 ms':>8} {'vs Jinja2':>10}")
    for name, samples in results.items():
        mean = statistics.mean(samples)
        p95 = statistics.quantiles(samples, n=20)[-1]
        print(
            f"{name:<18} {mean:>8.3f} {statistics.median(samples):>10.3f} {p95:>8.3f}"
            f" {mean / jinja_mean:>9.2f}x"
        )


if __name__ == "__main__":
    main()
