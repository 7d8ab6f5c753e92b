"""The ERP changes a contract after someone signed it: the signatures (and the seal) are void,
kept as evidence, the signers are told on the page and by e-mail, and signing starts again.
The approval can only ever bind the contract that was sealed."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scopes_disabled

from contracts.models import Contract, DigitalSignature, EventKind, SealedContract, SignatureEvent
from erp_sync.mirror import erp_sync_order, erp_sync_tenant
from erp_sync.models import ErpContratoSignatario, ErpPedidoContrato
from proposals.models import Approval, Order
from tests.conftest import HOST_A, host_client
from tests.contracts.signing import NAMES, NUMBER, last_code, request_code, send_code, sign
from tests.erp_builders import erp_cliente, erp_pedido
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SIGNERS = [("parte1@clientealfa.com.br", "PARTE"), ("testemunha@clientealfa.com.br", "TESTEMUNHA")]


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def mirrored(tenant_a, customer_a, certificate_a):
    """Order 7017 as the ERP writes it (DIGITAL contract and its signers), mirrored."""
    cliente = erp_cliente(tenant_a.erp_company_id, id=customer_a.erp_id, nome=customer_a.name)
    pedido = erp_pedido(cliente, NUMBER, contrato={"assinatura": "DIGITAL"}, signatarios=SIGNERS)
    clients = {}
    for email, _role in SIGNERS:
        user = UserFactory(customer=customer_a, email=email, name=NAMES[email])
        clients[email] = host_client(HOST_A, user)
    erp_sync_tenant(tenant=tenant_a)
    return pedido, clients


def edit_contract_in_the_erp(pedido, html="<h1>Contrato</h1><p>Cláusula 1, nova redação.</p>"):
    ErpPedidoContrato.objects.filter(pedido_id=pedido.id).update(conteudo_html=html)


def test_a_contract_changed_in_the_erp_voids_the_signatures(
    mirrored, tenant_a, password, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        pedido, clients = mirrored
        party, witness = (email for email, _ in SIGNERS)
        sign(clients[party], party, password)
        assert DigitalSignature.objects.filter(voided_at__isnull=True).count() == 1
        mail.outbox.clear()

        edit_contract_in_the_erp(pedido)
        with django_capture_on_commit_callbacks(execute=True):
            erp_sync_order(tenant=tenant_a, erp_id=pedido.id)

        signature = DigitalSignature.objects.get()
        assert signature.voided_at is not None
        assert "alterado pela empresa" in signature.void_reason
        voided = SignatureEvent.objects.get(kind=EventKind.SIGNATURE_VOIDED)
        assert voided.email == party
        # The party whose signature is void is told why; the witness, who had not signed, is
        # asked to sign the new version.
        voided_mail, request = sorted(mail.outbox, key=lambda m: m.to != [party])
        assert voided_mail.to == [party]
        assert voided_mail.subject == f"O contrato da proposta nº {NUMBER} mudou: assine novamente"
        assert "Sua assinatura foi anulada" in voided_mail.body
        assert "alterado pela empresa" in voided_mail.alternatives[0][0]
        assert request.to == [witness]
        assert request.subject.startswith(f"Assinatura do contrato da proposta nº {NUMBER}")

        page = text(clients[party].get(reverse("contract_detail", args=[NUMBER])))
        assert "0 de 2 signatários assinaram" in page
        assert "Assinaturas anuladas (1)" in page
        assert "O contrato foi alterado pela empresa depois da sua assinatura" in page
        assert "ASSINAR DIGITALMENTE" in page

        # Signing starts again, on the new text.
        sign_page = text(clients[party].get(reverse("contract_sign", args=[NUMBER])))
        assert "nova redação" in sign_page
        sign(clients[party], party, password)
        assert DigitalSignature.objects.filter(voided_at__isnull=True).count() == 1


def test_a_code_sent_before_the_change_signs_nothing(mirrored, tenant_a, password):
    with scopes_disabled():
        pedido, clients = mirrored
        party = SIGNERS[0][0]
        request_code(clients[party], party, password)
        code = last_code(party)
        edit_contract_in_the_erp(pedido)
        erp_sync_order(tenant=tenant_a, erp_id=pedido.id)
        response = send_code(clients[party], code)
        assert "Não há código pendente" in text(clients[party].get(response["Location"]))
        assert not DigitalSignature.objects.exists()


def test_a_change_after_the_seal_voids_the_seal_and_the_approval_needs_a_new_one(
    mirrored, tenant_a, password, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        pedido, clients = mirrored
        for email, _role in SIGNERS:
            sign(clients[email], email, password)
        seal = SealedContract.objects.get()
        assert Contract.objects.get().is_signed

        edit_contract_in_the_erp(pedido)
        with django_capture_on_commit_callbacks(execute=True):
            erp_sync_order(tenant=tenant_a, erp_id=pedido.id)

        seal.refresh_from_db()
        assert seal.voided_at is not None
        assert not Contract.objects.get().is_signed
        assert SignatureEvent.objects.filter(kind=EventKind.SEAL_VOIDED).count() == 1
        assert DigitalSignature.objects.filter(voided_at__isnull=True).count() == 0
        detail = text(clients[SIGNERS[0][0]].get(reverse("order_detail", args=[NUMBER])))
        assert "APROVAR PROPOSTA" not in detail
        assert "precisa ser assinado digitalmente" in detail
        order = Order.objects.get(number=NUMBER)
        response = clients[SIGNERS[0][0]].post(
            reverse("order_approve", args=[NUMBER]), {"versao": order.erp_version}
        )
        assert response.status_code == 303
        assert not Approval.objects.filter(order=order).exists()

        # Both sign again: a new seal, a new code, and the approval binds that one.
        for email, _role in SIGNERS:
            sign(clients[email], email, password)
        new_seal = SealedContract.objects.get(voided_at__isnull=True)
        assert new_seal.verification_code != seal.verification_code
        order.refresh_from_db()
        clients[SIGNERS[0][0]].post(
            reverse("order_approve", args=[NUMBER]), {"versao": order.erp_version}
        )
        order = Order.objects.select_related("approval").get(pk=order.pk)
        assert order.approval.signed_contract_sha256 == new_seal.sealed_sha256


def test_a_signer_removed_in_the_erp_loses_the_signature_and_others_keep_theirs(
    mirrored, tenant_a, password
):
    with scopes_disabled():
        pedido, clients = mirrored
        party, witness = (email for email, _ in SIGNERS)
        sign(clients[party], party, password)
        sign(clients[witness], witness, password)  # complete: sealed
        assert SealedContract.objects.filter(voided_at__isnull=True).count() == 1
        ErpContratoSignatario.objects.filter(email=witness).delete()
        erp_sync_order(tenant=tenant_a, erp_id=pedido.id)
        assert DigitalSignature.objects.get(email=witness).voided_at is not None
        assert DigitalSignature.objects.get(email=party).voided_at is None
        assert SealedContract.objects.filter(voided_at__isnull=True).count() == 0
        response = clients[witness].get(reverse("contract_sign", args=[NUMBER]))
        assert response.status_code == 404  # no longer designated
