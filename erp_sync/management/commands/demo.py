import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_scopes import scopes_disabled
from PIL import Image, ImageDraw, ImageFont

from contracts import pki
from erp_sync.demo_data import ensure_digital_signers
from erp_sync.mirror import erp_sync_tenant
from portal.accounts.models import Customer, Tenant, TenantDomain, User
from portal.accounts.services import user_create

TENANTS = [
    {
        "slug": "alfa",
        "name": "Alfa Máquinas e Ferramentas Ltda",
        "display_name": "Alfa Máquinas",
        "erp_company_id": 1,
        "legal_name": "Alfa Máquinas e Ferramentas Ltda",
        "cnpj": "12.345.678/0001-95",
        "address": "Av. das Indústrias, 1500 — Distrito Industrial, Curitiba/PR, 81000-000",
        "phone": "(41) 3333-4444",
        "email": "vendas@alfamaquinas.com.br",
        "notification_email": "portal@alfamaquinas.com.br",
        "primary_color": "#1f4e79",
        "domains": ["localhost", "alfa.localhost"],
    },
    {
        "slug": "beta",
        "name": "Beta Sistemas e Serviços S.A.",
        "display_name": "Beta Sistemas",
        "erp_company_id": 2,
        "legal_name": "Beta Sistemas e Serviços S.A.",
        "cnpj": "20.481.632/0001-21",
        "address": "Rua XV de Novembro, 200 — Centro, Florianópolis/SC, 88010-000",
        "phone": "(48) 3222-1100",
        "email": "atendimento@betasistemas.com.br",
        "notification_email": "portal@betasistemas.com.br",
        "primary_color": "#2e7d32",
        "domains": ["beta.localhost"],
    },
]
SUPPORT = ("suporte@portal.localhost", "suporte-demo-2026")
# The designated signers of Alfa's demo contract signed in the portal (order 7017).
DIGITAL_SIGNERS = [
    ("compras@horizonte.com.br", "PARTE"),
    ("diretoria@horizonte.com.br", "PARTE"),
    ("juridico@horizonte.com.br", "TESTEMUNHA"),
]
# (tenant slug, customer index in the demo ERP, e-mail, password, who)
CUSTOMER_LOGINS = [
    ("alfa", 0, "compras@horizonte.com.br", "demo-alfa-2026", "Metalúrgica Horizonte"),
    ("alfa", 0, "diretoria@horizonte.com.br", "diretoria-alfa-2026", "Metalúrgica Horizonte"),
    ("alfa", 0, "juridico@horizonte.com.br", "juridico-alfa-2026", "Metalúrgica Horizonte"),
    ("alfa", 1, "ana.oliveira@grupoexemplo.com.br", "ana-na-alfa-2026", "Construtora Pedra Azul"),
    ("beta", 0, "ti@litoralsul.com.br", "demo-beta-2026", "Distribuidora Litoral Sul"),
    ("beta", 1, "ana.oliveira@grupoexemplo.com.br", "ana-na-beta-2026", "Clínica Bem Viver"),
]


