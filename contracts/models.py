from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from portal.accounts.models import Tenant
from proposals.models import Order


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
