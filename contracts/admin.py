import json

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from contracts.evidence import evidence_chain_verify
from contracts.formats import device_summary
from contracts.models import (
    Contract,
    ContractSigner,
    DigitalSignature,
    SealedContract,
    SealingCertificate,
    SignatureEvent,
    SignatureMode,
    SignatureTrail,
)
from contracts.pki import CertificateRefused, sealing_certificate_install
from contracts.selectors import contract_signer_emails_pending
from contracts.services import contract_pdf_ensure
from contracts.signing import signing_request_send
from portal.accounts.admin_site import (
    AccessRuleMixin,
    PortalModelAdmin,
    ReadOnlyModelAdmin,
    ReadOnlyTabularInline,
)
from portal.accounts.models import User, normalize_email
from portal.documents.downloads import stored_file_response
from portal.formats import cpf_masked, datetime_br, datetime_seconds_br, datetime_utc

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
    fields = ["email", "role", "origin", "login", "state"]
    readonly_fields = ["origin", "login", "state"]
    extra = 1
    staff_actions = EDIT_SIGNERS
    support_actions = EDIT_SIGNERS

    @admin.display(description="origem")
    def origin(self, signer):
        return "ERP" if signer.erp_id is not None else "Portal"

    @admin.display(description="login")
    def login(self, signer):
        """A designated e-mail without a login cannot sign: staff invite it."""
        if not signer.pk:
            return ""
        contract = signer.contract
        exists = User.objects.filter(
            tenant_id=contract.tenant_id,
            customer_id=contract.order.customer_id,
            email__iexact=signer.email,
            is_active=True,
        ).exists()
        if exists:
            return "sim"
        url = reverse("admin:accounts_user_add")
        return format_html(
            'sem login — <a href="{}?email={}&customer={}">convidar</a>',
            url,
            signer.email,
            contract.order.customer_id,
        )

    @admin.display(description="assinatura")
    def state(self, signer):
        if not signer.pk or signer.contract.signature_mode != SignatureMode.DIGITAL:
            return ""
        signature = DigitalSignature.objects.filter(
            trail__contract=signer.contract, email=signer.email, voided_at__isnull=True
        ).first()
        return f"assinado em {datetime_br(signature.signed_at)}" if signature else "pendente"

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
    fields = ["title", "order", "customer", "signature_mode", "signed", "evidence"]
    readonly_fields = fields
    inlines = [ContractSignerInline]
    actions = ["resend_signing_request"]

    @admin.display(description="assinatura digital")
    def evidence(self, contract):
        trail = SignatureTrail.objects.filter(contract=contract).first()
        if trail is None:
            return "—"
        links = [
            format_html(
                '<a href="{}">evidências ({} eventos)</a>',
                reverse("admin:contracts_signaturetrail_change", args=[trail.pk]),
                trail.last_seq,
            )
        ]
        seal = SealedContract.objects.filter(trail=trail, voided_at__isnull=True).first()
        if seal is not None:
            links.append(
                format_html(
                    '<a href="{}">{}</a> (código {})',
                    reverse("admin:contracts_sealedcontract_download", args=[seal.pk]),
                    seal.download_name,
                    seal.verification_code,
                )
            )
        return format_html(" · ".join(["{}"] * len(links)), *links)

    @admin.action(
        description="Reenviar a solicitação de assinatura aos signatários pendentes",
        permissions=["change"],
    )
    def resend_signing_request(self, request, queryset):
        sent = 0
        for contract in queryset.select_related("order__tenant", "tenant"):
            for email in sorted(contract_signer_emails_pending(contract=contract)):
                signing_request_send(contract=contract, email=email)
                sent += 1
        self.message_user(request, f"Solicitação reenviada a {sent} signatário(s) pendente(s).")

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


# Digital signature -------------------------------------------------------------------------


class DigitalSignatureInline(ReadOnlyTabularInline):
    """Each signer's signature of the contract, live or void (the evidence is on the trail)."""

    model = DigitalSignature
    fields = ["full_name", "email", "role", "masked_cpf", "signed", "ip_address", "state"]
    readonly_fields = ["masked_cpf", "signed", "state"]
    verbose_name_plural = "assinaturas digitais"

    @admin.display(description="CPF")
    def masked_cpf(self, signature):
        return cpf_masked(signature.cpf)

    @admin.display(description="assinado em")
    def signed(self, signature):
        return datetime_br(signature.signed_at)

    @admin.display(description="situação")
    def state(self, signature):
        if signature.voided_at is None:
            return "válida"
        return f"anulada em {datetime_br(signature.voided_at)}: {signature.void_reason}"


class SignatureEventInline(ReadOnlyTabularInline):
    """The evidence, as recorded. No add, change or delete: it is append-only."""

    model = SignatureEvent
    fields = ["seq", "kind", "when", "email", "role", "ip_address", "device", "summary", "hash"]
    readonly_fields = ["when", "device", "summary"]
    ordering = ["seq"]

    @admin.display(description="em")
    def when(self, event):
        return f"{datetime_seconds_br(event.created_at)} ({datetime_utc(event.created_at)})"

    @admin.display(description="dispositivo")
    def device(self, event):
        return device_summary(event.user_agent) if event.user_agent else ""

    @admin.display(description="detalhes")
    def summary(self, event):
        parts = []
        if event.full_name:
            parts.append(f"{event.full_name}, CPF {cpf_masked(event.cpf)}")
        if event.contract_sha256:
            parts.append(f"contrato {event.contract_sha256[:16]}…")
        parts.extend(f"{key}: {value}" for key, value in json.loads(event.details).items())
        return "; ".join(str(p) for p in parts)


