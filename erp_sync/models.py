"""The ERP's tables (the contract in erp_sync/sql/), as unmanaged models.

The ERP owns them: migrations never touch them, `manage.py erp_schema create` installs them.
The portal writes only approval columns of erp_pedido, PORTAL rows of erp_pedido_anexo and
erp_portal_evento.
"""

from django.db import models
from django.utils import timezone

MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 14, "decimal_places": 4}


class ErpCliente(models.Model):
    id = models.BigAutoField(primary_key=True)
    empresa_id = models.BigIntegerField()
    nome = models.CharField(max_length=200)
    cpf_cnpj = models.CharField(max_length=18, default="")
    email = models.CharField(max_length=254, default="")
    ativo = models.BooleanField(default=True)
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
    vendedor = models.CharField(max_length=120, default="")
    forma_pagamento = models.CharField(max_length=120, default="")
    condicao_pagamento = models.CharField(max_length=200, default="")
    observacoes = models.TextField(default="")
    valor_produtos = models.DecimalField(default=0, **MONEY)
    valor_servicos = models.DecimalField(default=0, **MONEY)
    desconto = models.DecimalField(default=0, **MONEY)
    frete = models.DecimalField(default=0, **MONEY)
    valor_total = models.DecimalField(default=0, **MONEY)
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
    codigo = models.CharField(max_length=60, default="")
    descricao = models.CharField(max_length=300)
    unidade = models.CharField(max_length=10, default="")
    quantidade = models.DecimalField(**QUANTITY)
    valor_unitario = models.DecimalField(**QUANTITY)
    desconto = models.DecimalField(default=0, **MONEY)
    valor_total = models.DecimalField(**MONEY)
    informacoes = models.TextField(default="")

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
    sha256 = models.CharField(max_length=64)
    origem = models.CharField(max_length=6)
    criado_em = models.DateTimeField(default=timezone.now)

    class Meta:
        managed = False
        db_table = "erp_pedido_anexo"


class ErpPortalEvento(models.Model):
    id = models.BigAutoField(primary_key=True)
    empresa_id = models.BigIntegerField()
    pedido_id = models.BigIntegerField(null=True)
    tipo = models.CharField(max_length=20)
    dados = models.TextField(default="{}")
    criado_em = models.DateTimeField(default=timezone.now)

    class Meta:
        managed = False
        db_table = "erp_portal_evento"


class SyncState(models.Model):
    """The mirror's health per tenant, written by the follower, shown to staff and customers."""

    tenant = models.OneToOneField(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="sync_state"
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
