"""The tenants' sealing certificates, and the demo's own certificate authority and TSA keys.

A tenant seals with a PKCS#12 (`manage.py tenants certificate SLUG --pkcs12 FILE`, or `--demo`
for one issued by the demo CA). The PKCS#12 is kept in storage and its password in the
database, both encrypted with a key derived from SECRET_KEY (SECRET_KEY_FALLBACKS still
decrypt after a rotation): a copy of the database or of the bucket alone seals nothing.

The demo CA is made once and kept in storage (its key encrypted the same way). It issues the
demo tenants' certificates and the demo TSA's, all marked as a demonstration, with no legal
value. Its certificates point to a CRL at an `.invalid` host: the seal embeds a CRL that the
demo CA signs on the spot, so a validator has what it needs without fetching anything.
"""

import base64
import datetime
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from contracts.models import SealingCertificate
from portal.accounts.models import Tenant

DEMO_CA_KEY = "pki/demo-ca/key.enc"
DEMO_CA_CERT = "pki/demo-ca/cert.pem"
DEMO_TSA_KEY = "pki/demo-tsa/key.enc"
DEMO_TSA_CERT = "pki/demo-tsa/cert.pem"
DEMO_CRL_URL = "http://ac-demonstracao.invalid/ac-demonstracao.crl"
DEMO_NOTICE = "DEMONSTRACAO - sem valor legal"
KEY_BITS = 2048


class CertificateRefused(Exception):
    """A PKCS#12 that cannot seal; the message (pt-BR) says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Encryption at rest ----------------------------------------------------------------------


def _fernet_key(secret: str) -> bytes:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal sealing certificates"
    ).derive(secret.encode())
    return base64.urlsafe_b64encode(key)


def _cipher() -> MultiFernet:
    secrets_in_use = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_fernet_key(secret)) for secret in secrets_in_use])


def secret_encrypt(data: bytes) -> bytes:
    return _cipher().encrypt(data)


def secret_decrypt(token: bytes) -> bytes:
    try:
        return _cipher().decrypt(token)
    except InvalidToken as error:
        raise CertificateRefused(
            "O certificado não pôde ser decifrado: a SECRET_KEY mudou? Instale-o novamente."
        ) from error


# Certificates ----------------------------------------------------------------------------


def to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _pem(certificates) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


def certificates_from_pem(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode()) if pem.strip() else []


def fingerprint(certificate: x509.Certificate | asn1_x509.Certificate) -> str:
    if isinstance(certificate, asn1_x509.Certificate):
        return hashlib.sha256(certificate.dump()).hexdigest()
    return certificate.fingerprint(hashes.SHA256()).hex()


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEMO_NOTICE),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )


def _key_usage(*, signing: bool, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class DemoAuthority:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    def issue(self, *, common_name: str, organization: str, timestamping: bool = False):
        """A new key and an end-entity certificate for it (sealing, or a TSA's)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        now = timezone.now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organization))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2 * 365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(signing=True), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier(DEMO_CRL_URL)], None, None, None
                        )
                    ]
                ),
                critical=False,
            )
        )
        if timestamping:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
        return key, builder.sign(self.key, hashes.SHA256())

    def crl(self) -> asn1_crl.CertificateList:
        """A fresh, empty revocation list: the demo revokes nothing."""
        now = timezone.now()
        crl = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now - datetime.timedelta(minutes=5))
            .next_update(now + datetime.timedelta(days=30))
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return asn1_crl.CertificateList.load(crl.public_bytes(serialization.Encoding.DER))


def _store_key(name: str, key: rsa.RSAPrivateKey) -> None:
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    default_storage.save(name, ContentFile(secret_encrypt(der)))


def _load_key(name: str) -> rsa.RSAPrivateKey:
    with default_storage.open(name, "rb") as stream:
        return serialization.load_der_private_key(secret_decrypt(stream.read()), password=None)


def _load_certificate(name: str) -> x509.Certificate:
    with default_storage.open(name, "rb") as stream:
        return x509.load_pem_x509_certificate(stream.read())


def demo_authority() -> DemoAuthority:
    """The demo CA, made the first time it is needed and kept in storage."""
    if default_storage.exists(DEMO_CA_CERT):
        return DemoAuthority(_load_key(DEMO_CA_KEY), _load_certificate(DEMO_CA_CERT))
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    now = timezone.now()
    subject = _name("AC de demonstração do Portal do Cliente", "Portal do Cliente")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=10 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _store_key(DEMO_CA_KEY, key)
    default_storage.save(
        DEMO_CA_CERT, ContentFile(certificate.public_bytes(serialization.Encoding.PEM))
    )
    return DemoAuthority(key, certificate)


def demo_tsa_credentials() -> tuple[asn1_keys.PrivateKeyInfo, asn1_x509.Certificate, DemoAuthority]:
    """The demo TSA's key and certificate (issued once by the demo CA)."""
    authority = demo_authority()
    if default_storage.exists(DEMO_TSA_CERT):
        key, certificate = _load_key(DEMO_TSA_KEY), _load_certificate(DEMO_TSA_CERT)
    else:
        key, certificate = authority.issue(
            common_name="Carimbo do tempo de demonstração",
            organization="Portal do Cliente",
            timestamping=True,
        )
        _store_key(DEMO_TSA_KEY, key)
        default_storage.save(
            DEMO_TSA_CERT, ContentFile(certificate.public_bytes(serialization.Encoding.PEM))
        )
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return asn1_keys.PrivateKeyInfo.load(der), to_asn1(certificate), authority


