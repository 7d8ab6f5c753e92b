"""The ERP's tables (the contract in erp_sync/sql/), as unmanaged models.

The ERP owns them: migrations never touch them, `manage.py erp_schema create` installs them.
The portal writes only approval columns of erp_pedido, PORTAL rows of erp_pedido_anexo and
erp_portal_evento. Optional columns are nullable, as the ERP may leave them (DESIGN.md lists the
required ones); the mirror reads a NULL text as empty and a NULL amount as zero.
"""

from django.db import models
from django.utils import timezone

MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 14, "decimal_places": 4}


class ErpCliente(models.Model):
    id = models.BigAutoField(primary_key=True)
    empresa_id = models.BigIntegerField()
    nome = models.CharField(max_length=200)
    cpf_cnpj = models.CharField(max_length=18, null=True)
    email = models.CharField(max_length=254, null=True)
    ativo = models.BooleanField(default=True, null=True)
    versao = models.BigIntegerField(default=1)
    atualizado_em = models.DateTimeField(default=timezone.now)

    class Meta:
        managed = False
        db_table = "erp_cliente"


class ErpPedido(models.Model):
    id = models.BigAutoField(primary_key=True)
    empresa_id = models.BigIntegerField()
    cliente = models.ForeignKey(
        ErpCliente, on_delete=models.DO_NOTHING, db_constraint=False, related_name="pedidos"
    )
    numero = models.BigIntegerField()
    status = models.CharField(max_length=3)
    emitido_em = models.DateField()
    validade = models.DateField(null=True)
    vendedor = models.CharField(max_length=120, null=True)
    forma_pagamento = models.CharField(max_length=120, null=True)
    condicao_pagamento = models.CharField(max_length=200, null=True)
    observacoes = models.TextField(null=True)
    valor_produtos = models.DecimalField(null=True, **MONEY)
    valor_servicos = models.DecimalField(null=True, **MONEY)
    desconto = models.DecimalField(null=True, **MONEY)
    frete = models.DecimalField(null=True, **MONEY)
    valor_total = models.DecimalField(null=True, **MONEY)
    aprovado_em = models.DateTimeField(null=True)
    aprovado_por = models.CharField(max_length=254, null=True)
    versao = models.BigIntegerField(default=1)
    atualizado_em = models.DateTimeField(default=timezone.now)

    class Meta:
        managed = False
        db_table = "erp_pedido"


class ErpPedidoItem(models.Model):
    id = models.BigAutoField(primary_key=True)
    pedido = models.ForeignKey(
        ErpPedido, on_delete=models.DO_NOTHING, db_constraint=False, related_name="itens"
    )
    sequencia = models.IntegerField()
    tipo = models.CharField(max_length=1)
    codigo = models.CharField(max_length=60, null=True)
    descricao = models.CharField(max_length=300)
    unidade = models.CharField(max_length=10, null=True)
    quantidade = models.DecimalField(**QUANTITY)
    valor_unitario = models.DecimalField(**QUANTITY)
    desconto = models.DecimalField(null=True, **MONEY)
    valor_total = models.DecimalField(**MONEY)
    informacoes = models.TextField(null=True)

    class Meta:
        managed = False
        db_table = "erp_pedido_item"


class ErpPedidoParcela(models.Model):
    id = models.BigAutoField(primary_key=True)
    pedido = models.ForeignKey(
        ErpPedido, on_delete=models.DO_NOTHING, db_constraint=False, related_name="parcelas"
    )
    numero = models.IntegerField()
    vencimento = models.DateField()
    valor = models.DecimalField(**MONEY)

    class Meta:
        managed = False
        db_table = "erp_pedido_parcela"


class ErpPedidoContrato(models.Model):
    id = models.BigAutoField(primary_key=True)
    pedido = models.OneToOneField(
        ErpPedido, on_delete=models.DO_NOTHING, db_constraint=False, related_name="contrato"
    )
    titulo = models.CharField(max_length=200)
    conteudo_html = models.TextField(null=True)
    arquivo = models.BinaryField(null=True)
    assinatura = models.CharField(max_length=7, default="MANUAL")
    atualizado_em = models.DateTimeField(default=timezone.now)

    class Meta:
        managed = False
        db_table = "erp_pedido_contrato"


