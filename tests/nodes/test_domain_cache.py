"""The host → tenant cache is shared by every node: a node that resolves a host while another
node's change to it is still uncommitted must not keep the old answer once it commits."""

import threading

import pytest
from django.db import connections, transaction

from portal.accounts.models import TenantDomain
from portal.accounts.selectors import tenant_for_host
from tests.conftest import HOST_A

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def resolved_elsewhere(hostname: str):
    """What another node (another connection, the same cache) answers for `hostname` now."""
    seen = []

    def resolve():
        try:
            seen.append(tenant_for_host(hostname=hostname))
        finally:
            connections.close_all()

    thread = threading.Thread(target=resolve)
    thread.start()
    thread.join(10)
    return seen[0]


def test_a_domain_removed_while_another_node_resolves_it_is_gone_after_commit(tenant_a):
    with transaction.atomic():
        TenantDomain.objects.get(hostname=HOST_A).delete()
        # Before the commit the other node still reads the row, and caches what it read.
        assert resolved_elsewhere(HOST_A) == tenant_a

    assert tenant_for_host(hostname=HOST_A) is None
    assert resolved_elsewhere(HOST_A) is None


def test_a_domain_added_while_another_node_resolves_it_answers_after_commit(tenant_a):
    with transaction.atomic():
        TenantDomain.objects.create(hostname="novo.alfa.test", tenant=tenant_a)
        assert resolved_elsewhere("novo.alfa.test") is None

    assert resolved_elsewhere("novo.alfa.test") == tenant_a
