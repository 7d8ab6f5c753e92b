from django.contrib import admin

from erp_sync.models import SyncState
from portal.accounts.admin_site import ReadOnlyModelAdmin
from portal.formats import datetime_br


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
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        states = super().get_queryset(request).select_related("tenant")
        # SyncState is not scoped: tenant staff get their own row, support (no tenant) all.
        return states if request.tenant is None else states.filter(tenant=request.tenant)

    @admin.display(description="situação")
    def health(self, state):
        return "Com falhas: dados podem estar desatualizados" if state.is_failing else "Em dia"

    @admin.display(description="última sincronização")
    def last_success(self, state):
        return datetime_br(state.last_success_at) or "—"

    @admin.display(description="último erro em")
    def last_error_when(self, state):
        return datetime_br(state.last_error_at) or "—"
