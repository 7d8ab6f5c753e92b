"""The "Contrato Assinado" of a digital signature: the contract, an evidence page, and a seal.

When the last designated signer has signed, `contract_seal` renders the evidence page (each
signer's name, role, masked CPF, times in UTC and local time, IP, device, how they were
authenticated; the contract's SHA-256; the verification code, URL and QR code), appends it to
the contract PDF and seals the whole with the tenant's certificate: a PAdES signature
(ETSI.CAdES.detached, pyHanko) that certifies the document against any change. With `TSA_URL`
it also carries an RFC 3161 timestamp and the validation data (PAdES B-T, B-LT). A TSA that does
not answer never blocks the signers and never fakes a time: the seal is made without it, and
`sealed_contract_timestamp` adds a document timestamp once the TSA answers.

Both are idempotent and safe to run twice at once (the trail's row is locked before anything is
stored); they run on the task queue (contracts.tasks), never in the signer's request.
"""

import asyncio
import datetime
import functools
import hashlib
import io
import json
import logging
import uuid
from dataclasses import dataclass

import aiohttp
import segno
from asn1crypto import cms, tsp
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko.sign.validation import add_validation_info
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash
from pypdf import PdfReader, PdfWriter

from contracts import pki
from contracts.evidence import evidence_append
from contracts.formats import device_summary, verification_code_new
from contracts.models import (
    Contract,
    DigitalSignature,
    EventKind,
    SealedContract,
    SealingCertificate,
    SignatureEvent,
    SignatureMode,
    SignatureTrail,
)
from contracts.services import contract_pdf_ensure, contract_source_key
from erp_sync.gateway import ErpEvent, erp_event_add, erp_order_exists, erp_signed_contract_store
from erp_sync.router import erp_alias
from notifications.tasks import notify_company_contract_signed, notify_contract_all_signed
from portal.accounts.selectors import tenant_absolute_url, tenant_primary_hostname
from portal.background.queue import enqueue_on_commit
from portal.documents.pdf import company_for, render_pdf

logger = logging.getLogger(__name__)

TSA_ERRORS = (TimestampRequestError, aiohttp.ClientError, asyncio.TimeoutError, OSError)
AUTH_STEPS = {
    EventKind.PASSWORD_CHECKED: "Senha do portal conferida",
    EventKind.CODE_SENT: "Código de 6 dígitos enviado por e-mail",
    EventKind.CODE_REFUSED: "Código recusado",
    EventKind.CODE_ACCEPTED: "Código aceito",
    EventKind.SIGNED: "Assinatura registrada (aceite marcado)",
}


# The evidence page -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignerEvidence:
    signature: DigitalSignature
    steps: list[tuple[datetime.datetime, str]]
    device: str


def _steps(signature: DigitalSignature, events: list[SignatureEvent]) -> list:
    """The signer's authentication steps, from the password check to the signature (the live
    signature is the signer's last one: earlier ones were voided)."""
    own = [e for e in events if e.email == signature.email]
    signed = next((e for e in reversed(own) if e.kind == EventKind.SIGNED), None)
    if signed is None:
        return []
    started = max(
        (e.seq for e in own if e.kind == EventKind.PASSWORD_CHECKED and e.seq < signed.seq),
        default=0,
    )
    steps = []
    for event in own:
        if started <= event.seq <= signed.seq and event.kind in AUTH_STEPS:
            label = AUTH_STEPS[event.kind]
            details = json.loads(event.details)
            if event.kind in (EventKind.CODE_REFUSED, EventKind.CODE_ACCEPTED):
                label += f" (tentativa {details.get('tentativa')} de {details.get('de')})"
            steps.append((event.created_at, label))
    return steps


