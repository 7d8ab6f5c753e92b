from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from portal.accounts.admin_site import ReadOnlyModelAdmin, ReadOnlyTabularInline
from portal.documents.downloads import stored_file_response
from portal.formats import brl, date_br, datetime_br, quantity_br
from proposals.documents import proposal_pdf_filename, proposal_pdf_to_serve
from proposals.models import (
    Approval,
    Attachment,
    Installment,
    Order,
    OrderItem,
    StatusChange,
)


class OrderItemInline(ReadOnlyTabularInline):
    model = OrderItem
    fields = ["sequence", "kind", "code", "description", "unit", "qty", "price", "amount", "notes"]
    readonly_fields = ["qty", "price", "amount"]

    @admin.display(description="quantidade")
    def qty(self, item):
        return quantity_br(item.quantity)

    @admin.display(description="valor unitário")
    def price(self, item):
        return brl(item.unit_price)

    @admin.display(description="valor total")
    def amount(self, item):
        return brl(item.total)


class InstallmentInline(ReadOnlyTabularInline):
    model = Installment
    fields = ["number", "due", "value"]
    readonly_fields = ["due", "value"]

    @admin.display(description="vencimento")
    def due(self, installment):
        return date_br(installment.due_date)

    @admin.display(description="valor")
    def value(self, installment):
        return brl(installment.amount)


class AttachmentInline(ReadOnlyTabularInline):
    # Files have no public URL: the link is OrderAdmin's download view, which checks access.
    model = Attachment
    fields = ["kind", "download", "origin", "size", "created", "uploaded_by", "uploaded_from"]
    readonly_fields = ["download", "created"]

    @admin.display(description="nome")
    def download(self, attachment):
        url = reverse("admin:proposals_order_attachment", args=[attachment.order_id, attachment.pk])
        return format_html('<a href="{}">{}</a>', url, attachment.name)

    @admin.display(description="criado em")
    def created(self, attachment):
        return datetime_br(attachment.created_at)


class StatusChangeInline(ReadOnlyTabularInline):
    model = StatusChange
    verbose_name_plural = "histórico de status"
    fields = ["from_status", "to_status", "changed", "erp_version"]
    readonly_fields = ["changed"]

    @admin.display(description="quando")
    def changed(self, change):
        return datetime_br(change.changed_at)


class ErpPresenceFilter(admin.SimpleListFilter):
    """Orders the ERP deleted stay here (evidence) but never on the customer's pages."""

    title = "no ERP"
    parameter_name = "no_erp"

    def lookups(self, request, model_admin):
        return [("ativos", "Presentes no ERP"), ("removidos", "Removidos do ERP")]

    def queryset(self, request, queryset):
        if self.value() == "ativos":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "removidos":
            return queryset.filter(removed_at__isnull=False)
        return queryset


