from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from portal.accounts.models import Tenant
from proposals.models import Order


class EvidenceIsAppendOnly(Exception):
    """Signature evidence is never changed or deleted."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise EvidenceIsAppendOnly("Eventos de assinatura não podem ser alterados.")

    def delete(self):
        raise EvidenceIsAppendOnly("Eventos de assinatura não podem ser excluídos.")

    # bulk_update goes through update(); these two write without it.
    def update_or_create(self, *args, **kwargs):
        raise EvidenceIsAppendOnly("Eventos de assinatura não podem ser alterados.")

    def _raw_delete(self, using):
        raise EvidenceIsAppendOnly("Eventos de assinatura não podem ser excluídos.")


AppendOnlyManager = models.Manager.from_queryset(AppendOnlyQuerySet)


class SignatureMode(models.TextChoices):
    MANUAL = "MANUAL", _("Manual (upload do contrato assinado)")
    DIGITAL = "DIGITAL", _("Assinatura digital no portal")


class SignerRole(models.TextChoices):
    PARTY = "PARTE", _("Parte")
    WITNESS = "TESTEMUNHA", _("Testemunha")


class Contract(models.Model):
    """The sales contract of an order, mirrored from erp_pedido_contrato."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, verbose_name="empresa")
    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, related_name="contract", verbose_name="pedido"
    )
    erp_id = models.BigIntegerField("código no ERP")
    title = models.CharField("título", max_length=200)
    content_html = models.TextField("conteúdo (HTML)", blank=True)
    erp_file = models.FileField("arquivo do ERP", upload_to="contracts/%Y/%m/", blank=True)
    erp_file_sha256 = models.CharField("SHA-256 do arquivo do ERP", max_length=64, blank=True)
    signature_mode = models.CharField(
        "assinatura", max_length=7, choices=SignatureMode.choices, default=SignatureMode.MANUAL
    )
    erp_updated_at = models.DateTimeField("atualizado no ERP", null=True, blank=True)
    # Set by the portal when the contract is signed (upload, or every digital signature).
    signed_at = models.DateTimeField("assinado em", null=True, blank=True)
    # When the mirror last found the ERP's contract changed after it was signed (the signature
    # was voided then): the pages tell the customer why it must be signed again.
    signed_voided_at = models.DateTimeField("assinatura anulada em", null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "contrato"
        verbose_name_plural = "contratos"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "erp_id"], name="contract_erp_id_per_tenant")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def changed_after_signing(self) -> bool:
        return self.signed_at is None and self.signed_voided_at is not None


class ContractSigner(models.Model):
    """A customer login designated to sign a DIGITAL contract (erp_contrato_signatario)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, verbose_name="empresa")
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="signers", verbose_name="contrato"
    )
    erp_id = models.BigIntegerField("código no ERP", null=True, blank=True)
    email = models.EmailField("e-mail")
    role = models.CharField("papel", max_length=10, choices=SignerRole.choices)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "signatário"
        verbose_name_plural = "signatários"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "erp_id"],
                condition=models.Q(erp_id__isnull=False),
                name="signer_erp_id_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"


class ContractDocument(models.Model):
    """The contract's HTML (from the ERP) rendered to PDF, kept per version of that HTML."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, verbose_name="empresa")
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="documents", verbose_name="contrato"
    )
    source_sha256 = models.CharField("SHA-256 do HTML", max_length=64)
    file = models.FileField("arquivo", upload_to="contracts/%Y/%m/")
    size = models.BigIntegerField("tamanho")
    sha256 = models.CharField("SHA-256", max_length=64)
    created_at = models.DateTimeField("gerado em")

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "PDF do contrato"
        verbose_name_plural = "PDFs dos contratos"
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "source_sha256"], name="one_contract_pdf_per_source"
            )
        ]

    def __str__(self) -> str:
        return f"PDF do contrato {self.contract_id}"


# Digital signature -------------------------------------------------------------------------
#
# A contract signed in the portal leaves: one SignatureTrail (the chain head), its append-only
# SignatureEvents (every authentication step, hash-chained), one DigitalSignature per signer
# (void when the contract changes), and a SealedContract (the contract plus its evidence page,
# sealed with the tenant's certificate). None of them is deleted with the ERP's rows: the
# links to the contract and the order become NULL and the evidence stays.


