"""Checking a sealed "Contrato Assinado" for /verificar/: pyHanko's validation, in plain pt-BR.

A PDF passes when its seal is intact, made with one of this tenant's sealing certificates
(chaining to that certificate's CA), and nothing but validation data and timestamps was added
after it. The result names the signers (name, role, time, masked CPF) and nothing else about
the customer. Validation uses only what the file and the portal hold: it fetches nothing.
"""

import hashlib
import io
import logging
from dataclasses import dataclass, field

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko_certvalidator import ValidationContext

from contracts import pki
from contracts.formats import verification_code_normalize
from contracts.models import DigitalSignature, SealedContract, SealingCertificate
from portal import formats
from portal.accounts.models import Tenant

logger = logging.getLogger(__name__)

VALID = "valido"
ALTERED = "alterado"
MODIFIED = "modificado"
FOREIGN = "desconhecido"
UNSIGNED = "sem-selo"
UNREADABLE = "ilegivel"

HEADLINES = {
    VALID: "Documento íntegro: selado por este portal e sem alterações depois do selo.",
    ALTERED: "Documento alterado: o conteúdo não confere com o selo digital.",
    MODIFIED: "O selo é autêntico, mas o documento recebeu alterações depois dele.",
    FOREIGN: "Este PDF não foi selado por este portal.",
    UNSIGNED: "Este PDF não tem selo digital.",
    UNREADABLE: "O arquivo não é um PDF legível.",
}
UNCHANGED_LEVELS = {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES}


@dataclass(frozen=True)
class SignerLine:
    name: str
    role: str
    signed_at: object
    cpf: str


@dataclass(frozen=True)
class Verification:
    verdict: str
    seal: SealedContract | None = None
    intact: bool = False
    trusted: bool = False
    ours: bool = False
    sealed_at: object = None
    certificate_subject: str = ""
    timestamp_at: object = None
    timestamp_trusted: bool = False
    timestamp_kind: str = ""
    modification: str = ""
    ltv: bool = False
    same_file: bool = False
    signers: list[SignerLine] = field(default_factory=list)
    report: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == VALID

    @property
    def headline(self) -> str:
        return HEADLINES[self.verdict]


def _trust(tenant: Tenant, reader: PdfFileReader) -> tuple[ValidationContext, set[str], bool]:
    roots, sealers = pki.tenant_trust_anchors(tenant=tenant)
    options = {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "soft-fail"}
    try:
        store = DocumentSecurityStore.read_dss(reader)
    except Exception:  # no DSS (NoDSSFoundError) or a broken one: validate without it
        return ValidationContext(**options), sealers, False
    return store.as_validation_context(options), sealers, True


def _modification(status) -> tuple[str, bool]:
    level = status.modification_level
    if level is None:
        return "Não foi possível analisar as alterações posteriores ao selo.", False
    if level == ModificationLevel.NONE and status.coverage.name == "ENTIRE_FILE":
        return "Nenhuma alteração depois do selo.", True
    if level in UNCHANGED_LEVELS and status.docmdp_ok:
        return (
            "Depois do selo foram acrescentados apenas dados de validação e carimbos do tempo, "
            "o que não altera o conteúdo.",
            True,
        )
    return "O documento foi modificado depois do selo (atualização incremental do PDF).", False


def _signers(seal: SealedContract | None) -> list[SignerLine]:
    if seal is None:
        return []
    signatures = DigitalSignature.objects.filter(
        trail_id=seal.trail_id, signed_at__lte=seal.sealed_at
    ).exclude(voided_at__lt=seal.sealed_at)
    return [
        SignerLine(s.full_name, s.get_role_display(), s.signed_at, formats.cpf_masked(s.cpf))
        for s in signatures.order_by("role", "signed_at")
    ]


def _certificate_name(tenant: Tenant, fingerprint: str) -> str:
    record = SealingCertificate.objects.filter(
        tenant=tenant, fingerprint_sha256=fingerprint
    ).first()
    return f"{record.subject}, emitido por {record.issuer}" if record else ""


def _seal_record(tenant: Tenant, field_name: str | None) -> SealedContract | None:
    if not field_name or not field_name.startswith("Selo-"):
        return None
    code = verification_code_normalize(field_name.removeprefix("Selo-"))
    return (
        SealedContract.objects.filter(tenant=tenant, verification_code=code)
        .select_related("trail")
        .first()
    )


def verify_pdf(*, tenant: Tenant, content: bytes) -> Verification:
    """Validate a PDF that claims to be a "Contrato Assinado" of this tenant."""
    try:
        reader = PdfFileReader(io.BytesIO(content), strict=False)
        embedded = reader.embedded_signatures
    except Exception:  # not a PDF, or one pyHanko cannot parse
        return Verification(UNREADABLE)
    seals = [s for s in embedded if s.sig_object_type == "/Sig"]
    if not seals:
        return Verification(UNSIGNED)
    seal_signature = seals[0]
    context, sealers, ltv = _trust(tenant, reader)
    try:
        status = validate_pdf_signature(
            seal_signature, signer_validation_context=context, ts_validation_context=context
        )
    except Exception:
        logger.info("Seal validation raised on an uploaded PDF", exc_info=True)
        return Verification(ALTERED)
    signer_fingerprint = pki.fingerprint(seal_signature.signer_cert)
    ours = signer_fingerprint in sealers
    record = _seal_record(tenant, seal_signature.field_name) if ours else None
    modification, unchanged = _modification(status)
    timestamp_at, timestamp_trusted, timestamp_kind = None, False, ""
    if status.timestamp_validity is not None:
        timestamp_at = status.timestamp_validity.timestamp
        timestamp_trusted = status.timestamp_validity.valid and status.timestamp_validity.trusted
        timestamp_kind = "do selo"
    for document_stamp in (s for s in embedded if s.sig_object_type == "/DocTimeStamp"):
        try:
            stamp = validate_pdf_timestamp(document_stamp, validation_context=context)
        except Exception:
            continue
        if timestamp_at is None and stamp.valid and stamp.intact:
            timestamp_at, timestamp_trusted, timestamp_kind = (
                stamp.timestamp,
                stamp.trusted,
                ("de documento"),
            )
    if not status.intact or not status.valid:
        verdict = ALTERED
    elif not (ours and status.trusted):
        verdict = FOREIGN
    elif not unchanged:
        verdict = MODIFIED
    else:
        verdict = VALID
    digest = hashlib.sha256(content).hexdigest()
    return Verification(
        verdict=verdict,
        seal=record,
        intact=status.intact,
        trusted=status.trusted,
        ours=ours,
        sealed_at=status.signer_reported_dt,
        certificate_subject=_certificate_name(tenant, signer_fingerprint) if ours else "",
        timestamp_at=timestamp_at,
        timestamp_trusted=timestamp_trusted,
        timestamp_kind=timestamp_kind,
        modification=modification,
        ltv=ltv,
        same_file=record is not None and digest in (record.sha256, record.sealed_sha256),
        signers=_signers(record) if verdict in (VALID, MODIFIED) else [],
        report=status.pretty_print_details(),
    )


def verify_stored(*, seal: SealedContract) -> Verification:
    """The sealed file the portal keeps, checked the same way (the code's page)."""
    with seal.file.open("rb") as stream:
        return verify_pdf(tenant=seal.tenant, content=stream.read())
