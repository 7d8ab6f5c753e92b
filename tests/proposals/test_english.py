"""The customer pages in English: labels from the catalogue, money and dates still Brazilian."""

import datetime
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django_scopes import scopes_disabled

from erp_sync.mirror import erp_sync_tenant
from portal.accounts.models import User
from proposals.models import Order
from tests.conftest import HOST_A, host_client
from tests.erp_builders import erp_cliente, erp_pedido
from tests.factories import ContractFactory, OrderFactory

pytestmark = pytest.mark.django_db

# Labels a customer reads on these pages, in pt-BR: none may be left on an English page.
PT_LABELS = [
    "Aguardam sua ação",
    "Últimos pedidos",
    "Ver todos os pedidos",
    "Parcelas",
    "ACESSAR",
    "Painel",
    "Pedidos",
    "FILTROS",
    "Limpar filtros",
    "VISUALIZAR",
    "APROVAR PROPOSTA",
    "RECUSAR PROPOSTA",
    "RETORNAR",
    "Emissão",
    "Validade",
    "Vendedor",
    "Itens",
    "Descrição",
    "Desconto",
    "Frete",
    "Totais",
    "Pagamento",
    "Histórico",
    "Documentos e anexos",
    "Dados do pedido",
    "Proposta comercial",
    "Aprovado — aguardando faturamento",
    "Confirmar aprovação",
    "Confirmar recusa",
    "Motivo",
    "Enviar o contrato assinado",
    "Contrato Assinado",
    "Sair",
    "Alterar senha",
    "Pular para o conteúdo",
    "Idioma",
    "Entrar",
    "Senha",
    "Esqueci minha senha",
    "Salvar nova senha",
]


def visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))  # keeps R$'s NBSP


def pt_left(html: str) -> list[str]:
    text = visible(html)
    return [label for label in PT_LABELS if re.search(rf"(?<!\w){re.escape(label)}(?!\w)", text)]


@pytest.fixture
def english_user(user_a):
    user_a.language = "en"
    user_a.save(update_fields=["language"])
    return user_a


@pytest.fixture
def proposal(tenant_a, user_a):
    """Proposal 7101 as the ERP has it: 3 items (R$ 1.407,00), 2 installments, issued 02/03/2026."""
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id, nome="Cliente Um")
    erp_pedido(
        cliente,
        7101,
        items=3,
        parcelas=2,
        emitido_em=datetime.date(2026, 3, 2),
        validade=datetime.date(2099, 12, 31),
    )
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        return Order.objects.get(tenant=tenant_a, number=7101)


@pytest.fixture
def with_contract(customer_a):
    """Order 7102 with a contract to sign and upload (the upload form, its refusals)."""
    order = OrderFactory(customer=customer_a, number=7102)
    ContractFactory(order=order)
    return order


def customer_pages(order, with_contract) -> list[str]:
    number = order.number
    return [
        reverse("dashboard"),
        reverse("order_list"),
        reverse("order_list") + "?status=XX&de=99/99/9999",
        reverse("order_detail", args=[number]),
        reverse("order_approve", args=[number]),
        reverse("order_decline", args=[number]),
        reverse("order_detail", args=[with_contract.number]),
        reverse("contract_detail", args=[with_contract.number]),
        reverse("password_change"),
    ]


def test_every_customer_page_in_english_keeps_no_pt_br_label(english_user, proposal, with_contract):
    client = host_client(HOST_A, english_user)
    for url in customer_pages(proposal, with_contract):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()

        assert '<html lang="en">' in html, url
        assert pt_left(html) == [], url


def test_english_pages_keep_brazilian_money_and_dates(english_user, proposal):
    client = host_client(HOST_A, english_user)

    detail = visible(client.get(reverse("order_detail", args=[proposal.number])).content.decode())

    assert "Order no. 7101" in detail
    assert "APPROVE PROPOSAL" in detail and "DECLINE PROPOSAL" in detail
    assert "Total R$\u00a01.407,00" in detail
    assert "3\u00a0UN\u00a0× R$\u00a0301,50" in detail  # never broken inside "3 UN ×"
    assert "Issued 02/03/2026" in detail and "Valid until 31/12/2099" in detail
    assert "Proposal" in detail  # the status badge
    dashboard = visible(client.get(reverse("dashboard")).content.decode())
    assert "Awaiting your action" in dashboard
    assert "Approve proposal no. 7101" in dashboard
    assert "issued on 02/03/2026" in dashboard
    assert "#1 01/04/2026 R$\u00a0703,50" in dashboard


def test_the_same_pages_stay_in_pt_br_by_default(client_a, proposal):
    html = client_a.get(reverse("order_detail", args=[proposal.number])).content.decode()

    assert '<html lang="pt-br">' in html
    assert "APROVAR PROPOSTA" in visible(html)


def test_a_browser_asking_for_english_still_gets_pt_br(client_a, proposal):
    """The choice is the customer's (the switch), not the browser's Accept-Language."""
    html = client_a.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert "Aguardam sua ação" in html.content.decode()


def test_switch_on_the_login_page_without_login_then_login_keeps_it(anon_a, user_a, password):
    switched = anon_a.post(reverse("set_language"), {"language": "en", "next": "/entrar/"})
    assert switched.status_code == 302
    assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

    login_page = anon_a.get(reverse("login")).content.decode()
    assert "Log in" in visible(login_page) and pt_left(login_page) == []
    anon_a.post(reverse("login"), {"username": user_a.email, "password": password})

    with scopes_disabled():
        assert User.objects.get(pk=user_a.pk).language == "en"
    assert "Awaiting your action" in anon_a.get(reverse("dashboard")).content.decode()


def test_switch_back_to_pt_br_when_logged_in_is_kept_on_the_user(english_user, proposal):
    client = host_client(HOST_A, english_user)

    client.post(reverse("set_language"), {"language": "pt-br", "next": reverse("dashboard")})

    with scopes_disabled():
        assert User.objects.get(pk=english_user.pk).language == "pt-br"
    assert "Aguardam sua ação" in client.get(reverse("dashboard")).content.decode()


def test_a_language_the_portal_lacks_is_not_kept(client_a, user_a):
    client_a.post(reverse("set_language"), {"language": "fr", "next": "/"})

    with scopes_disabled():
        assert User.objects.get(pk=user_a.pk).language == ""
    assert '<html lang="pt-br">' in client_a.get(reverse("dashboard")).content.decode()


def test_a_service_message_reaches_the_page_in_english(english_user, proposal):
    client = host_client(HOST_A, english_user)

    response = client.post(
        reverse("order_decline", args=[proposal.number]),
        {"motivo": "Preço acima do orçamento", "versao": proposal.erp_version},
        follow=True,
    )

    text = visible(response.content.decode())
    assert "Proposal 7101 declined. The company has received your reason." in text
    assert "Preço acima do orçamento" in text  # what the customer wrote stays as written
