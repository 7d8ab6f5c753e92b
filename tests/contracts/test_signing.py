"""Signing a DIGITAL contract in the portal: who may, the two steps, what is recorded, the seal,
the ERP's copy, and the approval that follows."""

import datetime
import hashlib
import json
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from contracts.models import (
    DigitalSignature,
    EventKind,
    SealedContract,
    SignatureEvent,
    SigningCode,
)
from erp_sync.models import ErpPedidoAnexo, ErpPortalEvento
from proposals.models import Approval
from tests.conftest import HOST_A, host_client
from tests.contracts.signing import (
    CPFS,
    NAMES,
    NUMBER,
    committed,
    digital_contract,
    last_code,
    request_code,
    send_code,
    sign,
)
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = pytest.mark.django_db

PARTY_1 = "parte1@clientealfa.com.br"
PARTY_2 = "parte2@clientealfa.com.br"
WITNESS = "testemunha@clientealfa.com.br"


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def erp_order(tenant_a, customer_a):
    """The ERP's rows behind order 7017 (the approval and the seal write to them)."""
    cliente = erp_cliente(tenant_a.erp_company_id, nome=customer_a.name)
    return erp_pedido(cliente, NUMBER, contrato={"assinatura": "DIGITAL"})


@pytest.fixture
def signing(customer_a, erp_order, certificate_a):
    contract, users = digital_contract(
        customer_a, erp_id=erp_order.id, erp_version=erp_order.versao
    )
    clients = {email: host_client(HOST_A, user) for email, user in users.items()}
    return contract, users, clients


def test_two_parties_and_a_witness_sign_and_the_sealed_contract_unlocks_approval(
    signing, password, tsa
):
    with scopes_disabled():
        contract, users, clients = signing
        detail = reverse("order_detail", args=[NUMBER])
        assert "O contrato precisa ser assinado digitalmente" in text(clients[PARTY_1].get(detail))

        for email in (PARTY_1, PARTY_2, WITNESS):
            response = sign(clients[email], email, password)
            assert response.status_code == 303
            assert response["Location"] == reverse("contract_detail", args=[NUMBER])

        page = text(clients[WITNESS].get(reverse("contract_detail", args=[NUMBER])))
        assert "3 de 3 signatários assinaram" in page
        for email in (PARTY_1, PARTY_2, WITNESS):
            assert NAMES[email] in page
        seal = SealedContract.objects.get(trail__contract=contract)
        assert f"código {seal.verification_code}" in page
        assert seal.timestamped_at is not None and not seal.timestamp_pending

        # The download: the sealed PDF under its contract name.
        response = clients[PARTY_1].get(reverse("contract_sealed_download", args=[NUMBER]))
        content = b"".join(response.streaming_content)
        assert (
            response["Content-Disposition"]
            == f'attachment; filename="contrato-assinado-{NUMBER}.pdf"'
        )
        assert hashlib.sha256(content).hexdigest() == seal.sha256 == seal.sealed_sha256

        # The ERP got the sealed file and an event with the hashes.
        anexo = ErpPedidoAnexo.objects.get(pedido_id=contract.order.erp_id, origem="PORTAL")
        assert (anexo.tipo, anexo.nome) == ("CONTRATO_ASSINADO", f"contrato-assinado-{NUMBER}.pdf")
        assert bytes(anexo.conteudo) == content and anexo.sha256 == seal.sha256
        evento = ErpPortalEvento.objects.get(
            pedido_id=contract.order.erp_id, tipo="CONTRATO_ASSINADO"
        )
        dados = json.loads(evento.dados)
        assert dados["sha256"] == seal.sealed_sha256
        assert dados["sha256_contrato"] == seal.contract_sha256
        assert dados["codigo_verificacao"] == seal.verification_code
        assert sorted(s["email"] for s in dados["signatarios"]) == sorted(
            [PARTY_1, PARTY_2, WITNESS]
        )

        # Everyone got the sealed PDF by e-mail.
        sealed_mail = [m for m in mail.outbox if "assinado por todos" in m.subject]
        assert sorted(m.to[0] for m in sealed_mail) == sorted([PARTY_1, PARTY_2, WITNESS])
        assert sealed_mail[0].attachments[0][1] == content

        # APROVAR PROPOSTA is live, and the approval binds the sealed file.
        assert "APROVAR PROPOSTA" in text(clients[PARTY_1].get(detail))
        response = clients[PARTY_2].post(
            reverse("order_approve", args=[NUMBER]), {"versao": contract.order.erp_version}
        )
        assert response.status_code == 303
        approval = Approval.objects.get(order=contract.order)
        assert approval.signed_contract_sha256 == seal.sealed_sha256


