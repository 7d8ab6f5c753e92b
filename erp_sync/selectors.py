from django.core.cache import cache
from django.db import DatabaseError

from erp_sync.models import ErpCliente, ErpPedido, SyncState
from portal.accounts.models import Tenant

# Customer pages ask on every request: a few seconds of staleness costs no query per request.
STATE_CACHE_SECONDS = 5


def sync_state_is_failing(*, tenant: Tenant | None) -> bool:
    """True while the follower cannot read the ERP: the mirror may be out of date."""
    if tenant is None:
        return False

    def read() -> bool:
        state = SyncState.objects.filter(tenant=tenant).first()
        return bool(state and state.is_failing)

    return cache.get_or_set(f"sync-failing:{tenant.pk}", read, STATE_CACHE_SECONDS)


def erp_company_has_rows(*, empresa_id: int) -> bool | None:
    """Whether the ERP has any customer or order of this company (None: the ERP is down).

    Support types the `empresa_id` by hand: a company with no rows is most likely a typo.
    """
    try:
        return (
            ErpCliente.objects.filter(empresa_id=empresa_id).exists()
            or ErpPedido.objects.filter(empresa_id=empresa_id).exists()
        )
    except DatabaseError:
        return None
