from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from portal.accounts.models import Tenant


class NotificationKind(models.TextChoices):
    # To the customer's users
    PROPOSAL_CREATED = "proposal_created", "Nova proposta (clientes)"
    SIGNATURE_REQUESTED = "signature_requested", "Assinatura solicitada (signatários)"
    SIGNATURE_CODE = "signature_code", "Código de assinatura (signatários)"
    SIGNATURE_REMINDER = "signature_reminder", "Lembrete de assinatura pendente (signatários)"
    SIGNATURE_VOIDED = "signature_voided", "Assinatura anulada: o contrato mudou (signatários)"
    CONTRACT_ALL_SIGNED = "contract_all_signed", "Contrato assinado por todos (clientes)"
    APPROVAL_CONFIRMATION = "approval_confirmation", "Confirmação de aprovação (clientes)"
    STATUS_CHANGED = "status_changed", "Virou pedido ou foi cancelado (clientes)"
    PROPOSAL_EXPIRING = "proposal_expiring", "Proposta perto do vencimento (clientes)"
    # To the company's notification e-mail
    COMPANY_CONTRACT_UPLOADED = "company_contract_uploaded", "Contrato assinado enviado (empresa)"
    COMPANY_CONTRACT_SIGNED = "company_contract_signed", "Contrato assinado digitalmente (empresa)"
    COMPANY_PROPOSAL_APPROVED = "company_proposal_approved", "Proposta aprovada (empresa)"
    COMPANY_PROPOSAL_DECLINED = "company_proposal_declined", "Proposta recusada (empresa)"


# Codes and confirmations always go, whatever a user unsubscribed from (and so does the news
# that a signature the user gave no longer counts).
ESSENTIAL = frozenset(
    {
        NotificationKind.SIGNATURE_CODE,
        NotificationKind.SIGNATURE_VOIDED,
        NotificationKind.CONTRACT_ALL_SIGNED,
        NotificationKind.APPROVAL_CONFIRMATION,
    }
)
# Without the code nobody can sign: the company cannot turn it off.
ALWAYS_ON = frozenset({NotificationKind.SIGNATURE_CODE})


class NotificationSettings(models.Model):
    """A tenant's e-mail settings (admin): which notifications go, and from whom."""

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="notification_settings"
    )
    sender_name = models.CharField(
        "nome do remetente",
        max_length=120,
        blank=True,
        help_text="Em branco: o nome de exibição da empresa.",
    )
    reply_to = models.EmailField(
        "responder para", blank=True, help_text="Em branco: o e-mail da empresa."
    )
    # Kinds turned off (a new kind of notification starts on).
    disabled_kinds = models.JSONField("desligadas", default=list, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "configuração de e-mails"
        verbose_name_plural = "configurações de e-mails"

    def __str__(self) -> str:
        return f"E-mails de {self.tenant}"

    def is_on(self, kind: str) -> bool:
        return kind in ALWAYS_ON or kind not in self.disabled_kinds


class MailOptOut(models.Model):
    """A user who unsubscribed from non-essential e-mail (one click, from any message)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_opt_out"
    )
    created_at = models.DateTimeField("descadastrado em", auto_now_add=True)

    class Meta:
        verbose_name = "descadastro de e-mails"
        verbose_name_plural = "descadastros de e-mails"


class SentMail(models.Model):
    """One e-mail of one event to one recipient: the row that makes it go once.

    A task that runs twice finds the row sent (`sent_at`) and sends nothing; while one task
    sends, its claim (`claimed_until`) keeps a concurrent run of the same task off it.
    """

    # Indexed by one_mail_per_event and sentmail_recent, which lead with it.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, db_index=False)
    kind = models.CharField("tipo", max_length=40, choices=NotificationKind.choices)
    event_key = models.CharField("evento", max_length=200)
    recipient = models.EmailField("destinatário")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="usuário",
    )
    subject = models.CharField("assunto", max_length=300)
    created_at = models.DateTimeField("criado em", auto_now_add=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField("enviado em", null=True, blank=True)
    attempts = models.IntegerField("tentativas", default=0)
    last_error = models.TextField("último erro", blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "e-mail enviado"
        verbose_name_plural = "e-mails enviados"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "event_key", "recipient"], name="one_mail_per_event"
            )
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="sentmail_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}"