def test_the_evidence_records_every_step(signing, password):
    with scopes_disabled():
        contract, users, clients = signing
        client = clients[PARTY_1]
        request_code(client, PARTY_1, "senha-errada")
        request_code(client, PARTY_1, password)
        send_code(client, "000000" if last_code(PARTY_1) != "000000" else "111111")
        send_code(client, last_code(PARTY_1))

        events = list(SignatureEvent.objects.filter(trail__contract=contract).order_by("seq"))
        assert [e.kind for e in events] == [
            EventKind.PASSWORD_REFUSED,
            EventKind.PASSWORD_CHECKED,
            EventKind.CODE_SENT,
            EventKind.CODE_REFUSED,
            EventKind.CODE_ACCEPTED,
            EventKind.SIGNED,
        ]
        signed = events[-1]
        assert signed.email == PARTY_1 and signed.role == "PARTE"
        assert signed.full_name == NAMES[PARTY_1]
        assert signed.cpf == re.sub(r"\D", "", CPFS[PARTY_1])
        assert signed.ip_address == "127.0.0.1"
        assert "Medida Provisória nº 2.200-2/2001" in signed.consent_text
        assert "art. 10, § 2º" in signed.consent_text
        assert signed.contract_version == contract.order.erp_version
        assert len(signed.contract_sha256) == 64
        assert all(e.prev_hash == p.hash for p, e in zip(events, events[1:], strict=False))


def test_a_user_who_is_not_designated_gets_404_and_no_form(signing, customer_a, password):
    with scopes_disabled():
        contract, users, clients = signing
        from tests.factories import UserFactory

        bystander = UserFactory(customer=customer_a, email="financeiro@clientealfa.com.br")
        client = host_client(HOST_A, bystander)
        url = reverse("contract_sign", args=[NUMBER])
        assert client.get(url).status_code == 404
        response = client.post(
            url, {"nome": "Fulano de Tal", "cpf": CPFS[PARTY_1], "senha": password, "aceite": "on"}
        )
        assert response.status_code == 404
        page = text(client.get(reverse("contract_detail", args=[NUMBER])))
        assert "ASSINAR DIGITALMENTE" not in page
        assert "0 de 3 signatários assinaram" in page
        assert "Pendente" in page
        assert not SigningCode.objects.exists()


def test_designated_signer_sees_the_consent_and_the_privacy_notice(signing):
    with scopes_disabled():
        contract, users, clients = signing
        page = text(clients[WITNESS].get(reverse("contract_sign", args=[NUMBER])))
        assert "art. 10, § 2º, da Medida Provisória nº 2.200-2/2001" in page
        assert "endereço IP" in page and "CPF" in page and "LGPD" in page
        assert "Cláusula primeira." in page  # the contract itself, readable in the page
        assert "RECEBER CÓDIGO POR E-MAIL" in page


def test_wrong_password_signs_nothing_and_keeps_what_was_typed(signing):
    with scopes_disabled():
        contract, users, clients = signing
        response = request_code(clients[PARTY_1], PARTY_1, "nao-e-a-senha")
        assert response.status_code == 200
        page = text(response)
        assert "Senha incorreta" in page
        assert NAMES[PARTY_1] in response.content.decode()  # the name typed is still there
        assert not [m for m in mail.outbox if PARTY_1 in m.to]
        assert not DigitalSignature.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cpf": "529.982.247-24"}, "CPF inválido"),
        ({"cpf": "111.111.111-11"}, "CPF inválido"),
        ({"aceite": ""}, "Marque o aceite"),
        ({"nome": "Maria"}, "nome completo"),
    ],
)
def test_bad_input_gets_a_clear_message(signing, password, fields, message):
    with scopes_disabled():
        contract, users, clients = signing
        response = request_code(clients[PARTY_1], PARTY_1, password, **fields)
        assert response.status_code == 200
        assert message in text(response)
        assert not SigningCode.objects.exists()


