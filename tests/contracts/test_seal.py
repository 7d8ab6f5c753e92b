"""The seal: a PAdES signature by the tenant's certificate over the contract and its evidence
page, with an RFC 3161 timestamp from a TSA on 127.0.0.1 and the validation data embedded.
Checked with pyHanko as a third party would check it."""

import io
import re
import socket

import pytest
from django.core.files.storage import default_storage
from django_scopes import scopes_disabled
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from contracts import pki
from contracts.models import EventKind, SealedContract, SignatureEvent
from contracts.tasks import signature_retries_enqueue
from contracts.tsa import DemoTimestampServer
from erp_sync.models import ErpPedidoAnexo
from tests.conftest import HOST_A, host_client
from tests.contracts.signing import CPFS, NAMES, digital_contract, sign, sign_all
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract_and_users(tenant_a, customer_a, certificate_a):
    cliente = erp_cliente(tenant_a.erp_company_id, nome=customer_a.name)
    pedido = erp_pedido(cliente, 7017, contrato={"assinatura": "DIGITAL"})
    return digital_contract(customer_a, erp_id=pedido.id, erp_version=pedido.versao)


def sealed_bytes(seal: SealedContract) -> bytes:
    with seal.file.open("rb") as stream:
        return stream.read()


def demo_ca_context(reader) -> ValidationContext:
    """What a third party holding the demo CA's certificate validates with (no fetching: the
    CRL comes from the document's DSS)."""
    root = pki.to_asn1(pki.demo_authority().certificate)
    return DocumentSecurityStore.read_dss(reader).as_validation_context(
        {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "hard-fail"}
    )


def validate(content: bytes):
    reader = PdfFileReader(io.BytesIO(content), strict=False)
    context = demo_ca_context(reader)
    return validate_pdf_signature(
        reader.embedded_signatures[0],
        signer_validation_context=context,
        ts_validation_context=context,
    )


def free_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the TSA is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_the_seal_validates_against_the_demo_ca_with_a_timestamp(contract_and_users, tsa, password):
    with scopes_disabled():
        contract, users = contract_and_users
        sign_all(users, password)
        seal = SealedContract.objects.get()
        content = sealed_bytes(seal)

        status = validate(content)
        print(status.pretty_print_details())
        assert status.bottom_line
        assert status.intact and status.valid and status.trusted
        assert status.timestamp_validity is not None
        assert status.timestamp_validity.valid and status.timestamp_validity.trusted
        assert status.modification_level == ModificationLevel.LTA_UPDATES  # only the DSS after it
        assert tsa.answered >= 1  # a real RFC 3161 exchange over HTTP

        reader = PdfFileReader(io.BytesIO(content))
        embedded = reader.embedded_signatures[0]
        assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
        assert embedded.field_name == f"Selo-{seal.verification_code}"
        assert embedded.docmdp_level is not None  # a certification signature: no changes allowed
        assert pki.fingerprint(embedded.signer_cert) == seal.certificate.fingerprint_sha256
        dss = DocumentSecurityStore.read_dss(reader)
        assert len(list(dss.crls)) >= 1  # B-LT: the revocation data is in the file
        assert abs((seal.timestamped_at - seal.sealed_at).total_seconds()) < 60


def test_one_flipped_byte_makes_the_seal_invalid(contract_and_users, tsa, password):
    with scopes_disabled():
        contract, users = contract_and_users
        sign_all(users, password)
        content = bytearray(sealed_bytes(SealedContract.objects.get()))
        stream_at = content.index(b"stream", 200)
        content[stream_at + 40] ^= 0x01
        status = validate(bytes(content))
        assert not status.intact
        assert not status.bottom_line


def test_an_incremental_update_after_the_seal_is_reported(contract_and_users, tsa, password):
    with scopes_disabled():
        contract, users = contract_and_users
        sign_all(users, password)
        writer = IncrementalPdfFileWriter(io.BytesIO(sealed_bytes(SealedContract.objects.get())))
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        page["/Rotate"] = generic.NumberObject(90)
        writer.update_container(page)
        output = io.BytesIO()
        writer.write(output)

        status = validate(output.getvalue())
        assert status.intact  # the sealed revision itself is untouched…
        assert status.modification_level == ModificationLevel.OTHER  # …but something was added
        assert not status.docmdp_ok
        assert not status.bottom_line


