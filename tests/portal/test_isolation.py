"""The isolation matrix: every customer URL × {anonymous, other customer, other tenant, owner}.

The URL list is generated from the URL patterns: a new customer URL that is not in MATRIX (and
not declared public or admin) fails `test_every_customer_url_is_in_the_matrix`.
"""

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from contracts.models import (
    ContractSigner,
    SealedContract,
    SealingCertificate,
    SignatureMode,
    SignatureTrail,
    SignerRole,
)
from erp_sync.models import ErpPortalEvento
from proposals.models import Approval, Attachment, AttachmentKind, AttachmentOrigin, Decline
from tests.conftest import HOST_A, HOST_B, host_client
from tests.factories import ContractFactory, InstallmentFactory, OrderFactory, OrderItemFactory

# URL names that are public on purpose, or belong to the admin (tested in tests/accounts).
NOT_CUSTOMER_URLS = {
    "healthz",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    "tenant_logo",  # the company's own logo, shown on its login page too
    # Public, authorised by a signed token; its isolation: tests/notifications/test_unsubscribe.py
    "mail_unsubscribe",
    # Public on purpose; tenant isolation of the codes: tests/contracts/test_verify.py.
    "verify",
    "verify_code",
}


def _url_names(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue
            yield from _url_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


class Case:
    """How to reach one customer URL for `order`, and what proves the owner got the data."""

    def __init__(self, build, shows=lambda order: str(order.number), method="get"):
        self.build = build
        self.shows = shows
        self.method = method


def _attachment(order):
    content = b"%PDF-1.4 anexo do pedido " + str(order.number).encode()
    attachment = Attachment(
        tenant=order.tenant,
        order=order,
        erp_id=None,
        kind=AttachmentKind.OTHER,
        origin=AttachmentOrigin.ERP,
        name="especificacao.pdf",
        mime="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        created_at=timezone.now(),
    )
    attachment.file.save("isolation-test", ContentFile(content), save=False)
    attachment.save()
    return attachment


def _contract(order):
    """A MANUAL contract whose PDF came from the ERP (no rendering needed)."""
    contract = ContractFactory(order=order)
    content = b"%PDF-1.4 contrato do pedido " + str(order.number).encode()
    contract.erp_file.save("isolation-contract.pdf", ContentFile(content), save=False)
    contract.erp_file_sha256 = hashlib.sha256(content).hexdigest()
    contract.save()
    return contract


def _digital_contract(order):
    """A DIGITAL contract whose designated signer is the owner's login (user_a)."""
    contract = ContractFactory(order=order, signature_mode=SignatureMode.DIGITAL)
    ContractSigner.objects.create(
        tenant=order.tenant,
        contract=contract,
        email="compras@clientealfa.com.br",
        role=SignerRole.PARTY,
    )
    return contract


def _sealed_contract(order):
    """A sealed "Contrato Assinado" row (its bytes stand in for a real seal)."""
    contract = _digital_contract(order)
    trail = SignatureTrail.objects.create(
        tenant=order.tenant,
        contract=contract,
        order=order,
        order_number=order.number,
        contract_title=contract.title,
        created_at=timezone.now(),
    )
    certificate = SealingCertificate.objects.create(
        tenant=order.tenant,
        password_encrypted="-",
        subject="Selo de teste",
        issuer="AC de teste",
        serial="1",
        fingerprint_sha256="0" * 64,
        not_before=timezone.now(),
        not_after=timezone.now(),
        chain_pem="",
        created_at=timezone.now(),
    )
    content = b"%PDF-1.4 contrato assinado do pedido " + str(order.number).encode()
    seal = SealedContract(
        tenant=order.tenant,
        trail=trail,
        certificate=certificate,
        verification_code=f"TEST-{order.number}",
        contract_sha256="0" * 64,
        contract_source="0" * 64,
        sealed_sha256=hashlib.sha256(content).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        sealed_at=timezone.now(),
    )
    seal.file.save("isolation-sealed.pdf", ContentFile(content), save=False)
    seal.sealed_file.name = seal.file.name
    seal.save()
    return contract


MATRIX = {
    "dashboard": Case(lambda order: reverse("dashboard")),
    "order_list": Case(lambda order: reverse("order_list")),
    "order_detail": Case(lambda order: reverse("order_detail", args=[order.number])),
    "order_approve": Case(lambda order: reverse("order_approve", args=[order.number])),
    "order_decline": Case(lambda order: reverse("order_decline", args=[order.number])),
    "order_version": Case(
        lambda order: reverse("order_version", args=[order.number]),
        shows=lambda order: f'"versao": {order.erp_version}',
    ),
    "attachment_download": Case(
        lambda order: reverse("attachment_download", args=[order.number, _attachment(order).pk]),
        shows=lambda order: f"anexo do pedido {order.number}",
    ),
    "proposal_pdf": Case(
        lambda order: reverse("proposal_pdf", args=[order.number]), shows=lambda order: "%PDF-"
    ),
    "proposal_view": Case(
        lambda order: reverse("proposal_view", args=[order.number]), shows=lambda order: "%PDF-"
    ),
    "contract_detail": Case(
        lambda order: reverse("contract_detail", args=[_contract(order).order.number])
    ),
    "contract_view": Case(
        lambda order: reverse("contract_view", args=[_contract(order).order.number]),
        shows=lambda order: f"contrato do pedido {order.number}",
    ),
    "contract_download": Case(
        lambda order: reverse("contract_download", args=[_contract(order).order.number]),
        shows=lambda order: f"contrato do pedido {order.number}",
    ),
    "contract_sign": Case(
        lambda order: reverse("contract_sign", args=[_digital_contract(order).order.number]),
        shows=lambda order: "RECEBER CÓDIGO POR E-MAIL",
    ),
    "contract_sealed_download": Case(
        lambda order: reverse(
            "contract_sealed_download", args=[_sealed_contract(order).order.number]
        ),
        shows=lambda order: f"contrato assinado do pedido {order.number}",
    ),
}
LIST_PAGES = {"dashboard", "order_list"}


def test_every_customer_url_is_in_the_matrix():
    names = set(_url_names(get_resolver().url_patterns))
    missing = names - NOT_CUSTOMER_URLS - set(MATRIX)
    assert not missing, f"customer URLs missing from the isolation matrix: {sorted(missing)}"
    assert set(MATRIX) <= names, "the matrix names URLs that no longer exist"


@pytest.fixture
def owned_order(customer_a):
    order = OrderFactory(customer=customer_a, number=7001)
    OrderItemFactory(order=order, description="Compressor de ar 50 L")
    InstallmentFactory(order=order)
    return order


def _body(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous_is_sent_to_login(name, owned_order):
    url = MATRIX[name].build(owned_order)
    response = host_client(HOST_A).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_owner_sees_the_order(name, owned_order, user_a):
    url = MATRIX[name].build(owned_order)
    response = host_client(HOST_A, user_a).get(url)
    assert response.status_code == 200
    assert MATRIX[name].shows(owned_order) in _body(response)


@pytest.fixture
def intruder(request, other_user_a, user_b):
    """Another customer of the same tenant on its host, or of another tenant on its own host.

    Order 7001 exists only at tenant A: B's customer asks for it on B's host.
    """
    return {"same_tenant": (HOST_A, other_user_a), "other_tenant": (HOST_B, user_b)}[request.param]


@pytest.mark.django_db
@pytest.mark.parametrize("intruder", ["same_tenant", "other_tenant"], indirect=True)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_another_customer_gets_404(name, owned_order, intruder):
    url = MATRIX[name].build(owned_order)
    response = host_client(*intruder).get(url)
    if name in LIST_PAGES:
        assert response.status_code == 200
        assert str(owned_order.number) not in _body(response)
    else:
        assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_session_of_another_tenant_is_anonymous_here(name, owned_order, user_b):
    """B's logged-in session cookie replayed on A's host is anonymous there."""
    url = MATRIX[name].build(owned_order)
    client_b = host_client(HOST_B, user_b)
    response = client_b.get(url, HTTP_HOST=HOST_A)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_same_number_at_two_tenants_each_customer_sees_its_own(customer_a, customer_b, user_b):
    OrderFactory(customer=customer_a, number=7001, salesperson="Vendedora Alfa")
    OrderFactory(customer=customer_b, number=7001, salesperson="Vendedor Beta")
    response = host_client(HOST_B, user_b).get(reverse("order_detail", args=[7001]))
    assert response.status_code == 200
    assert "Vendedor Beta" in response.content.decode()
    assert "Vendedora Alfa" not in response.content.decode()


@pytest.mark.django_db
def test_other_customer_cannot_decline_by_post(owned_order, other_user_a, user_b):
    url = reverse("order_decline", args=[owned_order.number])
    data = {"motivo": "Não pedi isto.", "versao": owned_order.erp_version}
    assert host_client(HOST_A, other_user_a).post(url, data).status_code == 404
    assert host_client(HOST_B, user_b).post(url, data).status_code == 404
    with scopes_disabled():
        assert not Decline.objects.filter(order=owned_order).exists()
    assert not ErpPortalEvento.objects.exists()


@pytest.mark.django_db
def test_other_customer_cannot_approve_by_post(owned_order, other_user_a, user_b):
    url = reverse("order_approve", args=[owned_order.number])
    data = {"versao": owned_order.erp_version}
    assert host_client(HOST_A, other_user_a).post(url, data).status_code == 404
    assert host_client(HOST_B, user_b).post(url, data).status_code == 404
    with scopes_disabled():
        assert not Approval.objects.filter(order=owned_order).exists()
