"""The tenant's sealing certificate: `manage.py tenants certificate`, kept encrypted, its expiry
visible to support and staff in admin."""

import datetime
from io import StringIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from contracts import pki
from contracts.models import SealingCertificate
from contracts.seal import sealing_signer
from tests.conftest import HOST_A, host_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def demo_pkcs12(password: bytes, *, days: int = 365) -> bytes:
    authority = pki.demo_authority()
    key, certificate = authority.issue(common_name="Selo Alfa", organization="Alfa Ltda")
    if days < 0:
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(certificate.subject)
            .issuer_name(certificate.issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=400))
            .not_valid_after(now + datetime.timedelta(days=days))
            .sign(authority.key, hashes.SHA256())
        )
    return pkcs12.serialize_key_and_certificates(
        b"selo",
        key,
        certificate,
        [authority.certificate],
        serialization.BestAvailableEncryption(password),
    )


def test_demo_certificate_from_a_demo_ca_made_once(tenant_a, tenant_b):
    with scopes_disabled():
        out = run("tenants", "certificate", "alfa", "--demo")
        assert "Sealing certificate of alfa (DEMO: no legal value)" in out
        run("tenants", "certificate", "beta", "--demo")
        alfa = SealingCertificate.objects.get(tenant=tenant_a)
        beta = SealingCertificate.objects.get(tenant=tenant_b)
        assert alfa.is_demo and alfa.is_active
        assert alfa.issuer == beta.issuer == "AC de demonstração do Portal do Cliente"
        assert alfa.fingerprint_sha256 != beta.fingerprint_sha256


def test_pkcs12_is_installed_encrypted_and_replaces_the_previous_one(tenant_a, tmp_path):
    with scopes_disabled():
        password = "s3nha do PKCS#12"
        data = demo_pkcs12(password.encode())
        path = tmp_path / "selo.p12"
        path.write_bytes(data)
        run("tenants", "certificate", "alfa", "--demo")
        out = run("tenants", "certificate", "alfa", "--pkcs12", str(path), "--password", password)
        assert "Selo Alfa (Alfa Ltda)" in out
        active = SealingCertificate.objects.get(tenant=tenant_a, is_active=True)
        assert SealingCertificate.objects.filter(tenant=tenant_a).count() == 2  # the old one stays
        assert password not in active.password_encrypted
        with active.pkcs12.open("rb") as stream:
            stored = stream.read()
        assert stored != data and data not in stored
        signer = sealing_signer(active)
        assert pki.fingerprint(signer.signing_cert) == active.fingerprint_sha256


def test_a_changed_secret_key_cannot_open_it_but_a_fallback_can(tenant_a, settings):
    with scopes_disabled():
        record = pki.sealing_certificate_demo(tenant=tenant_a)
        old = settings.SECRET_KEY
        settings.SECRET_KEY = "another-secret-key-" + "y" * 40
        with pytest.raises(pki.CertificateRefused):
            sealing_signer(record)
        settings.SECRET_KEY_FALLBACKS = [old]
        assert sealing_signer(record) is not None


@pytest.mark.parametrize(
    ("password", "days", "message"),
    [
        ("errada", 365, "a senha está errada"),
        ("certa", -1, "O certificado venceu"),
    ],
)
def test_refused_pkcs12(tenant_a, tmp_path, password, days, message):
    with scopes_disabled():
        path = tmp_path / "selo.p12"
        path.write_bytes(demo_pkcs12(b"certa", days=days))
        with pytest.raises(CommandError, match=message):
            run("tenants", "certificate", "alfa", "--pkcs12", str(path), "--password", password)
        assert not SealingCertificate.objects.exists()


def test_support_installs_a_certificate_in_admin_and_staff_see_its_expiry(tenant_a):
    with scopes_disabled():
        support = UserFactory(
            customer=None,
            tenant=None,
            is_staff=True,
            is_superuser=True,
            email="suporte@portal.test",
        )
        client = host_client(settings.SUPPORT_HOST, support)
        data = demo_pkcs12(b"segredo")
        response = client.post(
            reverse("admin:contracts_sealingcertificate_add"),
            {
                "tenant": tenant_a.pk,
                "arquivo": SimpleUploadedFile("selo.p12", data),
                "senha": "segredo",
            },
        )
        assert response.status_code == 302, response.content.decode()[-3000:]
        record = SealingCertificate.objects.get(tenant=tenant_a)
        listing = client.get(
            reverse("admin:contracts_sealingcertificate_changelist")
        ).content.decode()
        assert timezone.localtime(record.not_after).strftime("%d/%m/%Y") in listing
        assert "Selo Alfa" in listing

        staff = UserFactory(customer=None, tenant=tenant_a, is_staff=True, email="equipe@alfa.test")
        staff_client = host_client(HOST_A, staff)
        staff_listing = staff_client.get(
            reverse("admin:contracts_sealingcertificate_changelist")
        ).content.decode()
        assert "Dias até vencer" in staff_listing
        assert timezone.localtime(record.not_after).strftime("%d/%m/%Y") in staff_listing
        assert (
            staff_client.get(reverse("admin:contracts_sealingcertificate_add")).status_code == 403
        )


def test_a_wrong_password_in_admin_is_a_clear_message(tenant_a):
    with scopes_disabled():
        support = UserFactory(
            customer=None,
            tenant=None,
            is_staff=True,
            is_superuser=True,
            email="suporte@portal.test",
        )
        client = host_client(settings.SUPPORT_HOST, support)
        response = client.post(
            reverse("admin:contracts_sealingcertificate_add"),
            {
                "tenant": tenant_a.pk,
                "arquivo": SimpleUploadedFile("selo.p12", demo_pkcs12(b"a")),
                "senha": "b",
            },
        )
        assert response.status_code == 200
        assert "a senha está errada" in response.content.decode()
        assert not SealingCertificate.objects.exists()