class ErpContratoSignatario(models.Model):
    id = models.BigAutoField(primary_key=True)
    contrato = models.ForeignKey(
        ErpPedidoContrato,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="signatarios",
    )
    email = models.CharField(max_length=254)
    papel = models.CharField(max_length=10)

    class Meta:
        managed = False
        db_table = "erp_contrato_signatario"


class ErpPedidoAnexo(models.Model):
    id = models.BigAutoField(primary_key=True)
    pedido = models.ForeignKey(
        ErpPedido, on_delete=models.DO_NOTHING, db_constraint=False, related_name="anexos"
    )
    tipo = models.CharField(max_length=20)
    nome = models.CharField(max_length=255)
    mime = models.CharField(max_length=100)
    conteudo = models.BinaryField()
    sha256 = models.CharField(max_length=64, null=True)
    origem = models.CharField(max_length=6)
    criado_em = models.DateTimeField(default=timezone.now, null=True)

    class Meta:
        managed = False
        db_table = "erp_pedido_anexo"


class ErpPortalEvento(models.Model):
    id = models.BigAutoField(primary_key=True)
    empresa_id = models.BigIntegerField()
    pedido_id = models.BigIntegerField(null=True)
    tipo = models.CharField(max_length=20)
    dados = models.TextField(default="{}", null=True)
    criado_em = models.DateTimeField(default=timezone.now, null=True)

    class Meta:
        managed = False
        db_table = "erp_portal_evento"


class SyncState(models.Model):
    """The mirror's health per tenant, written by the follower, shown to staff and customers."""

    tenant = models.OneToOneField(
        "accounts.Tenant",
        on_delete=models.CASCADE,
        related_name="sync_state",
        verbose_name="empresa",
    )
    last_success_at = models.DateTimeField("última sincronização", null=True, blank=True)
    last_error_at = models.DateTimeField("último erro em", null=True, blank=True)
    last_error = models.TextField("último erro", blank=True)
    orders_mirrored = models.IntegerField("pedidos espelhados", default=0)
    last_changed = models.IntegerField("alterações na última passada", default=0)
    # From the ERP's atualizado_em of the oldest change in the last pass that mirrored one.
    last_lag_ms = models.IntegerField("atraso ERP → portal (ms)", default=0)
    # Set by the tenant's first complete pass: what that pass finds is the initial load, and
    # only proposals mirrored after it are announced to the customer as new.
    first_pass_at = models.DateTimeField("primeira sincronização completa", null=True, blank=True)

    class Meta:
        verbose_name = "sincronização com o ERP"
        verbose_name_plural = "sincronização com o ERP"

    def __str__(self) -> str:
        return f"{self.tenant}"

    @property
    def is_failing(self) -> bool:
        """The last attempt failed: what the portal shows may be out of date."""
        return self.last_error_at is not None and (
            self.last_success_at is None or self.last_error_at > self.last_success_at
        )


class SkippedRecord(models.Model):
    """An ERP row the mirror could not take (malformed): skipped, shown on the sync page, and
    tried again on every pass until it goes through (then this record goes)."""

    class Kind(models.TextChoices):
        ORDER = "pedido", "Pedido"
        CUSTOMER = "cliente", "Cliente"

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="skipped_records"
    )
    kind = models.CharField("tipo", max_length=7, choices=Kind.choices)
    erp_id = models.BigIntegerField("id no ERP")
    label = models.CharField("registro", max_length=200)
    error = models.TextField("motivo")
    first_seen_at = models.DateTimeField("ignorado desde")
    last_seen_at = models.DateTimeField("última tentativa")

    class Meta:
        verbose_name = "registro ignorado"
        verbose_name_plural = "registros ignorados"
        ordering = ["kind", "erp_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "erp_id"], name="one_skipped_record_per_erp_row"
            )
        ]

    def __str__(self) -> str:
        return self.label