def test_the_evidence_page(contract_and_users, tsa, password, tenant_a):
    with scopes_disabled():
        contract, users = contract_and_users
        sign_all(users, password)
        seal = SealedContract.objects.get()
        reader = PdfReader(io.BytesIO(sealed_bytes(seal)))
        contract_text = reader.pages[0].extract_text()
        evidence = " ".join(reader.pages[-1].extract_text().split())
        assert "Cláusula primeira." in contract_text
        assert len(reader.pages) == 2  # three signers' evidence fits on one page
        assert "FOLHA DE EVIDÊNCIAS" in evidence
        for email in users:
            assert NAMES[email].upper() in evidence
            digits = re.sub(r"\D", "", CPFS[email])
            assert f"***.{digits[3:6]}.{digits[6:9]}-**" in evidence
            assert CPFS[email] not in evidence and digits not in evidence
        assert "PARTE" in evidence and "TESTEMUNHA" in evidence
        assert seal.contract_sha256 in evidence
        assert seal.verification_code in evidence
        assert f"http://alfa.portal.test/verificar/{seal.verification_code}/" in evidence
        assert "UTC" in evidence and "horário de Brasília" in evidence
        assert "127.0.0.1" in evidence
        assert "Chrome em Linux · Mozilla/5.0 (X11; Linux x86_64)" in evidence
        assert "Código aceito (tentativa 1 de 5)" in evidence
        assert "Senha do portal conferida" in evidence
        assert "DEMONSTRAÇÃO" in evidence


def test_tsa_down_seals_without_a_timestamp_and_the_retry_adds_one(
    contract_and_users, password, settings
):
    with scopes_disabled():
        contract, users = contract_and_users
        settings.TSA_URL = free_port_url()
        settings.TSA_TIMEOUT = 2
        sign_all(users, password)
        seal = SealedContract.objects.get()
        assert seal.timestamp_pending and seal.timestamped_at is None
        first = sealed_bytes(seal)
        status = validate(first)
        assert status.intact and status.trusted and status.timestamp_validity is None
        # The follower's sweep queues a timestamp (run at once here): the TSA is still down.
        assert signature_retries_enqueue() == {"seals": 0, "timestamps": 1}
        seal.refresh_from_db()
        assert seal.timestamp_pending and seal.timestamp_attempts == 1
        assert seal.timestamp_error
        # …and backs off: the next sweep, a moment later, queues nothing.
        assert signature_retries_enqueue() == {"seals": 0, "timestamps": 0}

        server = DemoTimestampServer()
        server.start_in_thread()
        settings.TSA_URL = server.url
        try:
            seal.timestamp_tried_at = None  # do not wait for the back-off in a test
            seal.save(update_fields=["timestamp_tried_at"])
            assert signature_retries_enqueue() == {"seals": 0, "timestamps": 1}
        finally:
            server.shutdown()
            server.server_close()

        seal.refresh_from_db()
        assert not seal.timestamp_pending and seal.timestamped_at is not None
        stamped = sealed_bytes(seal)
        assert stamped.startswith(first)  # the sealed revision is untouched: an incremental update
        assert seal.sealed_sha256 != seal.sha256
        reader = PdfFileReader(io.BytesIO(stamped))
        assert [s.sig_object_type for s in reader.embedded_signatures] == ["/Sig", "/DocTimeStamp"]
        document_stamp = validate_pdf_timestamp(
            reader.embedded_signatures[1], validation_context=demo_ca_context(reader)
        )
        assert document_stamp.valid and document_stamp.intact and document_stamp.trusted
        assert validate(stamped).bottom_line
        assert SignatureEvent.objects.filter(kind=EventKind.TIMESTAMPED).count() == 1
        anexo = ErpPedidoAnexo.objects.get(origem="PORTAL")
        assert bytes(anexo.conteudo) == stamped
        assert default_storage.exists(seal.sealed_file.name)  # the first file is kept


def test_without_a_certificate_the_retry_seals_once_one_is_installed(
    tenant_a, customer_a, password, settings
):
    with scopes_disabled():
        settings.TSA_URL = ""
        cliente = erp_cliente(tenant_a.erp_company_id, nome=customer_a.name)
        pedido = erp_pedido(cliente, 7017, contrato={"assinatura": "DIGITAL"})
        contract, users = digital_contract(customer_a, erp_id=pedido.id, erp_version=pedido.versao)
        sign_all(users, password)
        assert not SealedContract.objects.exists()
        contract.refresh_from_db()
        assert not contract.is_signed

        pki.sealing_certificate_demo(tenant=tenant_a)
        assert signature_retries_enqueue()["seals"] == 1
        seal = SealedContract.objects.get()
        assert not seal.timestamp_pending and seal.timestamped_at is None  # no TSA configured
        assert validate(sealed_bytes(seal)).intact


def test_the_sweep_queues_a_seal_only_once_everyone_signed(contract_and_users, password):
    """Run as the follower runs it: outside any tenant scope."""
    contract, users = contract_and_users
    first, *others = users.items()
    sign(host_client(HOST_A, first[1]), first[0], password)
    assert signature_retries_enqueue() == {"seals": 0, "timestamps": 0}