class SealingCertificate(models.Model):
    """A tenant's sealing certificate: its PKCS#12 (encrypted in storage) and what it says.

    The PKCS#12 and its password are encrypted with a key derived from SECRET_KEY
    (contracts.pki); nothing here is readable without it. The newest active one seals.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="certificates")
    pkcs12 = models.FileField("PKCS#12 (cifrado)", upload_to="pki/")
    password_encrypted = models.TextField("senha (cifrada)")
    subject = models.CharField("titular", max_length=300)
    issuer = models.CharField("emissor", max_length=300)
    serial = models.CharField("número de série", max_length=80)
    fingerprint_sha256 = models.CharField("impressão digital SHA-256", max_length=64)
    not_before = models.DateTimeField("válido desde")
    not_after = models.DateTimeField("válido até")
    # The certificate and the CA certificates that came with it (PEM): the trust anchors that
    # /verificar/ checks a seal against.
    chain_pem = models.TextField("cadeia (PEM)")
    is_demo = models.BooleanField("de demonstração", default=False)
    is_active = models.BooleanField("em uso", default=True)
    created_at = models.DateTimeField("instalado em")

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "certificado de selo"
        verbose_name_plural = "certificados de selo"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(is_active=True),
                name="one_active_sealing_certificate",
            )
        ]

    def __str__(self) -> str:
        return self.subject


class SignatureTrail(models.Model):
    """The evidence of one contract's digital signing, and the head of its hash chain.

    Appending an event locks this row (contracts.evidence), so the events of one contract get
    consecutive numbers and each names the hash of the one before.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT)
    contract = models.OneToOneField(
        Contract,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="signature_trail",
    )
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    order_number = models.BigIntegerField("pedido nº")
    contract_title = models.CharField("contrato", max_length=200)
    created_at = models.DateTimeField("criada em")
    last_seq = models.PositiveIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "trilha de assinatura"
        verbose_name_plural = "trilhas de assinatura"

    def __str__(self) -> str:
        return f"{self.contract_title} · pedido {self.order_number}"


class EventKind(models.TextChoices):
    SIGNING_REQUESTED = "SOLICITACAO_ENVIADA", "Solicitação de assinatura enviada"
    PASSWORD_CHECKED = "SENHA_CONFERIDA", "Senha conferida"
    PASSWORD_REFUSED = "SENHA_RECUSADA", "Senha recusada"
    CODE_SENT = "CODIGO_ENVIADO", "Código enviado por e-mail"
    CODE_ACCEPTED = "CODIGO_ACEITO", "Código aceito"
    CODE_REFUSED = "CODIGO_RECUSADO", "Código recusado"
    SIGNED = "ASSINATURA", "Assinatura registrada"
    SIGNATURE_VOIDED = "ASSINATURA_ANULADA", "Assinatura anulada"
    SEALED = "SELADO", "Contrato selado"
    TIMESTAMPED = "CARIMBO_DO_TEMPO", "Carimbo do tempo adicionado"
    SEAL_VOIDED = "SELO_ANULADO", "Selo anulado"