def _evidence_page(
    *,
    trail: SignatureTrail,
    contract: Contract,
    signatures: list[DigitalSignature],
    contract_sha256: str,
    contract_pages: int,
    code: str,
    certificate: SealingCertificate,
) -> bytes:
    order = contract.order
    events = list(SignatureEvent.objects.filter(trail=trail).order_by("seq"))
    url = tenant_absolute_url(tenant=order.tenant, path=reverse("verify_code", args=[code]))
    signers_evidence = [
        SignerEvidence(s, _steps(s, events), device_summary(s.user_agent)) for s in signatures
    ]
    context = {
        "company": company_for(order.tenant),
        "contract": contract,
        "order": order,
        "signers": signers_evidence,
        "contract_sha256": contract_sha256,
        "contract_pages": contract_pages,
        "code": code,
        "url": url,
        "qr": segno.make(url, error="m").svg_data_uri(scale=3, border=1),
        "certificate": certificate,
        "tsa": bool(settings.TSA_URL),
        "chain_events": len(events),
        "chain_head": events[-1].hash if events else "",
        "consent_text": _consent_text(events),
    }
    return render_pdf("pdf/signature_evidence.html", context)


def _consent_text(events: list[SignatureEvent]) -> str:
    return next((e.consent_text for e in reversed(events) if e.kind == EventKind.SIGNED), "")


def _merge(contract_pdf: bytes, evidence_pdf: bytes) -> bytes:
    """The contract followed by its evidence page: one document for the seal to cover."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(contract_pdf)))
    writer.append(PdfReader(io.BytesIO(evidence_pdf)))
    writer.add_metadata({"/Producer": "Portal do Cliente"})
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


# pyHanko ---------------------------------------------------------------------------------------


def _tsa_roots() -> list:
    path = settings.TSA_CA_FILE
    if not path:
        return []
    with open(path, "rb") as stream:
        return [pki.to_asn1(c) for c in pki.certificates_from_pem(stream.read().decode())]


def validation_context(certificate: SealingCertificate) -> ValidationContext:
    """What the seal's chain and the TSA's are checked against while sealing, and embedded
    from (B-LT). The demo's certificates: the demo CA and a CRL it signs now; a real one:
    its own chain, with revocation data fetched from the CA."""
    chain = pki.certificates_from_pem(certificate.chain_pem)
    roots = [pki.to_asn1(chain[-1]), *_tsa_roots()]
    others = [pki.to_asn1(c) for c in chain[:-1]]
    if certificate.is_demo:
        authority = pki.demo_authority()
        return ValidationContext(
            trust_roots=[pki.to_asn1(authority.certificate), *roots],
            other_certs=others,
            crls=[authority.crl()],
            allow_fetching=False,
            revocation_mode="hard-fail",
        )
    return ValidationContext(
        trust_roots=roots, other_certs=others, allow_fetching=True, revocation_mode="soft-fail"
    )


def _timestamper() -> HTTPTimeStamper | None:
    if not settings.TSA_URL:
        return None
    return _http_timestamper(settings.TSA_URL, settings.TSA_TIMEOUT)


@functools.lru_cache(maxsize=4)
def _http_timestamper(url: str, timeout: float) -> HTTPTimeStamper:
    """One per TSA and process: pyHanko sizes each signature with a sample token that the
    timestamper keeps, so only the first seal of a process asks the TSA twice."""
    return HTTPTimeStamper(url, timeout=timeout)


class SealSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, with the private key parsed once per seal.

    SimpleSigner parses the key again for every signature it makes (two per seal: one to size
    the signature, one for real), and cryptography checks an RSA key each time it is parsed,
    ~0.1 s apiece: a third of a seal's time went there.
    """

    def __init__(self, *, key, **kwargs):
        super().__init__(**kwargs)
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), algorithm)
        if mechanism == "ecdsa" and isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(algorithm))
        return super().sign_raw(data, digest_algorithm)


