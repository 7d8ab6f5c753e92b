"""The signing page and the contract page of a DIGITAL contract run a fixed number of queries,
however many signers, signatures and evidence events the contract has."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from contracts.evidence import evidence_append, signature_trail_for
from contracts.models import DigitalSignature, EventKind, SignerRole
from tests.conftest import HOST_A, host_client
from tests.contracts.signing import NUMBER, digital_contract

pytestmark = pytest.mark.django_db

PAGES = ("contract_sign", "contract_detail", "order_detail")


def _signers(count: int) -> dict:
    signers = {"parte1@clientealfa.com.br": SignerRole.PARTY}
    for n in range(count - 1):
        role = SignerRole.WITNESS if n % 3 == 2 else SignerRole.PARTY
        signers[f"signatario{n}@clientealfa.com.br"] = role
    return signers


def _history(customer, signers: int, events: int):
    """A contract with `signers` designated, all but the first signed, and `events` events."""
    contract, users = digital_contract(customer, signers=_signers(signers))
    trail = signature_trail_for(contract=contract)
    for email, user in list(users.items())[1:]:
        DigitalSignature.objects.create(
            tenant=contract.tenant,
            trail=trail,
            user=user,
            email=email,
            role=contract.signers.get(email=email).role,
            full_name="Fulano de Tal",
            cpf="52998224725",
            signed_at=trail.created_at,
            contract_sha256="0" * 64,
            contract_source="0" * 64,
            order_version=1,
        )
    for _ in range(events):
        evidence_append(trail=trail, kind=EventKind.CODE_SENT, email="x@clientealfa.com.br")
    return users["parte1@clientealfa.com.br"]


def _queries(customer, page: str, signers: int, events: int) -> int:
    user = _history(customer, signers, events)
    client = host_client(HOST_A, user)
    url = reverse(page, args=[NUMBER])
    client.get(url)  # the contract PDF rendered and its text cached once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert "Pendente" in response.content.decode()
    return len(captured)


SIZES = {"small": (1, 0), "large": (8, 60)}
# The request's user (1), the order with contract and approval (1), then the page's own.
# Signing: signers, trail, signatures, seal, logins, pending code (+ the rendered contract PDF
# on the signing page; + attachments, timeline and the proposal's declines on the order page,
# whose items and installments come rendered from the cache: proposals.fragments).
EXPECTED = {"contract_sign": 9, "contract_detail": 8, "order_detail": 11}


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("page", PAGES)
def test_queries_do_not_grow_with_signers_and_events(page, size, customer_a):
    with scopes_disabled():
        signers, events = SIZES[size]
        assert _queries(customer_a, page, signers=signers, events=events) == EXPECTED[page]
