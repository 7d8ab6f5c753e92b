"""The proposal PDF: render time cold and warm (30 and 300 items), and a cached download.

    .venv/bin/python -m bench.pdf [--renders 10] [--downloads 300]

Renders go through proposals.documents.proposal_pdf_render, the function the portal calls, on
unsaved model instances (items and installments handed over as prefetched rows: no database),
in a process started like a web process (portal.wsgi: Django's setup, which imports WeasyPrint
in proposals.apps, then gc.freeze). "Cold" is such a fresh process and its first render; the
import alone is timed in another fresh process. The cached download is the whole request
through the Django test client (middleware, session, selector, proposals.documents, the file
response) against a throwaway SQLite database, with the PDF already in storage. Prints a
Markdown table; figures go to bench/README.md.
"""

import argparse
import datetime
import io
import json
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal

SIZES = (30, 300)
WARM_UP = 5  # renders before timing: Pango's caches fill over the first few
TARGETS = {"warm": {30: 250, 300: 2500}, "download": 10}


def _django():
    """Start like a web process: portal.wsgi (Django's setup, WeasyPrint, gc.freeze)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")
    import portal.wsgi  # noqa: F401


def proposal(items: int):
    """An order with `items` items (every other with INFORMAÇÕES) and 3 installments."""
    from portal.accounts.models import Customer, Tenant
    from proposals.models import Installment, ItemKind, Order, OrderItem

    tenant = Tenant(
        id=1,
        name="Bench Máquinas Ltda",
        slug="bench",
        erp_company_id=900,
        legal_name="Bench Máquinas e Equipamentos Ltda",
        cnpj="12.345.678/0001-95",
        address="Rua das Flores, 100 — Centro — Curitiba/PR — CEP 80010-000",
        phone="(41) 3333-4444",
        email="vendas@bench.localhost",
    )
    customer = Customer(
        id=1,
        tenant=tenant,
        erp_id=5001,
        name="Construtora Horizonte Ltda",
        cpf_cnpj="98.765.432/0001-10",
    )
    order = Order(
        id=1,
        tenant=tenant,
        customer=customer,
        erp_id=1,
        number=7001,
        status="PRO",
        issued_on=datetime.date(2026, 3, 2),
        valid_until=datetime.date(2026, 4, 1),
        salesperson="Mariana Souza",
        payment_method="Boleto bancário",
        payment_terms="30/60/90 dias",
        notes="Frete CIF para a capital.\nInstalação inclusa para os itens de serviço.",
        products_total=Decimal("123456.78"),
        total=Decimal("123456.78"),
        erp_version=3,
    )
    rows = [
        OrderItem(
            id=n,
            order=order,
            erp_id=n,
            sequence=n,
            kind=ItemKind.SERVICE if n % 5 == 0 else ItemKind.PRODUCT,
            code=f"PRD-{n:05d}",
            description=f"Compressor de ar {n} litros com reservatório vertical e motor trifásico",
            unit="UN",
            quantity=Decimal(n),
            unit_price=Decimal("1234.5678"),
            discount=Decimal("10") if n % 4 == 0 else Decimal(0),
            total=Decimal("1234.57") * n,
            notes=f"Entrega em {n} dias úteis. Garantia de 12 meses." if n % 2 else "",
        )
        for n in range(1, items + 1)
    ]
    installments = [
        Installment(
            id=k,
            order=order,
            erp_id=k,
            number=k,
            due_date=datetime.date(2026, 3, 2) + datetime.timedelta(days=30 * k),
            amount=Decimal("41152.26"),
        )
        for k in range(1, 4)
    ]
    order._prefetched_objects_cache = {"items": rows, "installments": installments}
    return order


def cold_child(items: int) -> None:
    """Run in a fresh process: Django's setup (incl. WeasyPrint), then one render."""
    start = time.perf_counter()
    _django()
    ready = time.perf_counter()
    from proposals.documents import proposal_pdf_render

    content = proposal_pdf_render(order=proposal(items))
    done = time.perf_counter()
    assert content.startswith(b"%PDF-")
    print(json.dumps({"setup": ready - start, "render": done - ready}))


def _fresh_process(*args: str) -> str:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def cold(items: int, runs: int) -> dict:
    samples = [
        json.loads(_fresh_process("-m", "bench.pdf", "--cold-child", str(items)))
        for _ in range(runs)
    ]
    return {key: statistics.median(s[key] for s in samples) * 1000 for key in ("setup", "render")}