def sealing_signer(certificate: SealingCertificate) -> SealSigner:
    """pyHanko's signer for the tenant's certificate (the PKCS#12 decrypted in memory only)."""
    key, leaf, chain = pki.sealing_key_and_chain(certificate)
    key_der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SealSigner(
        key=key,
        signing_cert=pki.to_asn1(leaf),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([pki.to_asn1(c) for c in chain]),
    )


def _sign(pdf: bytes, *, certificate: SealingCertificate, code: str, tenant, tsa: bool) -> bytes:
    meta = signers.PdfSignatureMetadata(
        field_name=f"Selo-{code}",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        reason=f"Contrato assinado eletronicamente no portal. Verificação: {code}",
        location=tenant_primary_hostname(tenant=tenant),
        embed_validation_info=True,
        validation_context=validation_context(certificate),
    )
    signer = sealing_signer(certificate)
    pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=_timestamper() if tsa else None)
    output = pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False))
    return output.getvalue()


def _seal_bytes(pdf: bytes, **kwargs) -> tuple[bytes, bool]:
    """The sealed PDF, and whether it carries a timestamp (False: the TSA did not answer)."""
    if settings.TSA_URL:
        try:
            return _sign(pdf, tsa=True, **kwargs), True
        except (*TSA_ERRORS, SigningError) as error:
            logger.warning(
                "TSA %s did not answer (%s): sealing without timestamp", settings.TSA_URL, error
            )
    return _sign(pdf, tsa=False, **kwargs), False


def _token_time(signed_data: cms.SignedData) -> datetime.datetime:
    info = signed_data["encap_content_info"]["content"].parsed
    return tsp.TSTInfo.load(info.dump())["gen_time"].native


def latest_timestamp(data: bytes) -> datetime.datetime | None:
    """The time of the newest RFC 3161 token in the file: a document timestamp, or the seal's
    own signature timestamp."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    latest = None
    for embedded in reader.embedded_signatures:
        if embedded.sig_object_type == "/DocTimeStamp":
            moment = _token_time(embedded.signed_data)
        else:
            unsigned = embedded.signer_info["unsigned_attrs"]
            tokens = [
                attribute["values"][0]["content"]
                for attribute in (unsigned if unsigned.native else [])
                if attribute["type"].native == "signature_time_stamp_token"
            ]
            if not tokens:
                continue
            moment = _token_time(tokens[0])
        latest = moment if latest is None or moment > latest else latest
    return latest


# Sealing --------------------------------------------------------------------------------------


def signed_by_all(trail: SignatureTrail) -> bool:
    """Every designated signer has a live signature of the trail's contract as it is now."""
    return trail.contract is not None and _live_signatures(trail, trail.contract) is not None


def _live_signatures(trail: SignatureTrail, contract: Contract) -> list[DigitalSignature] | None:
    """The signatures that complete the contract as it is now, in the signers' order (None:
    not complete)."""
    designated = list(contract.signers.all().order_by("role", "pk"))
    live = {
        s.email: s
        for s in DigitalSignature.objects.filter(
            trail=trail, voided_at__isnull=True, contract_source=contract_source_key(contract)
        )
    }
    if not designated or any(s.email.lower() not in live for s in designated):
        return None
    return [live[s.email.lower()] for s in designated]


def _erp_send(*, order, seal: SealedContract, content: bytes, signatures, event: bool) -> None:
    """The ERP's copy: the order's one PORTAL CONTRATO_ASSINADO row (replaced in place) and,
    for a new seal, a CONTRATO_ASSINADO event with the hashes."""
    company = order.tenant.erp_company_id
    if not erp_order_exists(company_id=company, erp_id=order.erp_id):
        return
    now = timezone.now()
    erp_signed_contract_store(
        erp_id=order.erp_id,
        name=seal.download_name,
        mime="application/pdf",
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        now=now,
    )
    if not event:
        return
    erp_event_add(
        company_id=company,
        erp_id=order.erp_id,
        kind=ErpEvent.CONTRACT_SIGNED,
        data={
            "assinatura": "DIGITAL",
            "codigo_verificacao": seal.verification_code,
            "sha256_contrato": seal.contract_sha256,
            "sha256": seal.sealed_sha256,
            "versao": order.erp_version,
            "carimbo_do_tempo": not seal.timestamp_pending,
            "signatarios": [
                {"email": s.email, "papel": s.role, "assinado_em": s.signed_at.isoformat()}
                for s in signatures
            ],
        },
        now=seal.sealed_at,
    )