@admin.register(Order)
class OrderAdmin(ReadOnlyModelAdmin):
    list_display = [
        "number",
        "customer",
        "status",
        "issued",
        "valid",
        "total_brl",
        "approved",
        "erp_presence",
    ]
    list_filter = ["status", ErpPresenceFilter]
    list_select_related = ["customer", "tenant"]
    search_fields = ["=number", "customer__name", "customer__cpf_cnpj"]
    ordering = ["-number"]
    show_full_result_count = False
    inlines = [OrderItemInline, InstallmentInline, AttachmentInline, StatusChangeInline]
    fieldsets = [
        (None, {"fields": ["number", "customer", "status", "issued", "valid", "salesperson"]}),
        ("Pagamento", {"fields": ["payment_method", "payment_terms"]}),
        (
            "Valores",
            {
                "fields": [
                    "products_brl",
                    "services_brl",
                    "discount_brl",
                    "freight_brl",
                    "total_brl",
                ]
            },
        ),
        ("Documentos", {"fields": ["documents"]}),
        ("Aprovação", {"fields": ["approved", "approved_by", "approval_evidence"]}),
        ("ERP", {"fields": ["erp_id", "erp_version", "erp_presence", "notes"]}),
    ]
    readonly_fields = [
        "issued",
        "valid",
        "products_brl",
        "services_brl",
        "discount_brl",
        "freight_brl",
        "total_brl",
        "approved",
        "documents",
        "approval_evidence",
        "erp_presence",
    ]

    def get_urls(self):
        """Staff downloads: the same files and headers as the customer's, for this tenant."""
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/proposta.pdf",
                view(self.proposal_pdf_view),
                name="proposals_order_proposal_pdf",
            ),
            path(
                "<int:pk>/anexos/<int:attachment_id>/",
                view(self.attachment_view),
                name="proposals_order_attachment",
            ),
            *super().get_urls(),
        ]

    def _order(self, request, pk) -> Order:
        if not self.has_view_permission(request):
            raise PermissionDenied
        # get_queryset is the request's scope: the tenant's own orders (all, for support).
        order = (
            self.get_queryset(request)
            .select_related("tenant", "customer", "approval")
            .filter(pk=pk)
        )
        if not order:
            raise Http404("Pedido não encontrado.")
        return order[0]

    def proposal_pdf_view(self, request, pk):
        order = self._order(request, pk)
        document = proposal_pdf_to_serve(order=order)
        return stored_file_response(
            document.file,
            filename=proposal_pdf_filename(order),
            content_type="application/pdf",
        )

    def attachment_view(self, request, pk, attachment_id):
        attachment = self._order(request, pk).attachments.filter(pk=attachment_id).first()
        if attachment is None:
            raise Http404("Anexo não encontrado.")
        return stored_file_response(
            attachment.file, filename=attachment.name, content_type=attachment.mime
        )

    @admin.display(description="documentos")
    def documents(self, order):
        if order.pk is None:
            return "—"
        links = [(reverse("admin:proposals_order_proposal_pdf", args=[order.pk]), "Proposta (PDF)")]
        contract = getattr(order, "contract", None)
        if contract is not None:
            url = reverse("admin:contracts_contract_pdf", args=[contract.pk])
            links.append((url, f"Contrato: {contract.title}"))
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description="no ERP", ordering="removed_at")
    def erp_presence(self, order):
        if order.removed_at is None:
            return "Presente"
        return f"Removido do ERP em {datetime_br(order.removed_at)} (mantido como registro)"

    @admin.display(description="aprovação no portal")
    def approval_evidence(self, order):
        approval = Approval.objects.filter(order=order).select_related("user").first()
        if approval is None:
            return "—"
        url = reverse("admin:proposals_approval_change", args=[approval.pk])
        return format_html(
            '<a href="{}">Aprovada por {} em {} (versão {}, IP {})</a>',
            url,
            approval.user.email,
            datetime_br(approval.approved_at),
            approval.order_version,
            approval.ip_address or "—",
        )

    @admin.display(description="emissão", ordering="issued_on")
    def issued(self, order):
        return date_br(order.issued_on)

    @admin.display(description="validade", ordering="valid_until")
    def valid(self, order):
        return date_br(order.valid_until) or "—"

    @admin.display(description="aprovado em", ordering="approved_at")
    def approved(self, order):
        return datetime_br(order.approved_at) or "—"

    @admin.display(description="valor dos produtos")
    def products_brl(self, order):
        return brl(order.products_total)

    @admin.display(description="valor dos serviços")
    def services_brl(self, order):
        return brl(order.services_total)

    @admin.display(description="desconto")
    def discount_brl(self, order):
        return brl(order.discount)

    @admin.display(description="frete")
    def freight_brl(self, order):
        return brl(order.freight)

    @admin.display(description="valor total", ordering="total")
    def total_brl(self, order):
        return brl(order.total)


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyModelAdmin):
    list_display = ["order", "user", "approved", "ip_address", "order_version"]
    list_select_related = ["order", "user", "tenant"]
    search_fields = ["=order__number", "user__email"]
    ordering = ["-approved_at"]
    fields = [
        "order",
        "user",
        "approved",
        "ip_address",
        "user_agent",
        "order_version",
        "proposal_sha256",
        "signed_contract_sha256",
    ]
    readonly_fields = ["approved"]

    @admin.display(description="aprovado em", ordering="approved_at")
    def approved(self, approval):
        return datetime_br(approval.approved_at)