def import_ms(runs: int) -> float:
    code = "import time; t = time.perf_counter(); import weasyprint; print(time.perf_counter() - t)"
    return statistics.median(float(_fresh_process("-c", code)) for _ in range(runs)) * 1000


def warm(items: int, renders: int) -> tuple[list[float], int]:
    from pypdf import PdfReader

    from proposals.documents import proposal_pdf_render

    order = proposal(items)
    content = proposal_pdf_render(order=order)
    for _ in range(WARM_UP - 1):
        proposal_pdf_render(order=order)
    samples = []
    for _ in range(renders):
        start = time.perf_counter()
        proposal_pdf_render(order=order)
        samples.append((time.perf_counter() - start) * 1000)
    return samples, len(PdfReader(io.BytesIO(content)).pages)


def cached_download(downloads: int) -> list[float]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse
    from django_scopes import scopes_disabled

    from portal.accounts.models import Customer, TenantDomain, User
    from proposals.documents import proposal_pdf_ensure
    from proposals.models import Installment, Order, OrderItem

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    with scopes_disabled():
        template = proposal(30)
        tenant = template.tenant
        tenant.pk = None
        tenant.save()
        TenantDomain.objects.create(hostname="bench.localhost", tenant=tenant, is_primary=True)
        customer = Customer.objects.create(
            tenant=tenant, erp_id=5001, name="Construtora Horizonte Ltda"
        )
        user = User.objects.create(
            tenant=tenant, customer=customer, email="compras@bench.localhost"
        )
        order = Order.objects.create(
            **{
                f.attname: getattr(template, f.attname)
                for f in Order._meta.concrete_fields
                if f.attname not in ("id", "tenant_id", "customer_id")
            },
            tenant=tenant,
            customer=customer,
        )
        for item in template._prefetched_objects_cache["items"]:
            item.pk, item.order, item.tenant = None, order, tenant
        OrderItem.objects.bulk_create(template._prefetched_objects_cache["items"])
        for installment in template._prefetched_objects_cache["installments"]:
            installment.pk, installment.order, installment.tenant = None, order, tenant
        Installment.objects.bulk_create(template._prefetched_objects_cache["installments"])
        proposal_pdf_ensure(
            order=Order.objects.select_related("tenant", "customer").get(pk=order.pk)
        )

    client = Client(HTTP_HOST="bench.localhost")
    client.force_login(user, backend="portal.accounts.backends.TenantEmailBackend")
    url = reverse("proposal_pdf", args=[order.number])

    def download() -> bytes:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return b"".join(response.streaming_content)

    assert download().startswith(b"%PDF-")
    for _ in range(20):
        download()
    samples = []
    for _ in range(downloads):
        start = time.perf_counter()
        download()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=10)
    parser.add_argument("--downloads", type=int, default=300)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--cold-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_child:
        cold_child(args.cold_child)
        return

    colds = {items: cold(items, args.cold_runs) for items in SIZES}
    weasyprint_import = import_ms(args.cold_runs)
    _django()
    warms = {items: warm(items, args.renders) for items in SIZES}
    downloads = cached_download(args.downloads)

    def cell(samples):
        return f"{statistics.median(samples):,.0f} (min {min(samples):,.0f})"

    print(
        f"Proposal PDF: median of {args.renders} warm renders (after {WARM_UP}), "
        f"{args.cold_runs} fresh processes, {args.downloads} downloads"
    )
    print("| measure | 30 items | 300 items | target |")
    print("|---|---:|---:|---:|")
    print(f"| pages | {warms[30][1]} | {warms[300][1]} | |")
    print(
        f"| cold: fresh process, Django setup incl. WeasyPrint import, ms | "
        f"{colds[30]['setup']:,.0f} | {colds[300]['setup']:,.0f} | |"
    )
    print(
        f"| cold: first render in that process, ms | "
        f"{colds[30]['render']:,.0f} | {colds[300]['render']:,.0f} | |"
    )
    print(f"| `import weasyprint` alone, ms | {weasyprint_import:,.0f} | | |")
    print(
        f"| warm render, ms | {cell(warms[30][0])} | {cell(warms[300][0])} | "
        f"≤ {TARGETS['warm'][30]} / ≤ {TARGETS['warm'][300]:,} |"
    )
    p95 = statistics.quantiles(downloads, n=20)[-1]
    print(
        f"| cached download (test client, whole request), ms | "
        f"{statistics.median(downloads):.2f} (p95 {p95:.2f}) | | ≤ {TARGETS['download']} |"
    )


if __name__ == "__main__":
    main()
