"""Staff in admin: each signer's state (and an invitation for an e-mail with no login), the
evidence, the sealed PDF, and re-sending the signing request."""

import re

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django_scopes import scopes_disabled

from contracts.models import ContractSigner, EventKind, SealedContract, SignatureEvent, SignerRole
from tests.conftest import HOST_A, host_client
from tests.contracts.signing import NUMBER, digital_contract, sign
from tests.erp_builders import erp_cliente, erp_pedido
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PARTY = "parte1@clientealfa.com.br"
NO_LOGIN = "socio@clientealfa.com.br"


@pytest.fixture
def contract(tenant_a, customer_a, certificate_a):
    cliente = erp_cliente(tenant_a.erp_company_id, nome=customer_a.name)
    pedido = erp_pedido(cliente, NUMBER, contrato={"assinatura": "DIGITAL"})
    contract, users = digital_contract(
        customer_a,
        signers={PARTY: SignerRole.PARTY},
        erp_id=pedido.id,
        erp_version=pedido.versao,
    )
    ContractSigner.objects.create(
        tenant=tenant_a, contract=contract, email=NO_LOGIN, role=SignerRole.PARTY
    )
    return contract, users


@pytest.fixture
def staff_client(tenant_a):
    staff = UserFactory(customer=None, tenant=tenant_a, is_staff=True, email="equipe@alfa.test")
    return host_client(HOST_A, staff)


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_staff_see_states_invite_the_login_less_signer_and_open_the_evidence(
    contract, staff_client, password
):
    with scopes_disabled():
        contract, users = contract
        sign(host_client(HOST_A, users[PARTY]), PARTY, password)
        page = staff_client.get(reverse("admin:contracts_contract_change", args=[contract.pk]))
        content = page.content.decode()
        assert re.search(r"assinado em \d\d/\d\d/\d{4}", content)
        assert "pendente" in content
        assert "sem login" in content and f"email={NO_LOGIN}" in content
        trail_link = re.search(r'href="(/admin/contracts/signaturetrail/\d+/change/)"', content)
        evidence = text(staff_client.get(trail_link.group(1)))
        assert "íntegra: 4 eventos" in evidence
        assert "Código aceito" in evidence and "***.982.247-**" in evidence

        # The customer's page: the e-mail without a login is pending too.
        customer_page = text(
            host_client(HOST_A, users[PARTY]).get(reverse("contract_detail", args=[NUMBER]))
        )
        assert "1 de 2 signatários assinaram" in customer_page
        assert f"{NO_LOGIN} Parte Pendente" in customer_page


def test_staff_resend_the_request_to_pending_signers(contract, staff_client, password):
    with scopes_disabled():
        contract, users = contract
        sign(host_client(HOST_A, users[PARTY]), PARTY, password)
        mail.outbox.clear()
        response = staff_client.post(
            reverse("admin:contracts_contract_changelist"),
            {"action": "resend_signing_request", "_selected_action": [contract.pk]},
        )
        assert response.status_code == 302
        assert [m.to for m in mail.outbox] == [[NO_LOGIN]]
        assert "Assinatura solicitada" in mail.outbox[0].subject
        assert f"/pedidos/{NUMBER}/contrato/assinar/" in mail.outbox[0].body
        assert SignatureEvent.objects.filter(
            kind=EventKind.SIGNING_REQUESTED, email=NO_LOGIN
        ).exists()


def test_staff_resend_asks_a_login_again_through_its_notification(contract, staff_client):
    with scopes_disabled():
        contract, users = contract
        for _ in range(2):  # a re-send is never taken for the earlier request
            with TestCase.captureOnCommitCallbacks(execute=True):
                staff_client.post(
                    reverse("admin:contracts_contract_changelist"),
                    {"action": "resend_signing_request", "_selected_action": [contract.pk]},
                )
        to_party = [m for m in mail.outbox if m.to == [PARTY]]
        assert len(to_party) == 2
        assert to_party[0].subject.startswith(f"Assinatura do contrato da proposta nº {NUMBER}")
        assert to_party[0].alternatives  # the notification's HTML part
        assert [m.to for m in mail.outbox].count([NO_LOGIN]) == 2  # the plain invitation


def test_staff_download_the_sealed_pdf(contract, staff_client, password, tenant_a):
    with scopes_disabled():
        contract, users = contract
        ContractSigner.objects.filter(email=NO_LOGIN).delete()
        sign(host_client(HOST_A, users[PARTY]), PARTY, password)
        seal = SealedContract.objects.get()
        response = staff_client.get(
            reverse("admin:contracts_sealedcontract_download", args=[seal.pk])
        )
        assert response["Content-Disposition"].endswith(
            f'filename="contrato-assinado-{NUMBER}.pdf"'
        )
        with seal.file.open("rb") as stream:
            assert b"".join(response.streaming_content) == stream.read()
