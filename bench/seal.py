"""The seal of a digitally signed contract: time to seal a 5-page contract with an RFC 3161
timestamp, and to verify it.

    .venv/bin/python -m bench.seal [--runs 10]

Runs in a process started like a web process (portal.wsgi), against a throwaway SQLite
database and a temporary media folder, with the demo certificate and the demo TSA listening on
127.0.0.1 (a real HTTP exchange per seal). Each run seals a different order whose 5-page
contract PDF is already rendered and whose three signers have signed:

- "seal": contracts.seal.contract_seal, end to end (evidence page, merge, PAdES signature with
  timestamp and validation data, storage, ERP rows, evidence event);
- "pyHanko signature": the signing step alone (contracts.seal._seal_bytes), inside the above;
- "verify": contracts.verification.verify_pdf, what /verificar/ runs on an upload.

Prints a Markdown table; figures go to bench/README.md.
"""

import argparse
import os
import statistics
import tempfile
import time

CLAUSES = 36  # 5 A4 pages of contract under the letterhead


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    import portal.wsgi  # noqa: F401

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-seal-")
    settings.STORAGES["default"]["OPTIONS"]["location"] = settings.MEDIA_ROOT
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    from django.core.management import call_command

    call_command("erp_schema", "create", verbosity=0)


def _signed_orders(runs: int):
    """`runs` orders of one tenant, each with a rendered 5-page DIGITAL contract and three live
    signatures (as the signing steps leave them)."""
    import datetime

    from django.utils import timezone

    from contracts.evidence import evidence_append, signature_trail_for
    from contracts.models import (
        Contract,
        ContractSigner,
        DigitalSignature,
        EventKind,
        SignatureMode,
    )
    from contracts.pki import sealing_certificate_demo
    from contracts.services import contract_pdf_ensure, contract_source_key
    from portal.accounts.models import Customer, Tenant, TenantDomain
    from proposals.models import Order

    tenant = Tenant.objects.create(
        name="Bench Máquinas Ltda",
        slug="bench",
        erp_company_id=900,
        legal_name="Bench Máquinas e Equipamentos Ltda",
        cnpj="12.345.678/0001-95",
        address="Rua das Flores, 100 — Centro — Curitiba/PR",
    )
    TenantDomain.objects.create(hostname="bench.localhost", tenant=tenant, is_primary=True)
    sealing_certificate_demo(tenant=tenant)
    customer = Customer.objects.create(tenant=tenant, erp_id=1, name="Construtora Horizonte")
    body = "<h1>Contrato de prestação de serviços</h1>" + "".join(
        f"<h2>Cláusula {n}ª</h2><p>{'O contratado presta os serviços descritos. ' * 12}</p>"
        for n in range(1, CLAUSES + 1)
    )
    signers = [
        ("parte1@bench.localhost", "PARTE"),
        ("parte2@bench.localhost", "PARTE"),
        ("testemunha@bench.localhost", "TESTEMUNHA"),
    ]
    trails, pages = [], 0
    for n in range(runs):
        order = Order.objects.create(
            tenant=tenant,
            customer=customer,
            erp_id=10_000 + n,
            number=7000 + n,
            status="PRO",
            issued_on=timezone.localdate(),
            erp_version=1,
        )
        contract = Contract.objects.create(
            tenant=tenant,
            order=order,
            erp_id=20_000 + n,
            title="Contrato de prestação de serviços",
            content_html=body,
            signature_mode=SignatureMode.DIGITAL,
        )
        contract.order = order
        document = contract_pdf_ensure(contract=contract)
        if not pages:
            from pypdf import PdfReader

            with document.file.open("rb") as stream:
                pages = len(PdfReader(stream).pages)
        trail = signature_trail_for(contract=contract)
        for position, (email, role) in enumerate(signers):
            ContractSigner.objects.create(tenant=tenant, contract=contract, email=email, role=role)
            for kind in (EventKind.PASSWORD_CHECKED, EventKind.CODE_SENT, EventKind.CODE_ACCEPTED):
                evidence_append(trail=trail, kind=kind, email=email, role=role)
            DigitalSignature.objects.create(
                tenant=tenant,
                trail=trail,
                email=email,
                role=role,
                full_name=f"Signatário {position + 1} da Silva",
                cpf="52998224725",
                signed_at=timezone.now() - datetime.timedelta(minutes=3 - position),
                ip_address="203.0.113.7",
                user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile Safari/537.36",
                contract_sha256=document.sha256,
                contract_source=contract_source_key(contract),
                order_version=1,
            )
            evidence_append(trail=trail, kind=EventKind.SIGNED, email=email, role=role)
        trails.append(trail.pk)
    return tenant, trails, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    _setup()

    from django.conf import settings
    from django_scopes import scopes_disabled

    from contracts import seal as sealing
    from contracts.models import SealedContract
    from contracts.tsa import DemoTimestampServer
    from contracts.verification import verify_pdf

    server = DemoTimestampServer()
    server.start_in_thread()
    settings.TSA_URL = server.url
    with scopes_disabled():
        tenant, trails, pages = _signed_orders(args.runs + 1)

        signing_ms = []
        original = sealing._seal_bytes

        def timed(*a, **kw):
            start = time.perf_counter()
            result = original(*a, **kw)
            signing_ms.append((time.perf_counter() - start) * 1000)
            return result

        sealing._seal_bytes = timed
        sealing.contract_seal(trail_id=trails[0])  # warm-up: first TSA round trip, caches
        signing_ms.clear()
        seal_ms, contents = [], []
        for trail_id in trails[1:]:
            start = time.perf_counter()
            seal = sealing.contract_seal(trail_id=trail_id)
            seal_ms.append((time.perf_counter() - start) * 1000)
            assert seal is not None and seal.timestamped_at is not None
            with seal.file.open("rb") as stream:
                contents.append(stream.read())
        verify_ms = []
        for content in contents:
            start = time.perf_counter()
            result = verify_pdf(tenant=tenant, content=content)
            verify_ms.append((time.perf_counter() - start) * 1000)
            assert result.ok and result.timestamp_trusted, result.verdict
        sizes = [s.size for s in SealedContract.objects.all()]
    server.shutdown()

    def cell(samples):
        return f"{statistics.median(samples):,.0f} | {min(samples):,.0f} | {max(samples):,.0f}"

    print(
        f"Seal of a {pages}-page contract + evidence page, {args.runs} runs after 1 warm-up, "
        f"sealed file {statistics.median(sizes) / 1024:,.0f} KB, TSA answered {server.answered}"
    )
    print("| step | median ms | min ms | max ms |")
    print("|---|---:|---:|---:|")
    print(f"| seal, end to end (with timestamp) | {cell(seal_ms)} |")
    print(f"| of which the pyHanko signature + TSA round trip | {cell(signing_ms)} |")
    print(f"| verify (what /verificar/ runs on an upload) | {cell(verify_ms)} |")


if __name__ == "__main__":
    main()