class SealedContractInline(ReadOnlyTabularInline):
    model = SealedContract
    fields = ["download", "verification_code", "sealed", "timestamp", "state"]
    readonly_fields = ["download", "sealed", "timestamp", "state"]
    verbose_name_plural = "contratos selados"

    @admin.display(description="arquivo")
    def download(self, seal):
        url = reverse("admin:contracts_sealedcontract_download", args=[seal.pk])
        return format_html('<a href="{}">{}</a>', url, seal.download_name)

    @admin.display(description="selado em")
    def sealed(self, seal):
        return datetime_br(seal.sealed_at)

    @admin.display(description="carimbo do tempo")
    def timestamp(self, seal):
        if seal.timestamped_at:
            return datetime_seconds_br(seal.timestamped_at)
        return "pendente (TSA fora do ar)" if seal.timestamp_pending else "—"

    @admin.display(description="situação")
    def state(self, seal):
        if seal.voided_at is None:
            return "válido"
        return f"anulado em {datetime_br(seal.voided_at)}: {seal.void_reason}"


@admin.register(SignatureTrail)
class SignatureTrailAdmin(ReadOnlyModelAdmin):
    """The evidence of each contract's digital signing. Kept when the ERP deletes the order."""

    list_display = ["order_number", "contract_title", "created", "events_count"]
    search_fields = ["=order_number", "contract_title"]
    ordering = ["-created_at"]
    fields = ["order_number", "contract_title", "contract", "created", "chain"]
    readonly_fields = fields
    inlines = [DigitalSignatureInline, SealedContractInline, SignatureEventInline]

    @admin.display(description="criada em", ordering="created_at")
    def created(self, trail):
        return datetime_br(trail.created_at)

    @admin.display(description="eventos", ordering="last_seq")
    def events_count(self, trail):
        return trail.last_seq

    @admin.display(description="cadeia de hashes")
    def chain(self, trail):
        report = evidence_chain_verify(trail=trail)
        if report.intact:
            return f"íntegra: {report.events} eventos, último hash {trail.last_hash}"
        return "ROMPIDA: " + " ".join(report.problems)


@admin.register(SealedContract)
class SealedContractAdmin(ReadOnlyModelAdmin):
    list_display = ["verification_code", "order_number", "sealed", "timestamp", "state"]
    list_select_related = ["trail"]
    search_fields = ["verification_code", "=trail__order_number"]
    ordering = ["-sealed_at"]
    fields = [
        "verification_code",
        "order_number",
        "download",
        "sealed",
        "timestamp",
        "state",
        "sealed_sha256",
        "sha256",
        "contract_sha256",
        "certificate",
    ]
    readonly_fields = fields

    @admin.display(description="pedido nº", ordering="trail__order_number")
    def order_number(self, seal):
        return seal.trail.order_number

    download = SealedContractInline.download
    sealed = SealedContractInline.sealed
    timestamp = SealedContractInline.timestamp
    state = SealedContractInline.state

    def get_urls(self):
        view = self.admin_site.admin_view(self.download_view)
        return [
            path("<int:pk>/arquivo.pdf", view, name="contracts_sealedcontract_download"),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        """Staff download of the sealed PDF (this tenant's only; every tenant's for support)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        seal = self.get_queryset(request).select_related("trail").filter(pk=pk).first()
        if seal is None:
            raise Http404("Contrato selado não encontrado.")
        return stored_file_response(
            seal.file, filename=seal.download_name, content_type="application/pdf"
        )


class SealingCertificateForm(forms.ModelForm):
    """Support installs a tenant's PKCS#12: it is checked, then kept encrypted."""

    arquivo = forms.FileField(label="PKCS#12 (.p12 / .pfx)")
    senha = forms.CharField(label="senha do PKCS#12", strip=False, widget=forms.PasswordInput)

    class Meta:
        model = SealingCertificate
        fields = ["tenant"]

    def clean(self):
        cleaned = super().clean()
        upload, password = cleaned.get("arquivo"), cleaned.get("senha")
        if upload is None or password is None or cleaned.get("tenant") is None:
            return cleaned
        if upload.size > 1024 * 1024:
            raise ValidationError("O arquivo é grande demais para um PKCS#12.")
        try:
            self.installed = sealing_certificate_install(
                tenant=cleaned["tenant"], pkcs12_data=upload.read(), password=password
            )
        except CertificateRefused as refused:
            raise ValidationError(refused.message) from refused
        return cleaned


@admin.register(SealingCertificate)
class SealingCertificateAdmin(PortalModelAdmin):
    """Staff see their certificate and when it expires; support installs them."""

    staff_actions = frozenset({"view"})
    support_actions = frozenset({"view", "add"})
    list_display = ["subject", "issuer", "expires", "days_left", "is_active", "is_demo"]
    list_filter = ["is_active", "is_demo"]
    ordering = ["-is_active", "not_after"]
    fields = [
        "subject",
        "issuer",
        "serial",
        "fingerprint_sha256",
        "valid_from",
        "expires",
        "days_left",
        "is_active",
        "is_demo",
    ]
    readonly_fields = fields

    @admin.display(description="válido desde", ordering="not_before")
    def valid_from(self, certificate):
        return datetime_br(certificate.not_before)

    @admin.display(description="vence em", ordering="not_after")
    def expires(self, certificate):
        return datetime_br(certificate.not_after)

    @admin.display(description="dias até vencer")
    def days_left(self, certificate):
        days = (certificate.not_after - timezone.now()).days
        return f"VENCIDO há {-days} dias" if days < 0 else days

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SealingCertificateForm
            kwargs["fields"] = ["tenant", "arquivo", "senha"]
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["tenant", "arquivo", "senha"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        """Installed (and saved) while the form was cleaned."""
        obj.pk = form.installed.pk

    def response_add(self, request, obj, post_url_continue=None):
        return redirect("admin:contracts_sealingcertificate_change", obj.pk)
