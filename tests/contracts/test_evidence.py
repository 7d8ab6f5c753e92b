"""Signature evidence is append-only (services, admin, and PostgreSQL itself) and hash-chained:
a row edited or removed behind the portal's back is found."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from contracts.evidence import evidence_append, evidence_chain_verify
from contracts.models import (
    EventKind,
    EvidenceIsAppendOnly,
    SignatureEvent,
    SignatureTrail,
)
from tests.conftest import HOST_A, host_client
from tests.factories import ContractFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(customer_a):
    contract = ContractFactory(order=OrderFactory(customer=customer_a, number=7017))
    trail = SignatureTrail.objects.create(
        tenant=contract.tenant,
        contract=contract,
        order=contract.order,
        order_number=7017,
        contract_title=contract.title,
        created_at=timezone.now(),
    )
    for kind in (EventKind.PASSWORD_CHECKED, EventKind.CODE_SENT, EventKind.CODE_ACCEPTED):
        evidence_append(
            trail=trail,
            kind=kind,
            email="parte1@clientealfa.com.br",
            role="PARTE",
            full_name="Maria da Silva Souza",
            cpf="52998224725",
            ip_address="203.0.113.9",
            user_agent="Mozilla/5.0",
            details={"passo": kind.label},
        )
    return trail


def test_a_clean_chain_verifies(trail):
    with scopes_disabled():
        report = evidence_chain_verify(trail=trail)
        assert report.intact and report.events == 3


def test_services_cannot_change_or_delete_evidence(trail):
    with scopes_disabled():
        event = SignatureEvent.objects.filter(trail=trail).first()
        event.full_name = "Outra Pessoa"
        with pytest.raises(EvidenceIsAppendOnly):
            event.save()
        with pytest.raises(EvidenceIsAppendOnly):
            event.delete()
        with pytest.raises(EvidenceIsAppendOnly):
            SignatureEvent.objects.filter(trail=trail).update(full_name="Outra Pessoa")
        with pytest.raises(EvidenceIsAppendOnly):
            SignatureEvent.objects.filter(trail=trail).delete()
        assert evidence_chain_verify(trail=trail).intact


def test_the_admin_offers_no_way_to_change_or_delete_evidence(trail, tenant_a):
    with scopes_disabled():
        staff = UserFactory(customer=None, tenant=tenant_a, email="equipe@alfa.test", is_staff=True)
        client = host_client(HOST_A, staff)
        change = reverse("admin:contracts_signaturetrail_change", args=[trail.pk])
        page = client.get(change)
        assert page.status_code == 200
        content = page.content.decode()
        assert "íntegra: 3 eventos" in content
        assert "Maria da Silva Souza" in content
        assert 'name="_save"' not in content
        assert client.post(change, {"order_number": 1}).status_code == 403
        delete = reverse("admin:contracts_signaturetrail_delete", args=[trail.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        with pytest.raises(NoReverseMatch):  # SignatureEvent has no admin of its own
            reverse("admin:contracts_signatureevent_change", args=[1])
        assert SignatureEvent.objects.filter(trail=trail).count() == 3


def _behind_the_portals_back(sql: str, params=()) -> None:
    """Raw SQL with the append-only trigger out of the way (PostgreSQL: replica role), as
    someone with the database's keys could do."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_an_edited_row_breaks_the_chain(trail):
    with scopes_disabled():
        event = SignatureEvent.objects.get(trail=trail, seq=2)
        _behind_the_portals_back(
            "UPDATE contracts_signatureevent SET ip_address = %s WHERE id = %s",
            ["198.51.100.1", event.pk],
        )
        report = evidence_chain_verify(trail=trail)
        assert report.problems == ["Evento nº 2 foi alterado depois de registrado."]


def test_a_removed_row_breaks_the_chain(trail):
    with scopes_disabled():
        event = SignatureEvent.objects.get(trail=trail, seq=2)
        _behind_the_portals_back("DELETE FROM contracts_signatureevent WHERE id = %s", [event.pk])
        report = evidence_chain_verify(trail=trail)
        assert "Evento nº 2 ausente." in report.problems
        assert "Evento nº 3 não aponta para o evento anterior." in report.problems


def test_a_removed_last_row_breaks_the_chain(trail):
    with scopes_disabled():
        event = SignatureEvent.objects.get(trail=trail, seq=3)
        _behind_the_portals_back("DELETE FROM contracts_signatureevent WHERE id = %s", [event.pk])
        report = evidence_chain_verify(trail=trail)
        assert not report.intact
        assert "eventos finais foram removidos" in report.problems[0]


@pytest.mark.postgres
def test_postgresql_refuses_update_and_delete_of_evidence(trail):
    with scopes_disabled():
        event = SignatureEvent.objects.filter(trail=trail).first()
        for sql in (
            "UPDATE contracts_signatureevent SET full_name = 'X' WHERE id = %s",
            "DELETE FROM contracts_signatureevent WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, [event.pk])
        assert evidence_chain_verify(trail=trail).intact
