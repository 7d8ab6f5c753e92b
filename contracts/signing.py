"""Writes of the digital signature: the two steps a signer takes, voiding on change, e-mails.

Step 1 (`signing_start`): the signer has read the contract, ticked the consent, typed name and
CPF and their password again; the password is checked and a 6-digit code goes to their e-mail.
Step 2 (`signing_confirm`): the right code, within 10 minutes and 5 tries, signs. Every step,
accepted or refused, is an evidence event (contracts.evidence). When the last designated signer
signs, the contract is sealed on the task queue after the commit (contracts.tasks).

Each step locks the contract's trail, so a double submit, two tabs or a stale page make one
signature: the second finds it already there (and a unique constraint backs that up).
"""

import datetime
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contracts.evidence import evidence_append, signature_trail_for
from contracts.models import (
    SIGNING_CODE_MINUTES,
    SIGNING_CODE_TRIES,
    Contract,
    DigitalSignature,
    EventKind,
    SealedContract,
    SignatureMode,
    SignatureTrail,
    SigningCode,
)
from contracts.selectors import (
    DigitalSigning,
    contract_signer_emails_pending,
    digital_signing_for,
)
from contracts.services import contract_pdf_ensure, contract_source_key
from contracts.tasks import contract_seal_task
from notifications.tasks import (
    notify_signature_code,
    notify_signature_requested,
    notify_signature_voided,
)
from portal.accounts.models import User
from portal.accounts.selectors import tenant_absolute_url
from portal.background.queue import enqueue_on_commit
from portal.formats import date_br
from proposals.models import OrderStatus

logger = logging.getLogger(__name__)

CONSENT_TEXT = (
    "Li o contrato acima e concordo com os seus termos. Aceito assiná-lo eletronicamente neste "
    "portal e reconheço esta assinatura eletrônica como válida e vinculante entre as partes, "
    "nos termos do art. 10, § 2º, da Medida Provisória nº 2.200-2/2001, que admite meios de "
    "comprovação da autoria e da integridade de documentos eletrônicos aceitos pelas partes, e "
    "da Lei nº 14.063/2020."
)
PRIVACY_TEXT = (
    "Para comprovar esta assinatura, o portal registra o nome e o CPF que você informar, o seu "
    "e-mail, o endereço IP e o navegador usados, a data e a hora de cada etapa e o resultado da "
    "conferência da senha e do código enviado por e-mail. Esses dados servem apenas como prova "
    "da celebração do contrato (LGPD, Lei nº 13.709/2018, art. 7º, V e VI), são guardados junto "
    "com o contrato e aparecem com o CPF mascarado na folha de evidências do Contrato Assinado."
)
PASSWORD_FAILURES_ALLOWED = 5
PASSWORD_FAILURE_WINDOW_MINUTES = 15


