from datetime import date

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from portal.accounts.models import Customer, Tenant

MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 14, "decimal_places": 4}


class OrderStatus(models.TextChoices):
    PROPOSAL = "PRO", _("Proposta")
    APPROVED = "APR", _("Aprovado — aguardando faturamento")
    ORDER = "PED", _("Pedido")
    CANCELLED = "CAN", _("Cancelado")


class ItemKind(models.TextChoices):
    PRODUCT = "P", _("Produto")
    SERVICE = "S", _("Serviço")


# An open proposal with no validade comes after every dated one.
NO_DEADLINE = date(9999, 12, 31)


def proposal_deadline() -> Coalesce:
    """The order's validade, or NO_DEADLINE: one sortable date (and one index) for both."""
    return Coalesce("valid_until", models.Value(NO_DEADLINE))


class Order(models.Model):
    """A proposal or order, mirrored from erp_pedido (the ERP is the source of truth)."""

    # No single-column indexes on these two: the unique constraints lead with tenant, the keyset
    # indexes with customer, and the mirror writes every index of every row it copies.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, db_index=False, verbose_name="empresa"
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="orders",
        db_index=False,
        verbose_name="cliente",
    )
    erp_id = models.BigIntegerField("código no ERP")
    number = models.BigIntegerField("número")
    status = models.CharField("status", max_length=3, choices=OrderStatus.choices)
    issued_on = models.DateField("emissão")
    valid_until = models.DateField("validade", null=True, blank=True)
    salesperson = models.CharField("vendedor", max_length=120, blank=True)
    payment_method = models.CharField("forma de pagamento", max_length=120, blank=True)
    payment_terms = models.CharField("condição de pagamento", max_length=200, blank=True)
    notes = models.TextField("observações", blank=True)
    products_total = models.DecimalField("valor dos produtos", default=0, **MONEY)
    services_total = models.DecimalField("valor dos serviços", default=0, **MONEY)
    discount = models.DecimalField("desconto", default=0, **MONEY)
    freight = models.DecimalField("frete", default=0, **MONEY)
    total = models.DecimalField("valor total", default=0, **MONEY)
    approved_at = models.DateTimeField("aprovado em", null=True, blank=True)
    approved_by = models.CharField("aprovado por", max_length=254, blank=True)
    erp_version = models.BigIntegerField("versão no ERP")
    erp_updated_at = models.DateTimeField("atualizado no ERP", null=True, blank=True)
    # Number, texts and items' texts without accents, in lower case (proposals.search): what
    # the PEDIDOS search matches, on both databases; PostgreSQL adds a trigram index (0006).
    search_text = models.TextField("texto de busca", blank=True, default="")
    # Deleted in the ERP: gone from the customer's pages (every selector skips it), kept with its
    # approval, uploads, contract and history as evidence, for staff and support in admin.
    removed_at = models.DateTimeField("removido do ERP em", null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "pedido"
        verbose_name_plural = "pedidos"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "erp_id"], name="order_erp_id_per_tenant"),
            # A number the ERP freed (its order deleted) may come back on another order.
            models.UniqueConstraint(
                fields=["tenant", "number"],
                condition=models.Q(removed_at__isnull=True),
                name="order_number_per_tenant",
            ),
        ]
        indexes = [
            # Keyset pagination of a customer's orders: newest issue date first, then number.
            models.Index(
                fields=["customer", "-issued_on", "-number"], name="order_customer_issued"
            ),
            models.Index(
                fields=["customer", "status", "-issued_on", "-number"],
                name="order_customer_status_issued",
            ),
            # PAINEL's "Aguardam sua ação": a customer's open proposals, nearest deadline first
            # (a heavy customer has thousands; the page reads the first few).
            models.Index(
                models.F("customer"),
                proposal_deadline(),
                models.F("issued_on").desc(),
                models.F("number").desc(),
                condition=models.Q(status="PRO", removed_at__isnull=True),
                name="order_customer_open_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.number}"

    def days_to_expiry(self, today: date) -> int | None:
        """Days left to approve this proposal (0: its last day; negative: expired), or None
        when it is not an open proposal or has no validade."""
        if self.status != OrderStatus.PROPOSAL or self.valid_until is None:
            return None
        return (self.valid_until - today).days


class OrderItem(models.Model):
    # Indexed by item_erp_id_per_tenant, which leads with it.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, db_index=False, verbose_name="empresa"
    )
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="items", verbose_name="pedido"
    )
    erp_id = models.BigIntegerField("código no ERP")
    sequence = models.IntegerField("item")
    kind = models.CharField("tipo", max_length=1, choices=ItemKind.choices)
    code = models.CharField("código", max_length=60, blank=True)
    description = models.CharField("descrição", max_length=300)
    unit = models.CharField("unidade", max_length=10, blank=True)
    quantity = models.DecimalField("quantidade", **QUANTITY)
    unit_price = models.DecimalField("valor unitário", **QUANTITY)
    discount = models.DecimalField("desconto", default=0, **MONEY)
    total = models.DecimalField("valor total", **MONEY)
    notes = models.TextField("informações", blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "item"
        verbose_name_plural = "itens"
        ordering = ["sequence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "erp_id"], name="item_erp_id_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.sequence}. {self.description}"


class Installment(models.Model):
    # Indexed by installment_erp_id_per_tenant, which leads with it.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, db_index=False, verbose_name="empresa"
    )
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="installments", verbose_name="pedido"
    )
    erp_id = models.BigIntegerField("código no ERP")
    number = models.IntegerField("parcela")
    due_date = models.DateField("vencimento")
    amount = models.DecimalField("valor", **MONEY)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "parcela"
        ordering = ["number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "erp_id"], name="installment_erp_id_per_tenant"
            )
        ]

    def __str__(self) -> str:
        return f"Parcela {self.number}"