def _store(content: bytes, tenant) -> str:
    """Evidence files: a generated key, never overwritten, never deleted once a seal names it."""
    return default_storage.save(
        f"sealed/{tenant.slug}/{uuid.uuid4().hex}.pdf", ContentFile(content)
    )


def contract_seal(*, trail_id: int) -> SealedContract | None:
    """Seal the trail's contract if every designated signer has signed it as it is now.

    Returns the live seal (this one, or the one already made), or None when there is nothing
    to seal yet (or no sealing certificate: the retry seals once support installs one).
    """
    with scopes_disabled():
        trail = SignatureTrail.objects.select_related(
            "contract__order__tenant", "contract__order__customer"
        ).get(pk=trail_id)
        existing = SealedContract.objects.filter(trail=trail, voided_at__isnull=True).first()
        contract = trail.contract
        if existing is not None or contract is None:
            return existing
        if contract.signature_mode != SignatureMode.DIGITAL:
            return None
        signatures = _live_signatures(trail, contract)
        if signatures is None:
            return None
        order = contract.order
        certificate = pki.sealing_certificate_active(tenant=order.tenant)
        if certificate is None:
            logger.warning(
                "Tenant %s has no sealing certificate: %s waits", order.tenant.slug, trail
            )
            return None
        document = contract_pdf_ensure(contract=contract)
        with document.file.open("rb") as stream:
            contract_pdf = stream.read()
        code = verification_code_new()
        evidence_pdf = _evidence_page(
            trail=trail,
            contract=contract,
            signatures=signatures,
            contract_sha256=document.sha256,
            contract_pages=len(PdfReader(io.BytesIO(contract_pdf)).pages),
            code=code,
            certificate=certificate,
        )
        merged = _merge(contract_pdf, evidence_pdf)
        sealed, timestamped = _seal_bytes(
            merged, certificate=certificate, code=code, tenant=order.tenant
        )
        return _record_seal(
            trail=trail,
            contract=contract,
            signatures=signatures,
            certificate=certificate,
            code=code,
            contract_sha256=document.sha256,
            sealed=sealed,
            timestamped=timestamped,
        )


def _record_seal(
    *, trail, contract, signatures, certificate, code, contract_sha256, sealed, timestamped
) -> SealedContract:
    order = contract.order
    name = _store(sealed, order.tenant)
    now = timezone.now()
    digest = hashlib.sha256(sealed).hexdigest()
    with transaction.atomic():
        SignatureTrail.objects.select_for_update().get(pk=trail.pk)
        existing = SealedContract.objects.filter(trail=trail, voided_at__isnull=True).first()
        if existing is not None or _live_signatures(trail, contract) != signatures:
            # Sealed meanwhile by another worker, or a signature was voided: ours is not kept.
            transaction.on_commit(lambda: _delete_unused(name))
            return existing
        seal = SealedContract(
            tenant_id=order.tenant_id,
            trail=trail,
            certificate=certificate,
            verification_code=code,
            contract_sha256=contract_sha256,
            contract_source=contract_source_key(contract),
            sealed_sha256=digest,
            sha256=digest,
            size=len(sealed),
            sealed_at=now,
            timestamped_at=latest_timestamp(sealed) if timestamped else None,
            timestamp_pending=bool(settings.TSA_URL) and not timestamped,
        )
        seal.sealed_file.name = name
        seal.file.name = name
        with transaction.atomic(using=erp_alias()):
            _erp_send(order=order, seal=seal, content=sealed, signatures=signatures, event=True)
        seal.save()
        Contract.objects.filter(pk=contract.pk).update(signed_at=now)
        contract.signed_at = now
        evidence_append(
            trail=trail,
            kind=EventKind.SEALED,
            contract_sha256=contract_sha256,
            contract_version=order.erp_version,
            details={
                "codigo": code,
                "sha256_selado": digest,
                "certificado": certificate.subject,
                "certificado_sha256": certificate.fingerprint_sha256,
                "carimbo_do_tempo": seal.timestamped_at.isoformat()
                if seal.timestamped_at
                else None,
            },
        )
        for notify in (notify_contract_all_signed, notify_company_contract_signed):
            enqueue_on_commit(notify, tenant_id=order.tenant_id, order_id=order.pk, seal_id=seal.pk)
    logger.info("Contract of order %s sealed (%s)", trail.order_number, code)
    return seal


