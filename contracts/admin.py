from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.urls import path

from contracts.models import Contract, ContractSigner, SignatureMode
from contracts.services import contract_pdf_ensure
from portal.accounts.admin_site import AccessRuleMixin, PortalModelAdmin
from portal.accounts.models import User, normalize_email
from portal.documents.downloads import stored_file_response
from portal.formats import datetime_br

EDIT_SIGNERS = frozenset({"view", "add", "change", "delete"})


def signers_editable(contract: Contract | None) -> bool:
    """Staff designate signers of DIGITAL contracts until the contract is signed."""
    return (
        contract is not None
        and contract.signature_mode == SignatureMode.DIGITAL
        and not contract.is_signed
    )


class ContractSignerForm(forms.ModelForm):
    class Meta:
        model = ContractSigner
        fields = ["email", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Signers named in the ERP come back with every sync: change them in the ERP.
        if self.instance.erp_id is not None:
            for field in self.fields.values():
                field.disabled = True

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        contract = self.instance.contract
        customer = contract.order.customer
        is_login = User.objects.filter(
            tenant_id=contract.tenant_id, customer=customer, email=email, is_active=True
        ).exists()
        if not is_login:
            raise ValidationError(
                f"{email} não é um login ativo do cliente {customer.name}. Crie o login em "
                "Usuários antes de designá-lo."
            )
        return email

    def clean(self):
        cleaned = super().clean()
        self.instance.tenant_id = self.instance.contract.tenant_id
        return cleaned


class ContractSignerFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            if not form.cleaned_data:
                continue
            if self._should_delete_form(form):
                if form.instance.erp_id is not None:
                    raise ValidationError(
                        "Signatários vindos do ERP só podem ser removidos no ERP."
                    )
                continue
            email = form.cleaned_data.get("email")
            if email in seen:
                raise ValidationError(f"{email} aparece mais de uma vez.")
            seen.add(email)


class ContractSignerInline(AccessRuleMixin, admin.TabularInline):
    model = ContractSigner
    form = ContractSignerForm
    formset = ContractSignerFormSet
    fields = ["email", "role", "origin"]
    readonly_fields = ["origin"]
    extra = 1
    staff_actions = EDIT_SIGNERS
    support_actions = EDIT_SIGNERS

    @admin.display(description="origem")
    def origin(self, signer):
        return "ERP" if signer.erp_id is not None else "Portal"

    def may_edit(self, request, action, contract):
        return self.may(request, action) and signers_editable(contract)

    def has_add_permission(self, request, obj=None):
        return self.may_edit(request, "add", obj)

    def has_change_permission(self, request, obj=None):
        return self.may_edit(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self.may_edit(request, "delete", obj)

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if signers_editable(obj) else 0


@admin.register(Contract)
class ContractAdmin(PortalModelAdmin):
    """Mirrored from the ERP: every contract field is read-only; only signers are edited here."""

    staff_actions = frozenset({"view", "change"})
    support_actions = frozenset({"view", "change"})
    list_display = ["title", "order", "customer", "signature_mode", "signed"]
    list_filter = ["signature_mode"]
    list_select_related = ["order__customer", "tenant"]
    search_fields = ["=order__number", "order__customer__name", "title"]
    ordering = ["-order__number"]
    fields = ["title", "order", "customer", "signature_mode", "signed"]
    readonly_fields = fields
    inlines = [ContractSignerInline]

    @admin.display(description="cliente")
    def customer(self, contract):
        return contract.order.customer

    @admin.display(description="assinado em", ordering="signed_at")
    def signed(self, contract):
        return datetime_br(contract.signed_at) or "—"

    def has_change_permission(self, request, obj=None):
        # Saving is how the signer list is posted: only while signers may change.
        if obj is not None and not signers_editable(obj):
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        """Nothing to save: the contract's own fields are read-only (the ERP's)."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.contract_pdf_view)
        return [
            path("<int:pk>/contrato.pdf", view, name="contracts_contract_pdf"),
            *super().get_urls(),
        ]

    def contract_pdf_view(self, request, pk):
        """Staff download of the contract, as the customer gets it (this tenant's only)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        contract = (
            self.get_queryset(request)
            .select_related("order__tenant", "order__customer")
            .filter(pk=pk)
        )
        if not contract:
            raise Http404("Contrato não encontrado.")
        document = contract_pdf_ensure(contract=contract[0])
        return stored_file_response(
            document.file, filename=document.filename, content_type="application/pdf"
        )
