"""Helpers for digital signature tests: a DIGITAL contract with designated signers, a demo
certificate for the tenant, a time-stamp authority on 127.0.0.1, and the signing steps as a
signer's browser posts them (the code read from the test mailbox)."""

import re

from django.core import mail
from django.test import TestCase
from django.urls import reverse

from contracts.models import ContractSigner, SignatureMode, SignerRole
from tests.factories import ContractFactory, OrderFactory, UserFactory

NUMBER = 7017
CPFS = {
    "parte1@clientealfa.com.br": "529.982.247-25",
    "parte2@clientealfa.com.br": "111.444.777-35",
    "testemunha@clientealfa.com.br": "390.533.447-05",
}
NAMES = {
    "parte1@clientealfa.com.br": "Maria da Silva Souza",
    "parte2@clientealfa.com.br": "João Pereira Lima",
    "testemunha@clientealfa.com.br": "Ana Beatriz Costa",
}
CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)


def digital_contract(customer, *, signers=None, number=NUMBER, **order_fields):
    """An open proposal whose DIGITAL contract names the signers {email: role} (logins of the
    customer, created here unless they exist)."""
    signers = signers or {
        "parte1@clientealfa.com.br": SignerRole.PARTY,
        "parte2@clientealfa.com.br": SignerRole.PARTY,
        "testemunha@clientealfa.com.br": SignerRole.WITNESS,
    }
    order = OrderFactory(customer=customer, number=number, **order_fields)
    contract = ContractFactory(
        order=order,
        signature_mode=SignatureMode.DIGITAL,
        title="Contrato de prestação de serviços",
        content_html="<h1>Contrato de prestação de serviços</h1><p>Cláusula primeira.</p>",
    )
    users = {}
    for email, role in signers.items():
        ContractSigner.objects.create(
            tenant=order.tenant, contract=contract, email=email, role=role
        )
        users[email] = UserFactory(customer=customer, email=email, name=NAMES.get(email, ""))
    return contract, users


def last_code(email: str) -> str:
    message = [m for m in mail.outbox if email in m.to][-1]
    return CODE.search(message.body).group(1)


# What a signer's browser sends (its length matters to the evidence page's layout).
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


def committed(call, *args, **kwargs):
    """Run a request and then what it left for after its commit (e-mails, the seal), as a real
    request's commit would: the test itself runs inside one transaction."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return call(*args, **kwargs)


def request_code(client, email, password, *, number=NUMBER, **fields):
    data = {
        "nome": NAMES.get(email, ""),
        "cpf": CPFS.get(email, ""),
        "senha": password,
        "aceite": "on",
        **fields,
    }
    return committed(client.post, reverse("contract_sign", args=[number]), data)


def send_code(client, code, *, number=NUMBER):
    return committed(client.post, reverse("contract_sign", args=[number]), {"codigo": code})


def sign(client, email, password, *, number=NUMBER):
    """Both steps, as the signer's browser does them; returns the second response."""
    response = request_code(client, email, password, number=number)
    assert response.status_code == 303, response.content.decode()[:2000]
    return send_code(client, last_code(email), number=number)


def sign_all(users: dict, password: str, *, number=NUMBER) -> None:
    """Every designated signer signs, in order, each in their own session."""
    from tests.conftest import HOST_A, host_client

    for email, user in users.items():
        client = host_client(HOST_A, user)
        client.defaults["HTTP_USER_AGENT"] = BROWSER
        response = sign(client, email, password, number=number)
        assert response.status_code == 303
