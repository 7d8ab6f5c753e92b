from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.html import format_html, format_html_join

from erp_sync.models import SkippedRecord, SyncState
from erp_sync.selectors import erp_company_has_rows
from portal.accounts.admin import TenantAdmin
from portal.accounts.admin_site import ReadOnlyModelAdmin
from portal.accounts.models import Tenant
from portal.formats import datetime_br

# The sync page lists at most this many skipped rows (the count says how many there are).
SKIPPED_SHOWN = 100


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyModelAdmin):
    """Staff see how current their portal is; support sees every tenant's follower."""

    list_display = [
        "tenant",
        "health",
        "last_success",
        "orders_mirrored",
        "last_changed",
        "last_lag_ms",
        "skipped_count",
        "last_error_when",
    ]
    fields = [
        "tenant",
        "health",
        "last_success",
        "orders_mirrored",
        "last_changed",
        "last_lag_ms",
        "last_error_when",
        "last_error",
        "skipped",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        skipped = (
            SkippedRecord.objects.filter(tenant=OuterRef("tenant"))
            .values("tenant")
            .annotate(n=Count("pk"))
            .values("n")
        )
        states = (
            super()
            .get_queryset(request)
            .select_related("tenant")
            .annotate(skipped_total=Coalesce(Subquery(skipped), 0))
        )
        # SyncState is not scoped: tenant staff get their own row, support (no tenant) all.
        return states if request.tenant is None else states.filter(tenant=request.tenant)

    @admin.display(description="situação")
    def health(self, state):
        health = "Com falhas: dados podem estar desatualizados" if state.is_failing else "Em dia"
        if state.skipped_total:
            health += f"; {state.skipped_total} registro(s) do ERP ignorado(s)"
        return health

    @admin.display(description="última sincronização")
    def last_success(self, state):
        return datetime_br(state.last_success_at) or "—"

    @admin.display(description="último erro em")
    def last_error_when(self, state):
        return datetime_br(state.last_error_at) or "—"

    @admin.display(description="registros ignorados", ordering="skipped_total")
    def skipped_count(self, state):
        return state.skipped_total

    @admin.display(description="registros ignorados (tentados de novo a cada passada)")
    def skipped(self, state):
        records = SkippedRecord.objects.filter(tenant=state.tenant_id).order_by(
            "-last_seen_at", "kind", "erp_id"
        )[:SKIPPED_SHOWN]
        if not records:
            return "Nenhum: tudo o que o ERP tem está no portal."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    record.label,
                    record.erp_id,
                    record.error,
                    datetime_br(record.first_seen_at),
                    datetime_br(record.last_seen_at),
                )
                for record in records
            ),
        )
        return format_html(
            "<table><thead><tr><th>registro</th><th>id no ERP</th><th>motivo</th>"
            "<th>ignorado desde</th><th>última tentativa</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )


class TenantErpCheckAdmin(TenantAdmin):
    """The company's page, warning when the ERP has no rows of its `empresa_id`: support types
    it by hand, so a company with no rows is most likely a typo. It lives here, not in
    portal.accounts.admin, because only the ERP's app reads the ERP (one-way layers)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "erp_company_id" in form.changed_data or not change:
            has_rows = erp_company_has_rows(empresa_id=obj.erp_company_id)
            if has_rows is False:
                self.message_user(
                    request,
                    f"Atenção: o ERP não tem nenhum cliente nem pedido da empresa "
                    f"{obj.erp_company_id} (empresa_id). Confira o número: com ele, o portal "
                    "desta empresa fica vazio.",
                    messages.WARNING,
                )


admin.site.unregister(Tenant)
admin.site.register(Tenant, TenantErpCheckAdmin)
