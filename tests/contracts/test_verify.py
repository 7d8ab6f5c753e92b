"""/verificar/: public, rate-limited, by upload and by code; it says whether the document is
intact and sealed by this tenant's certificate, and names only the signers."""

import datetime
import io
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from contracts import pki
from contracts.models import SealedContract
from tests.conftest import HOST_A, HOST_B, host_client
from tests.contracts.samples import pdf_bytes
from tests.contracts.signing import CPFS, NAMES, digital_contract, sign_all
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def seal(tenant_a, customer_a, certificate_a, tsa, password):
    cliente = erp_cliente(tenant_a.erp_company_id, nome=customer_a.name)
    pedido = erp_pedido(cliente, 7017, contrato={"assinatura": "DIGITAL"})
    contract, users = digital_contract(customer_a, erp_id=pedido.id, erp_version=pedido.versao)
    sign_all(users, password)
    return SealedContract.objects.get()


def content_of(seal) -> bytes:
    with seal.file.open("rb") as stream:
        return stream.read()


def upload(content: bytes, host=HOST_A):
    file = SimpleUploadedFile("contrato.pdf", content, content_type="application/pdf")
    return host_client(host).post(reverse("verify"), {"arquivo": file})


def test_the_sealed_pdf_is_accepted_by_upload(seal, customer_a):
    with scopes_disabled():
        response = upload(content_of(seal))
        assert response.status_code == 200
        page = text(response)
        assert "Documento íntegro: selado por este portal e sem alterações depois do selo." in page
        assert "certificado deste portal (cadeia confiável)" in page
        assert "apenas dados de validação e carimbos do tempo" in page
        assert "dados de validação incorporados (LTV)" in page
        assert seal.verification_code in page
        assert "O arquivo enviado é idêntico ao que o portal selou." in page
        for email, name in NAMES.items():
            assert name in page
            digits = re.sub(r"\D", "", CPFS[email])
            assert f"***.{digits[3:6]}.{digits[6:9]}-**" in page
            assert digits not in page and email not in page
        assert "Testemunha" in page
        # Nothing else about the customer: not its name, not the order.
        assert customer_a.name not in page
        assert "7017" not in page


def test_a_tampered_pdf_is_rejected(seal):
    with scopes_disabled():
        content = bytearray(content_of(seal))
        at = content.index(b"stream", 200) + 40
        content[at] ^= 0x01
        page = text(upload(bytes(content)))
        assert "Documento alterado: o conteúdo não confere com o selo digital." in page
        assert NAMES["parte1@clientealfa.com.br"] not in page


def test_a_change_after_the_seal_is_reported(seal):
    with scopes_disabled():
        writer = IncrementalPdfFileWriter(io.BytesIO(content_of(seal)))
        page_object = writer.root["/Pages"]["/Kids"][0].get_object()
        page_object["/Rotate"] = generic.NumberObject(90)
        writer.update_container(page_object)
        output = io.BytesIO()
        writer.write(output)
        page = text(upload(output.getvalue()))
        assert "O selo é autêntico, mas o documento recebeu alterações depois dele." in page
        assert "O documento foi modificado depois do selo" in page


def _foreign_pkcs12() -> bytes:
    """A certificate from another CA: not this portal's."""
    authority = pki.DemoAuthority(*_self_signed_ca())
    key, certificate = authority.issue(common_name="Outra empresa", organization="Outra")
    return pkcs12.serialize_key_and_certificates(
        b"x", key, certificate, [authority.certificate], serialization.NoEncryption()
    )


def _self_signed_ca():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AC estranha")])
    now = timezone.now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def test_a_pdf_sealed_by_a_foreign_certificate_is_rejected(certificate_a):
    with scopes_disabled():
        signer = signers.SimpleSigner.load_pkcs12_data(_foreign_pkcs12(), other_certs=[])
        meta = signers.PdfSignatureMetadata(
            field_name="Selo-AAAA-BBBB-CCCC", subfilter=fields.SigSeedSubFilter.PADES
        )
        output = signers.PdfSigner(meta, signer=signer).sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf_bytes(1)))
        )
        page = text(upload(output.getvalue()))
        assert "Este PDF não foi selado por este portal." in page
        assert "certificado desconhecido para este portal" in page


def test_another_tenants_seal_is_foreign_here(seal, tenant_b):
    """The demo CA issues every tenant's certificate: the seal must be the tenant's own."""
    with scopes_disabled():
        pki.sealing_certificate_demo(tenant=tenant_b)
        page = text(upload(content_of(seal), host=HOST_B))
        assert "Este PDF não foi selado por este portal." in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a pdf at all", "O arquivo não é um PDF legível."),
        (pdf_bytes(1), "Este PDF não tem selo digital."),
    ],
)
def test_unsealed_or_broken_files(certificate_a, content, message):
    with scopes_disabled():
        assert message in text(upload(content))


def test_the_code_page_answers_without_login(seal, customer_a):
    with scopes_disabled():
        response = host_client(HOST_A).get(reverse("verify_code", args=[seal.verification_code]))
        assert response.status_code == 200
        page = text(response)
        assert "Documento íntegro" in page
        assert NAMES["testemunha@clientealfa.com.br"] in page
        assert seal.sha256 in page
        assert customer_a.name not in page
        # Typed by hand: lower case, no dashes.
        typed = seal.verification_code.replace("-", "").lower()
        response = host_client(HOST_A).get(reverse("verify") + f"?codigo={typed}")
        assert response["Location"] == reverse("verify_code", args=[seal.verification_code])


def test_an_unknown_code_and_another_tenants_code_are_not_found(seal, tenant_b):
    with scopes_disabled():
        assert (
            host_client(HOST_A).get(reverse("verify_code", args=["ZZZZ-ZZZZ-ZZZZ"])).status_code
            == 404
        )
        response = host_client(HOST_B).get(reverse("verify_code", args=[seal.verification_code]))
        assert response.status_code == 404
        assert "Nenhum Contrato Assinado com o código" in text(response)


def test_the_verification_page_is_public(tenant_a):
    with scopes_disabled():
        response = host_client(HOST_A).get(reverse("verify"))
        assert response.status_code == 200
        assert "Verificar um Contrato Assinado" in text(response)


def test_verification_is_rate_limited(tenant_a, settings):
    with scopes_disabled():
        settings.VERIFY_RATE_LIMIT = 3
        client = host_client(HOST_A)
        url = reverse("verify_code", args=["ZZZZ-ZZZZ-ZZZZ"])
        assert [client.get(url).status_code for _ in range(4)] == [404, 404, 404, 429]
        assert "Muitas verificações em pouco tempo" in text(client.get(url))