def _delete_unused(name: str) -> None:
    """A seal built by the loser of a race (never recorded, never sent)."""
    default_storage.delete(name)


# Timestamp retry ------------------------------------------------------------------------------


def _add_document_timestamp(data: bytes, certificate: SealingCertificate) -> bytes:
    """Validation data for the seal (DSS), then a document timestamp over everything."""
    context = validation_context(certificate)
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    with_dss = add_validation_info(reader.embedded_signatures[0], context)
    writer = IncrementalPdfFileWriter(io.BytesIO(with_dss.getvalue()), strict=False)
    stamped = signers.PdfTimeStamper(_timestamper()).timestamp_pdf(
        writer, "sha256", validation_context=context
    )
    return stamped.getvalue()


def sealed_contract_timestamp(*, seal_id: int) -> bool:
    """Add the timestamp a seal is waiting for. True once it has one (now or before)."""
    with scopes_disabled():
        seal = SealedContract.objects.select_related(
            "certificate", "trail__order__tenant", "tenant"
        ).get(pk=seal_id)
        if not seal.timestamp_pending:
            return True
        if not settings.TSA_URL:
            return False
        with seal.file.open("rb") as stream:
            data = stream.read()
        try:
            stamped = _add_document_timestamp(data, seal.certificate)
        except (*TSA_ERRORS, SigningError) as error:
            SealedContract.objects.filter(pk=seal.pk).update(
                timestamp_attempts=seal.timestamp_attempts + 1,
                timestamp_tried_at=timezone.now(),
                timestamp_error=str(error)[:2000],
            )
            logger.warning("Timestamp for seal %s failed again: %s", seal.verification_code, error)
            return False
        name = _store(stamped, seal.tenant)
        moment = latest_timestamp(stamped)
        with transaction.atomic():
            locked = SealedContract.objects.select_for_update().get(pk=seal.pk)
            if not locked.timestamp_pending:
                transaction.on_commit(lambda: _delete_unused(name))
                return True
            locked.file.name = name
            locked.sha256 = hashlib.sha256(stamped).hexdigest()
            locked.size = len(stamped)
            locked.timestamped_at = moment
            locked.timestamp_pending = False
            locked.timestamp_attempts += 1
            locked.timestamp_tried_at = timezone.now()
            locked.timestamp_error = ""
            locked.save()
            order = seal.trail.order
            if order is not None and locked.voided_at is None:
                with transaction.atomic(using=erp_alias()):
                    _erp_send(order=order, seal=locked, content=stamped, signatures=[], event=False)
            evidence_append(
                trail=seal.trail,
                kind=EventKind.TIMESTAMPED,
                contract_sha256=seal.contract_sha256,
                details={
                    "codigo": seal.verification_code,
                    "carimbo_do_tempo": moment.isoformat() if moment else None,
                    "sha256_selado": seal.sealed_sha256,
                    "sha256": locked.sha256,
                },
            )
    logger.info("Seal %s timestamped at %s", seal.verification_code, moment)
    return True
