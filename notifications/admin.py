from django import forms
from django.contrib import admin

from notifications.models import ALWAYS_ON, NotificationKind, NotificationSettings, SentMail
from portal.accounts.admin_site import (
    VIEW_ONLY,
    PortalModelAdmin,
    ReadOnlyModelAdmin,
    is_support_admin,
)
from portal.formats import datetime_br

SWITCHABLE = [(kind.value, kind.label) for kind in NotificationKind if kind not in ALWAYS_ON]


class NotificationSettingsForm(forms.ModelForm):
    enabled = forms.MultipleChoiceField(
        label="avisos enviados",
        choices=SWITCHABLE,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="O código de assinatura sempre é enviado: sem ele ninguém assina.",
    )

    class Meta:
        model = NotificationSettings
        fields = ["tenant", "sender_name", "reply_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        disabled = set(self.instance.disabled_kinds or [])
        self.fields["enabled"].initial = [kind for kind, _ in SWITCHABLE if kind not in disabled]

    def save(self, commit=True):
        enabled = set(self.cleaned_data["enabled"])
        self.instance.disabled_kinds = [kind for kind, _ in SWITCHABLE if kind not in enabled]
        return super().save(commit)


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(PortalModelAdmin):
    """Each company's e-mail settings: staff edit their own, support any company's."""

    staff_actions = frozenset({"view", "add", "change"})
    form = NotificationSettingsForm
    list_display = ["__str__", "sender_name", "reply_to"]

    def get_fields(self, request, obj=None):
        fields = ["sender_name", "reply_to", "enabled"]
        return ["tenant", *fields] if is_support_admin(request) else fields

    def get_readonly_fields(self, request, obj=None):
        return ["tenant"] if obj is not None else []

    def has_add_permission(self, request, obj=None):
        if not super().has_add_permission(request, obj):
            return False
        # Staff: one row for their company.
        return is_support_admin(request) or not self.get_queryset(request).exists()

    def save_model(self, request, obj, form, change):
        if not is_support_admin(request):
            obj.tenant = request.tenant
        super().save_model(request, obj, form, change)


@admin.register(SentMail)
class SentMailAdmin(ReadOnlyModelAdmin):
    """What went out (or is waiting for the mail server), newest first."""

    staff_actions = VIEW_ONLY
    list_display = ["created", "kind", "recipient", "subject", "sent", "attempts"]
    list_filter = ["kind"]
    search_fields = ["recipient", "subject", "event_key"]
    ordering = ["-created_at"]
    fields = [
        "kind",
        "recipient",
        "user",
        "subject",
        "event_key",
        "created",
        "sent",
        "attempts",
        "last_error",
    ]
    readonly_fields = fields

    @admin.display(description="criado em", ordering="created_at")
    def created(self, mail):
        return datetime_br(mail.created_at)

    @admin.display(description="enviado em", ordering="sent_at")
    def sent(self, mail):
        return datetime_br(mail.sent_at) if mail.sent_at else "aguardando o servidor de e-mail"