class SigningRefused(Exception):
    """Nothing was signed; the message (pt-BR) says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Signer:
    """Who acts, and from where (the evidence of each step)."""

    user: User
    ip_address: str | None
    user_agent: str

    def evidence(self, role: str) -> dict:
        return {
            "user_pk": self.user.pk,
            "email": self.user.email,
            "role": role,
            "ip_address": self.ip_address or "",
            "user_agent": self.user_agent,
        }


@dataclass(frozen=True)
class SigningResult:
    signature: DigitalSignature
    created: bool  # False: this signer's signature was already there (double submit)
    complete: bool  # every designated signer has signed: the seal follows


def _code_hmac(code: str, trail: SignatureTrail, user: User) -> str:
    key = f"{settings.SECRET_KEY}:signing-code:{trail.pk}:{user.pk}".encode()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def _state(contract: Contract, user: User) -> DigitalSigning:
    state = digital_signing_for(contract=contract, user=user)
    if state is None or state.me is None:
        raise SigningRefused(_("Você não é signatário deste contrato."))
    return state


def _check_open(state: DigitalSigning) -> None:
    if state.me.signature is not None:
        raise SigningRefused(
            _("Sua assinatura deste contrato já está registrada (%(date)s).")
            % {"date": date_br(state.me.signature.signed_at)}
        )
    if not state.is_open:
        raise SigningRefused(
            _("Esta proposta não está mais aberta: o contrato não pode ser assinado.")
        )


def _recent_password_failures(trail: SignatureTrail, user: User) -> int:
    since = timezone.now() - datetime.timedelta(minutes=PASSWORD_FAILURE_WINDOW_MINUTES)
    return trail.events.filter(
        kind=EventKind.PASSWORD_REFUSED, user_pk=user.pk, created_at__gte=since
    ).count()


def signing_start(
    *,
    contract: Contract,
    signer: Signer,
    full_name: str,
    cpf: str,
    password: str,
    seen_sha256: str = "",
) -> SigningCode:
    """Step 1: check the password again and e-mail a new code (replacing any earlier one).

    Expects `contract.order` with its tenant and approval. `seen_sha256`: the SHA-256 of the
    contract PDF the page showed (a stale page is refused); empty when the form did not say.
    """
    user = signer.user
    state = _state(contract, user)
    _check_open(state)
    document = contract_pdf_ensure(contract=contract)
    if seen_sha256 and seen_sha256 != document.sha256:
        raise SigningRefused(
            _(
                "O contrato mudou desde que esta página foi aberta. Leia a versão atual abaixo "
                "antes de assinar: nada foi registrado."
            )
        )
    trail = signature_trail_for(contract=contract)
    if _recent_password_failures(trail, user) >= PASSWORD_FAILURES_ALLOWED:
        raise SigningRefused(
            _("Senha incorreta muitas vezes seguidas. Aguarde 15 minutos e tente novamente.")
        )
    role = state.me.role
    base = {**signer.evidence(role), "full_name": full_name, "cpf": cpf}
    version = contract.order.erp_version
    with transaction.atomic():
        if not user.check_password(password):
            evidence_append(
                trail=trail,
                kind=EventKind.PASSWORD_REFUSED,
                contract_sha256=document.sha256,
                contract_version=version,
                **base,
            )
            refused = True
        else:
            refused = False
            code = f"{secrets.randbelow(10**6):06d}"
            now = timezone.now()
            challenge, _created = SigningCode.objects.update_or_create(
                trail=trail,
                user=user,
                defaults={
                    "tenant_id": contract.tenant_id,
                    "code_hmac": _code_hmac(code, trail, user),
                    "full_name": full_name,
                    "cpf": cpf,
                    "contract_sha256": document.sha256,
                    "contract_source": contract_source_key(contract),
                    "order_version": version,
                    "created_at": now,
                    "expires_at": now + datetime.timedelta(minutes=SIGNING_CODE_MINUTES),
                    "attempts": 0,
                    "used_at": None,
                },
            )
            evidence_append(
                trail=trail,
                kind=EventKind.PASSWORD_CHECKED,
                contract_sha256=document.sha256,
                contract_version=version,
                **base,
            )
            evidence_append(
                trail=trail,
                kind=EventKind.CODE_SENT,
                contract_sha256=document.sha256,
                contract_version=version,
                details={
                    "enviado_para": user.email,
                    "valido_ate": challenge.expires_at.isoformat(),
                    "tentativas": SIGNING_CODE_TRIES,
                },
                **base,
            )
            enqueue_on_commit(
                notify_signature_code,
                tenant_id=contract.tenant_id,
                order_id=contract.order_id,
                user_id=user.pk,
                challenge_id=challenge.pk,
                expires_at=challenge.expires_at.isoformat(),
                code=code,
                valid_minutes=SIGNING_CODE_MINUTES,
            )
    if refused:
        # The refusal is evidence too: it was committed above, nothing else was.
        raise SigningRefused(_("Senha incorreta. Digite a senha com que você entra no portal."))
    return challenge


def signing_code_discard(*, contract: Contract, user: User) -> None:
    """The signer asks for a new code: the pending one stops working."""
    SigningCode.objects.filter(trail__contract=contract, user=user, used_at__isnull=True).delete()


def _code_refusal(challenge: SigningCode | None, now) -> str | None:
    if challenge is None or challenge.used_at is not None:
        return _("Não há código pendente. Preencha o formulário para receber um novo código.")
    if challenge.expires_at <= now:
        return _(
            "O código expirou (vale %(minutes)s minutos). Peça um novo código: nada foi assinado."
        ) % {"minutes": SIGNING_CODE_MINUTES}
    if challenge.attempts >= SIGNING_CODE_TRIES:
        return _(
            "O código foi digitado errado %(tries)s vezes e deixou de valer. "
            "Peça um novo código: nada foi assinado."
        ) % {"tries": SIGNING_CODE_TRIES}
    return None


def signing_confirm(*, contract: Contract, signer: Signer, code: str) -> SigningResult:
    """Step 2: the right code signs (once). Expects `contract.order` with tenant and approval."""
    user = signer.user
    state = _state(contract, user)
    if not state.is_open:
        raise SigningRefused(
            _("Esta proposta não está mais aberta: o contrato não pode ser assinado.")
        )
    trail = signature_trail_for(contract=contract)
    role = state.me.role
    refusal = None
    with transaction.atomic():
        SignatureTrail.objects.select_for_update().get(pk=trail.pk)
        existing = DigitalSignature.objects.filter(
            trail=trail, email=state.me.email, voided_at__isnull=True
        ).first()
        if existing is not None:
            return SigningResult(existing, created=False, complete=_complete(contract, trail))
        challenge = SigningCode.objects.select_for_update().filter(trail=trail, user=user).first()
        now = timezone.now()
        refusal = _code_refusal(challenge, now)
        if refusal is None and challenge.contract_source != contract_source_key(contract):
            refusal = _(
                "O contrato foi alterado depois que o código foi enviado. Leia a versão atual e "
                "peça um novo código: nada foi assinado."
            )
        evidence = {
            **signer.evidence(role),
            "full_name": challenge.full_name if challenge else "",
            "cpf": challenge.cpf if challenge else "",
            "contract_sha256": challenge.contract_sha256 if challenge else "",
            "contract_version": challenge.order_version if challenge else None,
        }
        if refusal is None and not hmac.compare_digest(
            challenge.code_hmac, _code_hmac(code, trail, user)
        ):
            challenge.attempts += 1
            challenge.save(update_fields=["attempts"])
            evidence_append(
                trail=trail,
                kind=EventKind.CODE_REFUSED,
                details={"tentativa": challenge.attempts, "de": SIGNING_CODE_TRIES},
                **evidence,
            )
            left = challenge.tries_left
            refusal = (
                ngettext(
                    "Código incorreto. Você ainda tem %(num)s tentativa.",
                    "Código incorreto. Você ainda tem %(num)s tentativas.",
                    left,
                )
                % {"num": left}
                if left
                else _code_refusal(challenge, now)
            )
        elif refusal is None:
            challenge.used_at = now
            challenge.save(update_fields=["used_at"])
            evidence_append(
                trail=trail,
                kind=EventKind.CODE_ACCEPTED,
                details={"tentativa": challenge.attempts + 1, "de": SIGNING_CODE_TRIES},
                **evidence,
            )
            signature = DigitalSignature.objects.create(
                tenant_id=contract.tenant_id,
                trail=trail,
                user=user,
                email=state.me.email,
                role=role,
                full_name=challenge.full_name,
                cpf=challenge.cpf,
                signed_at=now,
                ip_address=signer.ip_address or None,
                user_agent=signer.user_agent[:1000],
                contract_sha256=challenge.contract_sha256,
                contract_source=challenge.contract_source,
                order_version=challenge.order_version,
            )
            evidence_append(
                trail=trail,
                kind=EventKind.SIGNED,
                consent_text=CONSENT_TEXT,
                details={"aceite": True, "privacidade": PRIVACY_TEXT},
                **evidence,
            )
            complete = _complete(contract, trail)
            if complete:
                enqueue_on_commit(contract_seal_task, trail_id=trail.pk)
            return SigningResult(signature, created=True, complete=complete)
    raise SigningRefused(refusal)


def _complete(contract: Contract, trail: SignatureTrail) -> bool:
    """Every designated signer has a live signature of the contract as it is now."""
    designated = {s.email.lower() for s in contract.signers.all()}
    if not designated:
        return False
    signed = set(
        DigitalSignature.objects.filter(
            trail=trail, voided_at__isnull=True, contract_source=contract_source_key(contract)
        ).values_list("email", flat=True)
    )
    return designated <= signed


# Change after signing -------------------------------------------------------------------------


def _void_reason(signature: DigitalSignature, contract: Contract, designated: dict) -> str:
    if contract.signature_mode != SignatureMode.DIGITAL:
        return "O contrato deixou de ser assinado digitalmente no portal."
    if signature.contract_source != contract_source_key(contract):
        return "O contrato foi alterado pela empresa depois desta assinatura."
    if designated.get(signature.email) is None:
        return "O e-mail deixou de ser signatário deste contrato."
    if designated[signature.email] != signature.role:
        return "O papel do signatário neste contrato mudou."
    return ""


def contract_signing_reconcile(*, contract: Contract) -> list[DigitalSignature]:
    """After the ERP changed a contract (or its signers): void the signatures and the seal that
    no longer match it (kept, marked void, as evidence), tell those signers, and seal if the
    signatures that remain now complete it. Only while the proposal is open: an approval binds
    the sealed contract it was made on. Returns the signatures voided."""
    trail = SignatureTrail.objects.filter(contract=contract).first()
    order = contract.order
    if trail is None or order.status != OrderStatus.PROPOSAL:
        return []
    voided = []
    with transaction.atomic():
        SignatureTrail.objects.select_for_update().get(pk=trail.pk)
        designated = {s.email.lower(): s.role for s in contract.signers.all()}
        now = timezone.now()
        for signature in DigitalSignature.objects.filter(trail=trail, voided_at__isnull=True):
            reason = _void_reason(signature, contract, designated)
            if not reason:
                continue
            signature.voided_at, signature.void_reason = now, reason
            signature.save(update_fields=["voided_at", "void_reason"])
            evidence_append(
                trail=trail,
                kind=EventKind.SIGNATURE_VOIDED,
                user_pk=signature.user_id,
                email=signature.email,
                role=signature.role,
                full_name=signature.full_name,
                cpf=signature.cpf,
                contract_sha256=signature.contract_sha256,
                contract_version=order.erp_version,
                details={"motivo": reason, "assinada_em": signature.signed_at.isoformat()},
            )
            voided.append(signature)
        seal = SealedContract.objects.filter(trail=trail, voided_at__isnull=True).first()
        live = set(
            DigitalSignature.objects.filter(trail=trail, voided_at__isnull=True).values_list(
                "email", flat=True
            )
        )
        if seal is not None and (voided or live != set(designated)):
            reason = "O contrato ou os seus signatários mudaram depois do selo."
            seal.voided_at, seal.void_reason = now, reason
            seal.save(update_fields=["voided_at", "void_reason"])
            evidence_append(
                trail=trail,
                kind=EventKind.SEAL_VOIDED,
                contract_sha256=seal.contract_sha256,
                contract_version=order.erp_version,
                details={"motivo": reason, "codigo": seal.verification_code},
            )
        if contract.signed_at is not None and (seal is not None and seal.voided_at is not None):
            contract.signed_at = None
            contract.save(update_fields=["signed_at"])
        # A code sent for the old text no longer signs anything.
        SigningCode.objects.filter(trail=trail, used_at__isnull=True).exclude(
            contract_source=contract_source_key(contract)
        ).delete()
        if (
            contract.signature_mode == SignatureMode.DIGITAL
            and not SealedContract.objects.filter(trail=trail, voided_at__isnull=True).exists()
            and _complete(contract, trail)
        ):
            enqueue_on_commit(contract_seal_task, trail_id=trail.pk)
        for signature in voided:
            enqueue_on_commit(
                notify_signature_voided,
                tenant_id=contract.tenant_id,
                order_id=order.pk,
                signature_id=signature.pk,
                contract_sha256=contract_source_key(contract),
            )
    return voided


def signing_requests_queue(
    *, contract: Contract, only=None, skip=frozenset(), resend: str = ""
) -> set[str]:
    """Ask each designated signer with a login who has not signed this version of the contract
    (once per signer and version: the mail's key; `resend` asks again). `only`: these e-mails
    alone; `skip`: e-mails told otherwise (a voided signature's mail asks them already).
    Returns the e-mails asked."""
    order = contract.order
    if contract.signature_mode != SignatureMode.DIGITAL or order.status != OrderStatus.PROPOSAL:
        return set()
    pending = contract_signer_emails_pending(contract=contract) - set(skip)
    if only is not None:
        pending &= set(only)
    signers = User.objects.filter(
        tenant_id=contract.tenant_id,
        customer_id=order.customer_id,
        email__in=pending,
        is_active=True,
    )
    source = contract_source_key(contract)
    for user in signers:
        enqueue_on_commit(
            notify_signature_requested,
            tenant_id=contract.tenant_id,
            order_id=order.pk,
            user_id=user.pk,
            contract_sha256=source,
            resend=resend,
        )
    return {user.email for user in signers}


# E-mail ------------------------------------------------------------------------------------


def _sign_url(contract: Contract) -> str:
    path = reverse("contract_sign", args=[contract.order.number])
    return tenant_absolute_url(tenant=contract.tenant, path=path)


def signing_request_send(*, contract: Contract, email: str) -> None:
    """Ask a designated signer again (staff, from admin): a login of the customer gets the
    signing request mail (notifications; the reminders count from it), an address with no login
    yet a plain invitation with the signing page's address."""
    asked = signing_requests_queue(
        contract=contract, only={email}, resend=timezone.now().isoformat()
    )
    if not asked:
        _invite(contract=contract, email=email)
    trail = signature_trail_for(contract=contract)
    with transaction.atomic():
        evidence_append(
            trail=trail,
            kind=EventKind.SIGNING_REQUESTED,
            email=email,
            details={"para": email},
        )


def _invite(*, contract: Contract, email: str) -> None:
    tenant = contract.tenant
    message = EmailMessage(
        subject=f"Assinatura solicitada: contrato do pedido {contract.order.number}",
        body=render_to_string(
            "contracts/email/signing_request.txt",
            {
                "company": tenant.brand_name,
                "number": contract.order.number,
                "title": contract.title,
                "url": _sign_url(contract),
            },
        ),
        to=[email],
        reply_to=[tenant.email] if tenant.email else None,
    )
    try:
        message.send()
    except Exception:
        logger.exception("Could not invite %s to sign contract %s", email, contract.pk)
