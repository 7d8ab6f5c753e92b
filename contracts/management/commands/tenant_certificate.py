import getpass
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from contracts.pki import CertificateRefused, sealing_certificate_demo, sealing_certificate_install
from portal.accounts.models import Tenant


class Command(BaseCommand):
    help = (
        "The tenant's sealing certificate for digital signatures (also `tenants certificate`): "
        "SLUG --demo (one from the demo CA, made once) | SLUG --pkcs12 FILE [--password P]"
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--demo", action="store_true")
        source.add_argument("--pkcs12", metavar="FILE")
        parser.add_argument(
            "--password",
            help="the PKCS#12's password (default: $PKCS12_PASSWORD, else asked for)",
        )

    def handle(self, *args, slug, demo, pkcs12, password=None, **options):
        with scopes_disabled():
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                raise CommandError(f"Unknown tenant {slug!r} (see `tenants list`).")
            try:
                record = (
                    sealing_certificate_demo(tenant=tenant)
                    if demo
                    else sealing_certificate_install(
                        tenant=tenant,
                        pkcs12_data=self._read(pkcs12),
                        password=self._password(password),
                    )
                )
            except CertificateRefused as refused:
                raise CommandError(refused.message) from refused
        kind = " (DEMO: no legal value)" if record.is_demo else ""
        self.stdout.write(
            f"Sealing certificate of {slug}{kind}: {record.subject}, issued by {record.issuer}, "
            f"valid until {record.not_after:%Y-%m-%d}, SHA-256 {record.fingerprint_sha256}."
        )

    def _read(self, path: str) -> bytes:
        try:
            return Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error

    def _password(self, password: str | None) -> str:
        if password is None:
            password = os.environ.get("PKCS12_PASSWORD")
        if password is None:
            password = getpass.getpass("PKCS#12 password: ")
        return password