class AttachmentKind(models.TextChoices):
    PROPOSAL = "PROPOSTA", _("Proposta")
    SIGNED_CONTRACT = "CONTRATO_ASSINADO", _("Contrato Assinado")
    OTHER = "OUTRO", _("Outro")


class AttachmentOrigin(models.TextChoices):
    ERP = "ERP", "ERP"
    PORTAL = "PORTAL", "Portal"


class Attachment(models.Model):
    """A file of an order, kept in storage (never a public URL; see the download view)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, verbose_name="empresa")
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="attachments", verbose_name="pedido"
    )
    erp_id = models.BigIntegerField("código no ERP", null=True, blank=True)
    kind = models.CharField("tipo", max_length=20, choices=AttachmentKind.choices)
    origin = models.CharField("origem", max_length=6, choices=AttachmentOrigin.choices)
    name = models.CharField("nome", max_length=255)
    mime = models.CharField("tipo do arquivo", max_length=100)
    size = models.BigIntegerField("tamanho")
    sha256 = models.CharField("SHA-256", max_length=64)
    file = models.FileField("arquivo", upload_to="attachments/%Y/%m/")
    created_at = models.DateTimeField("criado em")
    # Files the customer sent (origin PORTAL): who sent each, and from where.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="enviado por",
    )
    uploaded_from = models.GenericIPAddressField("enviado do IP", null=True, blank=True)
    # A "Contrato Assinado" the customer sent for a contract the ERP changed afterwards: kept as
    # history, never counted (erp_sync's mirror sets it).
    voided_at = models.DateTimeField("anulado em", null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "anexo"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "erp_id"],
                condition=models.Q(erp_id__isnull=False),
                name="attachment_erp_id_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ProposalDocument(models.Model):
    """The proposal PDF of one order version: rendered once (proposals.documents), then served."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, verbose_name="empresa")
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="proposal_documents", verbose_name="pedido"
    )
    erp_version = models.BigIntegerField("versão do pedido")
    file = models.FileField("arquivo", upload_to="proposals/%Y/%m/")
    size = models.BigIntegerField("tamanho")
    sha256 = models.CharField("SHA-256", max_length=64)
    created_at = models.DateTimeField("gerado em")

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "PDF da proposta"
        verbose_name_plural = "PDFs das propostas"
        constraints = [
            models.UniqueConstraint(
                fields=["order", "erp_version"], name="one_proposal_pdf_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"PDF da proposta {self.order.number}"


class OrderSnapshot(models.Model):
    """What a customer could have seen: one per mirrored version of an order."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, verbose_name="empresa")
    # Indexed by one_snapshot_per_version, which leads with it.
    order = models.ForeignKey(
        Order,
        on_delete=models.CASCADE,
        related_name="snapshots",
        db_index=False,
        verbose_name="pedido",
    )
    erp_version = models.BigIntegerField("versão no ERP")
    data = models.JSONField("dados")
    created_at = models.DateTimeField("guardada em", auto_now_add=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "versão do pedido"
        verbose_name_plural = "versões do pedido"
        constraints = [
            models.UniqueConstraint(
                fields=["order", "erp_version"], name="one_snapshot_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"Pedido {self.order.number}, versão {self.erp_version}"


class StatusChange(models.Model):
    """A status the mirror saw the ERP set (the order's timeline)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, verbose_name="empresa")
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="status_changes", verbose_name="pedido"
    )
    from_status = models.CharField("de", max_length=3, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField("para", max_length=3, choices=OrderStatus.choices)
    changed_at = models.DateTimeField("quando")
    erp_version = models.BigIntegerField("versão no ERP")

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "mudança de status"
        verbose_name_plural = "mudanças de status"
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_to_status_display()} ({self.order.number})"


class Approval(models.Model):
    """Evidence of a customer's approval. One per order: the constraint makes it idempotent."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, verbose_name="empresa")
    # Evidence: nothing deletes an approved order (the mirror marks it removed).
    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="approval", verbose_name="pedido"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="usuário"
    )
    approved_at = models.DateTimeField("aprovado em")
    ip_address = models.GenericIPAddressField("IP", null=True, blank=True)
    user_agent = models.TextField("navegador", blank=True)
    order_version = models.BigIntegerField("versão aprovada")
    proposal_sha256 = models.CharField("SHA-256 da proposta", max_length=64, blank=True)
    signed_contract_sha256 = models.CharField(
        "SHA-256 do contrato assinado", max_length=64, blank=True
    )

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "aprovação"
        verbose_name_plural = "aprovações"

    def __str__(self) -> str:
        return f"Aprovação da proposta {self.order.number}"


class Decline(models.Model):
    """A customer's RECUSAR PROPOSTA: who, when, why, and which version they saw.

    The ERP decides what follows (a new version, a cancellation); one decline per version.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, verbose_name="empresa")
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="declines", verbose_name="pedido"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="usuário"
    )
    declined_at = models.DateTimeField("recusado em")
    reason = models.TextField("motivo")
    ip_address = models.GenericIPAddressField("IP", null=True, blank=True)
    user_agent = models.TextField("navegador", blank=True)
    order_version = models.BigIntegerField("versão recusada")

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "recusa"
        verbose_name_plural = "recusas"
        ordering = ["declined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "order_version"], name="one_decline_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"Recusa da proposta {self.order.number}"
