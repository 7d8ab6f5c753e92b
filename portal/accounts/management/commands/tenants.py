from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_scopes import scopes_disabled

from portal.accounts.models import Tenant, TenantDomain


class Command(BaseCommand):
    help = (
        "Support: tenants add SLUG --name NAME --erp-company ID --domain HOST [--cnpj CNPJ] | "
        "domain-add SLUG HOST | domain-remove SLUG HOST | list | "
        "certificate SLUG --demo | --pkcs12 FILE [--password P]"
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add")
        add.add_argument("slug")
        add.add_argument("--name", required=True)
        add.add_argument("--erp-company", type=int, required=True, dest="erp_company")
        add.add_argument("--domain", required=True)
        add.add_argument("--cnpj", default="", help="the company's CNPJ (check digits validated)")
        for name in ("domain-add", "domain-remove"):
            action = actions.add_parser(name)
            action.add_argument("slug")
            action.add_argument("host")
        actions.add_parser("list")
        certificate = actions.add_parser(
            "certificate",
            help="the tenant's sealing certificate (digital signatures): a PKCS#12, or --demo "
            "for one from the demo CA (made once)",
        )
        certificate.add_argument("slug")
        source = certificate.add_mutually_exclusive_group(required=True)
        source.add_argument("--demo", action="store_true")
        source.add_argument("--pkcs12", metavar="FILE")
        certificate.add_argument(
            "--password",
            help="the PKCS#12's password (default: $PKCS12_PASSWORD, else asked for)",
        )

    def handle(self, *args, action, **options):
        with scopes_disabled(), transaction.atomic():
            getattr(self, action.replace("-", "_"))(**options)

    def _tenant(self, slug: str) -> Tenant:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"Unknown tenant {slug!r} (see `tenants list`).")
        return tenant

    def _check_host_free(self, host: str) -> str:
        host = host.strip().lower()
        owner = TenantDomain.objects.filter(hostname=host).select_related("tenant").first()
        if owner is not None:
            raise CommandError(f"Host {host!r} already serves tenant {owner.tenant.slug!r}.")
        return host

    def add(self, *, slug, name, erp_company, domain, cnpj, **options):
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"Tenant {slug!r} already exists.")
        if Tenant.objects.filter(erp_company_id=erp_company).exists():
            raise CommandError(f"ERP company {erp_company} already belongs to another tenant.")
        host = self._check_host_free(domain)
        tenant = Tenant(slug=slug, name=name, erp_company_id=erp_company, cnpj=cnpj.strip())
        try:
            tenant.full_clean()
        except ValidationError as error:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            raise CommandError(f"Tenant {slug!r} not created: {problems}") from None
        tenant.save()
        TenantDomain.objects.create(hostname=host, tenant=tenant, is_primary=True)
        self.stdout.write(f"Tenant {slug} created (ERP company {erp_company}) at {host}.")

    def domain_add(self, *, slug, host, **options):
        tenant = self._tenant(slug)
        host = self._check_host_free(host)
        primary = not tenant.domains.filter(is_primary=True).exists()
        TenantDomain.objects.create(hostname=host, tenant=tenant, is_primary=primary)
        self.stdout.write(f"{host} now serves {slug}{' (primary)' if primary else ''}.")

    def domain_remove(self, *, slug, host, **options):
        tenant = self._tenant(slug)
        domain = tenant.domains.filter(hostname=host.strip().lower()).first()
        if domain is None:
            raise CommandError(f"{host!r} is not a domain of tenant {slug!r}.")
        domain.delete()
        if domain.is_primary:
            successor = tenant.domains.order_by("hostname").first()
            if successor is not None:
                successor.is_primary = True
                successor.save()
        self.stdout.write(f"{host} removed from {slug}.")

    def list(self, **options):
        for tenant in Tenant.objects.prefetch_related("domains").order_by("slug"):
            hosts = ", ".join(
                f"{d.hostname}{'*' if d.is_primary else ''}" for d in tenant.domains.all()
            )
            state = "" if tenant.is_active else " (inactive)"
            self.stdout.write(
                f"{tenant.slug}\tERP {tenant.erp_company_id}\t{tenant.name}{state}\t{hosts}"
            )

    def certificate(self, *, slug, demo, pkcs12, password=None, **options):
        """The sealing certificate belongs to the digital signature: contracts' own command
        (`tenant_certificate`) installs it, so this app imports nothing of contracts."""
        self._tenant(slug)
        arguments = [slug, "--demo"] if demo else [slug, "--pkcs12", pkcs12]
        if password is not None:
            arguments += ["--password", password]
        call_command("tenant_certificate", *arguments, stdout=self.stdout, stderr=self.stderr)
