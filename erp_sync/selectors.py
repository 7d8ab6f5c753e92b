from django.core.cache import cache

from erp_sync.models import SyncState
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
