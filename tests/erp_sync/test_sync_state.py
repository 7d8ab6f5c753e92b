"""How current the mirror is: a notice for customers, a status page for staff and support."""

import datetime

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from erp_sync.mirror import (
    SyncStats,
    erp_sync_tenant,
    sync_state_record_failure,
    sync_state_record_success,
)
from erp_sync.models import SyncState
from tests.conftest import HOST_A, host_client
from tests.erp_builders import erp_cliente, erp_pedido
from tests.factories import UserFactory

STALE = "podem estar desatualizadas"


@pytest.mark.django_db
def test_customers_see_a_notice_while_the_erp_cannot_be_read(tenant_a, user_a, client_a):
    erp_pedido(erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id), 7001)
    stats = erp_sync_tenant(tenant=tenant_a)
    sync_state_record_success(tenant=tenant_a, stats=stats, lag_ms=12, full_pass=True)
    assert STALE not in client_a.get(reverse("dashboard")).content.decode()

    sync_state_record_failure(error="OperationalError: connection refused")
    cache.clear()
    page = client_a.get(reverse("order_detail", args=[7001])).content.decode()
    assert STALE in page and "7001" in page  # the mirror keeps serving

    sync_state_record_success(tenant=tenant_a, stats=SyncStats(), lag_ms=3, full_pass=False)
    cache.clear()
    assert STALE not in client_a.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_staff_see_their_tenants_sync_status_and_support_sees_all(tenant_a, tenant_b):
    sync_state_record_success(
        tenant=tenant_a, stats=SyncStats(orders_unchanged=30), lag_ms=15, full_pass=True
    )
    sync_state_record_failure(error="OperationalError: connection refused")
    staff_a = UserFactory(customer=None, tenant=tenant_a, is_staff=True, email="equipe@alfa.br")
    support = UserFactory(
        customer=None, tenant=None, is_staff=True, is_superuser=True, email="s@suporte.br"
    )
    url = reverse("admin:erp_sync_syncstate_changelist")

    staff_page = host_client(HOST_A, staff_a).get(url).content.decode()
    support_page = host_client(settings.SUPPORT_HOST, support).get(url).content.decode()

    assert tenant_a.name in staff_page and tenant_b.name not in staff_page
    assert "Com falhas" in staff_page
    assert tenant_a.name in support_page and tenant_b.name in support_page
    assert SyncState.objects.get(tenant=tenant_a).orders_mirrored == 30


@pytest.mark.django_db
def test_a_pass_knows_how_old_the_oldest_erp_change_it_mirrored_is(tenant_a):
    cliente = erp_cliente(tenant_a.erp_company_id)
    first, second = erp_pedido(cliente, 7001), erp_pedido(cliente, 7002)

    stats = erp_sync_tenant(tenant=tenant_a)

    assert stats.oldest_change_at == min(first.atualizado_em, second.atualizado_em)
    later = stats.oldest_change_at + datetime.timedelta(milliseconds=250)
    assert stats.lag_ms(now=later) == 250
    assert erp_sync_tenant(tenant=tenant_a).lag_ms(now=later) is None  # nothing changed

    sync_state_record_success(tenant=tenant_a, stats=stats, lag_ms=250, full_pass=True)
    sync_state_record_success(tenant=tenant_a, stats=SyncStats(), lag_ms=None, full_pass=False)
    assert SyncState.objects.get(tenant=tenant_a).last_lag_ms == 250  # kept until a change