def test_wrong_code_then_right_code_signs(signing, password):
    with scopes_disabled():
        contract, users, clients = signing
        client = clients[PARTY_1]
        request_code(client, PARTY_1, password)
        code = last_code(PARTY_1)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        response = send_code(client, wrong)
        assert "Código incorreto. Você ainda tem 4 tentativas." in text(
            client.get(response["Location"])
        )
        assert not DigitalSignature.objects.exists()
        send_code(client, code)
        assert DigitalSignature.objects.filter(email=PARTY_1).count() == 1


def test_the_sixth_try_signs_nothing_even_with_the_right_code(signing, password):
    with scopes_disabled():
        contract, users, clients = signing
        client = clients[PARTY_1]
        request_code(client, PARTY_1, password)
        code = last_code(PARTY_1)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for _ in range(5):
            send_code(client, wrong)
        response = send_code(client, code)
        assert "deixou de valer" in text(client.get(response["Location"]))
        assert not DigitalSignature.objects.exists()
        # A new code works.
        request_code(client, PARTY_1, password)
        send_code(client, last_code(PARTY_1))
        assert DigitalSignature.objects.filter(email=PARTY_1).exists()


def test_an_expired_code_signs_nothing(signing, password):
    with scopes_disabled():
        contract, users, clients = signing
        client = clients[PARTY_1]
        request_code(client, PARTY_1, password)
        SigningCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
        response = send_code(client, last_code(PARTY_1))
        assert "O código expirou" in text(client.get(response["Location"]))
        assert not DigitalSignature.objects.exists()


def test_double_submit_and_two_tabs_make_one_signature(signing, password):
    with scopes_disabled():
        contract, users, clients = signing
        client = clients[PARTY_1]
        request_code(client, PARTY_1, password)
        code = last_code(PARTY_1)
        send_code(client, code)
        second = send_code(client, code)
        assert second.status_code == 303
        assert "já estava registrada" in text(client.get(second["Location"]))
        # The other tab still shows step 1: posting it signs nothing more.
        response = request_code(client, PARTY_1, password)
        assert "já está registrada" in text(response)
        assert DigitalSignature.objects.filter(email=PARTY_1).count() == 1
        assert SignatureEvent.objects.filter(kind=EventKind.SIGNED).count() == 1


def test_a_stale_page_is_refused(signing, password):
    with scopes_disabled():
        contract, users, clients = signing
        response = request_code(clients[PARTY_1], PARTY_1, password, documento="0" * 64)
        assert "O contrato mudou desde que esta página foi aberta" in text(response)
        assert not SigningCode.objects.exists()


def test_a_new_code_replaces_the_pending_one(signing, password):
    with scopes_disabled():
        contract, users, clients = signing
        client = clients[PARTY_1]
        request_code(client, PARTY_1, password)
        first = last_code(PARTY_1)
        committed(client.post, reverse("contract_sign", args=[NUMBER]), {"novo_codigo": "1"})
        assert "RECEBER CÓDIGO POR E-MAIL" in text(
            client.get(reverse("contract_sign", args=[NUMBER]))
        )
        request_code(client, PARTY_1, password)
        second = last_code(PARTY_1)
        if first != second:
            send_code(client, first)
            assert not DigitalSignature.objects.exists()
        send_code(client, second)
        assert DigitalSignature.objects.filter(email=PARTY_1).exists()


def test_no_signing_once_the_proposal_is_not_open(signing, password):
    with scopes_disabled():
        contract, users, clients = signing
        with scopes_disabled():
            contract.order.status = "CAN"
            contract.order.save()
        page = text(clients[PARTY_1].get(reverse("contract_sign", args=[NUMBER])))
        assert "não está mais aberta" in page
        response = request_code(clients[PARTY_1], PARTY_1, password)
        assert "não está mais aberta" in text(response)
        assert not SigningCode.objects.exists()