class SignatureEvent(models.Model):
    """One step of the evidence. Append-only: no update or delete path exists (the manager
    refuses both, and on PostgreSQL a trigger does too); `hash` covers every field and the
    previous event's hash, so a row edited or removed breaks the chain (contracts.evidence)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT)
    trail = models.ForeignKey(SignatureTrail, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField("nº")
    kind = models.CharField("evento", max_length=20, choices=EventKind.choices)
    created_at = models.DateTimeField("em (UTC)")
    # Not a foreign key: deleting a login must neither touch nor block the evidence.
    user_pk = models.BigIntegerField("usuário (id)", null=True, blank=True)
    email = models.CharField("e-mail", max_length=254, blank=True)
    role = models.CharField("papel", max_length=10, blank=True)
    full_name = models.CharField("nome informado", max_length=200, blank=True)
    cpf = models.CharField("CPF informado", max_length=11, blank=True)
    ip_address = models.CharField("IP", max_length=45, blank=True)
    user_agent = models.TextField("navegador", blank=True)
    consent_text = models.TextField("texto do aceite", blank=True)
    contract_sha256 = models.CharField("SHA-256 do contrato", max_length=64, blank=True)
    contract_version = models.BigIntegerField("versão do pedido", null=True, blank=True)
    details = models.TextField("detalhes (JSON)", default="{}")
    prev_hash = models.CharField("hash anterior", max_length=64)
    hash = models.CharField(max_length=64)

    objects = ScopedManager(tenant="tenant", _manager_class=AppendOnlyManager)

    class Meta:
        verbose_name = "evento de assinatura"
        verbose_name_plural = "eventos de assinatura"
        ordering = ["trail", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["trail", "seq"], name="one_event_per_seq"),
        ]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise EvidenceIsAppendOnly("Eventos de assinatura não podem ser alterados.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise EvidenceIsAppendOnly("Eventos de assinatura não podem ser excluídos.")


class DigitalSignature(models.Model):
    """A designated signer's signature of one version of the contract (void once it changes)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT)
    trail = models.ForeignKey(SignatureTrail, on_delete=models.PROTECT, related_name="signatures")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="usuário",
    )
    email = models.EmailField("e-mail")
    role = models.CharField("papel", max_length=10, choices=SignerRole.choices)
    full_name = models.CharField("nome", max_length=200)
    cpf = models.CharField("CPF", max_length=11)
    signed_at = models.DateTimeField("assinado em")
    ip_address = models.GenericIPAddressField("IP", null=True, blank=True)
    user_agent = models.TextField("navegador", blank=True)
    contract_sha256 = models.CharField("SHA-256 do contrato", max_length=64)
    # What the contract was made of when signed (contracts.services.contract_source_key).
    contract_source = models.CharField(max_length=64)
    order_version = models.BigIntegerField("versão do pedido")
    voided_at = models.DateTimeField("anulada em", null=True, blank=True)
    void_reason = models.CharField("motivo da anulação", max_length=300, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "assinatura digital"
        verbose_name_plural = "assinaturas digitais"
        ordering = ["signed_at", "id"]
        constraints = [
            # Double submit, two tabs: the second signature of the same signer cannot exist.
            models.UniqueConstraint(
                fields=["trail", "email"],
                condition=models.Q(voided_at__isnull=True),
                name="one_live_signature_per_signer",
            )
        ]

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


SIGNING_CODE_MINUTES = 10
SIGNING_CODE_TRIES = 5


class SigningCode(models.Model):
    """The one-time code e-mailed to a signer, with what they typed before it (one per signer:
    asking again replaces it). Only its HMAC is kept."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    trail = models.ForeignKey(SignatureTrail, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code_hmac = models.CharField(max_length=64)
    full_name = models.CharField(max_length=200)
    cpf = models.CharField(max_length=11)
    contract_sha256 = models.CharField(max_length=64)
    contract_source = models.CharField(max_length=64)
    order_version = models.BigIntegerField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trail", "user"], name="one_signing_code_per_signer")
        ]

    @property
    def tries_left(self) -> int:
        return max(0, SIGNING_CODE_TRIES - self.attempts)


class SealedContract(models.Model):
    """The "Contrato Assinado" of a digital signature: the contract and its evidence page,
    sealed (PAdES) with the tenant's certificate. Its files are evidence: never deleted."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT)
    trail = models.ForeignKey(SignatureTrail, on_delete=models.PROTECT, related_name="seals")
    certificate = models.ForeignKey(
        SealingCertificate, on_delete=models.PROTECT, related_name="+", verbose_name="certificado"
    )
    verification_code = models.CharField("código de verificação", max_length=14, unique=True)
    contract_sha256 = models.CharField("SHA-256 do contrato", max_length=64)
    contract_source = models.CharField(max_length=64)
    # The file as sealed: what the approval binds (its SHA-256 is on the Approval).
    sealed_file = models.FileField(upload_to="sealed/%Y/%m/")
    sealed_sha256 = models.CharField("SHA-256 do contrato selado", max_length=64)
    # The file served: the sealed one, or it plus a document timestamp added later.
    file = models.FileField(upload_to="sealed/%Y/%m/")
    sha256 = models.CharField("SHA-256 do arquivo", max_length=64)
    size = models.BigIntegerField("tamanho")
    sealed_at = models.DateTimeField("selado em")
    timestamped_at = models.DateTimeField("carimbo do tempo", null=True, blank=True)
    timestamp_pending = models.BooleanField("carimbo do tempo pendente", default=False)
    timestamp_attempts = models.PositiveIntegerField(default=0)
    timestamp_tried_at = models.DateTimeField(null=True, blank=True)
    timestamp_error = models.TextField(blank=True)
    voided_at = models.DateTimeField("anulado em", null=True, blank=True)
    void_reason = models.CharField("motivo da anulação", max_length=300, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "contrato selado"
        verbose_name_plural = "contratos selados"
        constraints = [
            models.UniqueConstraint(
                fields=["trail"],
                condition=models.Q(voided_at__isnull=True),
                name="one_live_seal_per_trail",
            )
        ]

    def __str__(self) -> str:
        return self.verification_code

    @property
    def download_name(self) -> str:
        return f"contrato-assinado-{self.trail.order_number}.pdf"