# Tenants' certificates -------------------------------------------------------------------


@dataclass(frozen=True)
class _Pkcs12:
    key: object
    certificate: x509.Certificate
    chain: list[x509.Certificate]


def _read_pkcs12(data: bytes, password: str) -> _Pkcs12:
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(data, password.encode())
    except ValueError as error:
        raise CertificateRefused(
            "Não foi possível abrir o PKCS#12: o arquivo está corrompido ou a senha está errada."
        ) from error
    if key is None or certificate is None:
        raise CertificateRefused("O PKCS#12 precisa conter a chave privada e o certificado.")
    return _Pkcs12(key, certificate, list(chain or []))


def _display_name(name: x509.Name) -> str:
    """'Common name (organization)', or the whole name when it has no common name."""
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not common:
        return name.rfc4514_string()
    organization = name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    text = str(common[0].value)
    if organization and str(organization[0].value) not in text:
        text += f" ({organization[0].value})"
    return text


def _check_usable(bundle: _Pkcs12) -> None:
    now = timezone.now()
    certificate = bundle.certificate
    if certificate.not_valid_after_utc <= now:
        raise CertificateRefused(
            f"O certificado venceu em {certificate.not_valid_after_utc:%d/%m/%Y}."
        )
    if certificate.not_valid_before_utc > now:
        raise CertificateRefused("O certificado ainda não entrou em validade.")
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise CertificateRefused("O certificado não permite assinatura digital (key usage).")


@transaction.atomic
def sealing_certificate_install(
    *, tenant: Tenant, pkcs12_data: bytes, password: str, is_demo: bool = False
) -> SealingCertificate:
    """Make this PKCS#12 the tenant's sealing certificate (the previous one stays, inactive,
    so seals made with it still verify)."""
    bundle = _read_pkcs12(pkcs12_data, password)
    _check_usable(bundle)
    certificate = bundle.certificate
    SealingCertificate.objects.filter(tenant=tenant, is_active=True).update(is_active=False)
    record = SealingCertificate(
        tenant=tenant,
        password_encrypted=secret_encrypt(password.encode()).decode("ascii"),
        subject=_display_name(certificate.subject)[:300],
        issuer=_display_name(certificate.issuer)[:300],
        serial=format(certificate.serial_number, "x")[:80],
        fingerprint_sha256=fingerprint(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        chain_pem=_pem([certificate, *bundle.chain]),
        is_demo=is_demo,
        is_active=True,
        created_at=timezone.now(),
    )
    key = f"pki/{tenant.slug}/{uuid.uuid4().hex}.p12.enc"
    record.pkcs12.save(key, ContentFile(secret_encrypt(pkcs12_data)), save=False)
    record.save()
    return record


def sealing_certificate_demo(*, tenant: Tenant) -> SealingCertificate:
    """A certificate from the demo CA for the tenant (the CA is made once)."""
    authority = demo_authority()
    key, certificate = authority.issue(
        common_name=f"{tenant.legal_name or tenant.name} — selo do portal",
        organization=tenant.legal_name or tenant.name,
    )
    password = secrets.token_urlsafe(24)
    data = pkcs12.serialize_key_and_certificates(
        tenant.slug.encode(),
        key,
        certificate,
        [authority.certificate],
        serialization.BestAvailableEncryption(password.encode()),
    )
    return sealing_certificate_install(
        tenant=tenant, pkcs12_data=data, password=password, is_demo=True
    )


def sealing_certificate_active(*, tenant: Tenant) -> SealingCertificate | None:
    return (
        SealingCertificate.objects.filter(tenant=tenant, is_active=True)
        .order_by("-created_at")
        .first()
    )


def sealing_key_and_chain(certificate: SealingCertificate) -> tuple:
    """The certificate's private key, its certificate and CA chain (cryptography objects),
    decrypted in memory only."""
    with certificate.pkcs12.open("rb") as stream:
        data = secret_decrypt(stream.read())
    password = secret_decrypt(certificate.password_encrypted.encode("ascii")).decode()
    bundle = _read_pkcs12(data, password)
    return bundle.key, bundle.certificate, bundle.chain


def tenant_trust_anchors(*, tenant: Tenant) -> tuple[list, set[str]]:
    """What /verificar/ trusts on the tenant's host: the roots of every certificate the tenant
    ever sealed with (as asn1crypto certificates), and those certificates' fingerprints."""
    roots, sealers = [], set()
    for record in SealingCertificate.objects.filter(tenant=tenant):
        chain = certificates_from_pem(record.chain_pem)
        if not chain:
            continue
        sealers.add(record.fingerprint_sha256)
        # The chain's last certificate is the root when the PKCS#12 carries it; a chain of
        # one (a self-signed or bare certificate) is its own anchor.
        roots.append(to_asn1(chain[-1]))
    return roots, sealers