def _font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (bin/system-deps installs it for the PDFs): Pillow's default font has no
    accented letters, and the demo's names have them ("Alfa Máquinas")."""
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def _demo_logo(tenant: Tenant) -> bytes:
    """A made-up logo (the company's initial on its colour, then its name) for the header and
    the PDFs."""
    image = Image.new("RGB", (360, 96), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 92, 92), radius=18, fill=tenant.primary_color)
    draw.text((48, 48), tenant.display_name[0], font=_font(60), fill="white", anchor="mm")
    size = 34
    while size > 16 and draw.textlength(tenant.display_name, font=_font(size)) > 244:
        size -= 2  # the whole name fits beside the initial
    draw.text((108, 48), tenant.display_name, font=_font(size), fill="#1d2430", anchor="lm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


class Command(BaseCommand):
    help = "The demo: ERP schema and data, two companies, logins, mirror. Idempotent."

    def handle(self, *args, **options):
        with scopes_disabled():
            call_command("erp_schema", "create", verbosity=0)
            tenants = {spec["slug"]: self._tenant(spec) for spec in TENANTS}
            call_command("erp_demo", "seed", stdout=self.stdout)
            signable = ensure_digital_signers(
                empresa_id=tenants["alfa"].erp_company_id, signers=DIGITAL_SIGNERS
            )
            for tenant in tenants.values():
                erp_sync_tenant(tenant=tenant)
                if pki.sealing_certificate_active(tenant=tenant) is None:
                    call_command("tenants", "certificate", tenant.slug, "--demo", verbosity=0)
            logins = self._logins(tenants)
        self._print(logins)
        if signable is not None:
            self._print_signing(signable)

    def _tenant(self, spec: dict) -> Tenant:
        spec = dict(spec)
        domains = spec.pop("domains")
        tenant, _ = Tenant.objects.update_or_create(slug=spec.pop("slug"), defaults=spec)
        if not tenant.logo:
            tenant.logo.save(f"{tenant.slug}.png", ContentFile(_demo_logo(tenant)))
        for position, hostname in enumerate(domains):
            TenantDomain.objects.update_or_create(
                hostname=hostname, defaults={"tenant": tenant, "is_primary": position == 0}
            )
        return tenant

    def _login(self, *, tenant, customer, email, password, **extra) -> None:
        user = User.objects.filter(tenant=tenant, email=email).first()
        if user is None:
            user_create(tenant=tenant, customer=customer, email=email, password=password, **extra)
        else:
            user.set_password(password)
            user.is_active = True
            user.save()

    def _logins(self, tenants: dict) -> list[tuple[str, str, str, str]]:
        port = settings.PUBLIC_PORT or "8000"
        url = {
            "alfa": f"http://localhost:{port}/",
            "beta": f"http://beta.localhost:{port}/",
            "support": f"http://{settings.SUPPORT_HOST}:{port}/admin/",
        }
        rows = []
        email, password = SUPPORT
        if not User.objects.filter(tenant=None, email=email).exists():
            User.objects.create_superuser(email, password, name="Suporte do portal")
        rows.append((url["support"], email, password, "suporte (todas as empresas)"))
        for slug, tenant in tenants.items():
            staff_email = f"equipe@{slug}.localhost"
            self._login(
                tenant=tenant,
                customer=None,
                email=staff_email,
                password=f"equipe-{slug}-2026",
                is_staff=True,
                name=f"Equipe {tenant.display_name}",
            )
            rows.append(
                (url[slug] + "admin/", staff_email, f"equipe-{slug}-2026", f"equipe da {slug}")
            )
        for slug, index, email, password, who in CUSTOMER_LOGINS:
            tenant = tenants[slug]
            customer = Customer.objects.filter(tenant=tenant).order_by("erp_id")[index]
            self._login(tenant=tenant, customer=customer, email=email, password=password)
            rows.append((url[slug], email, password, who))
        return rows

    def _print(self, rows) -> None:
        self.stdout.write("\nPortal do Cliente — demo ready\n")
        width = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            self.stdout.write(
                f"  {row[0]:<{width[0]}}  {row[1]:<{width[1]}}  {row[2]:<{width[2]}}  {row[3]}"
            )
        self.stdout.write(
            "\nThe ERP follower mirrors changes: try "
            "`.venv/bin/python manage.py erp_demo edit 7029`.\n"
        )

    def _print_signing(self, number: int) -> None:
        backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
        where = {
            "console": "printed in this terminal (the console e-mail backend)",
            "filebased": f"written as files under {getattr(settings, 'EMAIL_FILE_PATH', '')}",
            "locmem": "kept in memory (tests)",
        }.get(backend, f"sent through {settings.EMAIL_BACKEND}")
        tsa = settings.TSA_URL or "none: seals carry no timestamp (make run starts one)"
        self.stdout.write(
            f"\nDigital signature: order {number} (Alfa) is signed in the portal by "
            + ", ".join(f"{email} ({role})" for email, role in DIGITAL_SIGNERS)
            + f".\nTheir 6-digit codes are e-mails {where}.\n"
            f"Seals: the DEMO certificates of `tenants certificate --demo`; time-stamp "
            f"authority: {tsa}.\nCheck a sealed contract at http://localhost:"
            f"{settings.PUBLIC_PORT or '8000'}/verificar/.\n"
        )
