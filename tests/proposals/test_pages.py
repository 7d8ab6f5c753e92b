"""The customer pages as a customer sees them: PAINEL, PEDIDOS, an order, approval, downloads."""

import datetime
import hashlib
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.template import loader
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from proposals.models import (
    Approval,
    Attachment,
    AttachmentKind,
    AttachmentOrigin,
    OrderSnapshot,
    OrderStatus,
    StatusChange,
)
from proposals.snapshots import order_snapshot_data
from tests.conftest import HOST_A, HOST_B, host_client
from tests.factories import (
    ContractFactory,
    InstallmentFactory,
    OrderFactory,
    OrderItemFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def page(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text(html: str) -> str:
    """The visible text, roughly: tags dropped, whitespace (not the NBSP of R$) collapsed."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


def numbers_listed(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<th scope="row" data-label="Número">(\d+)</th>', html)]


def attachment_for(order, *, name="especificação técnica.pdf", content=b"%PDF-1.4 conteudo"):
    attachment = Attachment(
        tenant=order.tenant,
        order=order,
        kind=AttachmentKind.OTHER,
        origin=AttachmentOrigin.ERP,
        name=name,
        mime="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        created_at=timezone.now(),
    )
    attachment.file.save("anexo", ContentFile(content), save=False)
    attachment.save()
    return attachment


# PAINEL


def test_dashboard_shows_the_customer_and_the_latest_orders_with_installments(client_a, customer_a):
    older = OrderFactory(
        customer=customer_a,
        number=5001,
        issued_on=datetime.date(2026, 3, 1),
        total=Decimal("99.90"),
    )
    order = OrderFactory(
        customer=customer_a,
        number=5002,
        status=OrderStatus.ORDER,
        issued_on=datetime.date(2026, 3, 5),
        total=Decimal("12345.67"),
    )
    InstallmentFactory(order=order, number=1, due_date=datetime.date(2026, 4, 5), amount=100)
    InstallmentFactory(
        order=order, number=2, due_date=datetime.date(2026, 5, 5), amount=Decimal("12245.67")
    )

    html = page(client_a, reverse("dashboard"))
    body = text(html)

    assert "Painel" in body and customer_a.name in body
    assert "Últimos pedidos" in body
    assert numbers_listed(html) == [5002, 5001]
    assert "05/03/2026" in body and "Pedido" in body
    assert "R$\u00a012.345,67" in body and "R$\u00a099,90" in body
    assert "05/04/2026 R$\u00a0100,00" in body
    assert "05/05/2026 R$\u00a012.245,67" in body
    assert f'href="{reverse("order_detail", args=[5002])}">ACESSAR' in html
    assert f'href="{reverse("order_detail", args=[older.number])}">ACESSAR' in html
    assert f'href="{reverse("order_list")}"' in html


def test_dashboard_lists_only_the_ten_latest_of_the_customer(
    client_a, customer_a, other_customer_a
):
    for number in range(1, 13):
        OrderFactory(customer=customer_a, number=number)
    OrderFactory(customer=other_customer_a, number=99)

    html = page(client_a, reverse("dashboard"))

    assert numbers_listed(html) == list(range(12, 2, -1))


def test_staff_login_without_customer_sees_no_orders(tenant_a, customer_a):
    OrderFactory(customer=customer_a, number=5001)
    staff = UserFactory(customer=None, tenant=tenant_a, is_staff=True)
    client = host_client(HOST_A, staff)

    assert numbers_listed(page(client, reverse("dashboard"))) == []
    assert numbers_listed(page(client, reverse("order_list"))) == []
    assert client.get(reverse("order_detail", args=[5001])).status_code == 404


# Layout


def test_layout_carries_the_tenant_brand_with_a_csp_nonce(client_a, tenant_a):
    tenant_a.display_name = "Alfa Máquinas"
    tenant_a.primary_color = "#aa3300"
    tenant_a.save()

    response = client_a.get(reverse("dashboard"))
    html = response.content.decode()

    assert '<html lang="pt-br">' in html
    assert "Alfa Máquinas" in html
    nonce = re.search(r'<style nonce="([^"]+)">:root\{--brand: #aa3300\}</style>', html).group(1)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    # White text on this red reads at 6.0:1; links in it too (portal.branding).
    assert ":root{--on-brand: #ffffff; --brand-text: #aa3300}" in html
    assert 'href="#conteudo"' in html and 'id="conteudo"' in html
    assert f'action="{reverse("logout")}"' in html
    assert f'href="{reverse("password_change")}"' in html
    assert "compras@clientealfa.com.br" in html


def test_login_page_has_no_navigation_and_the_support_host_a_generic_brand(anon_a):
    login = page(anon_a, reverse("login"))
    assert f'href="{reverse("order_list")}"' not in login
    assert "Alfa Máquinas Ltda" in login

    support = page(host_client("suporte.localhost"), reverse("login"))
    assert "Portal do Cliente" in support
    assert "<style nonce" not in support


# PEDIDOS


@pytest.fixture
def history(customer_a, other_customer_a):
    """Six orders of customer A (numbers 101..106) and one of another customer."""
    specs = [
        (101, OrderStatus.ORDER, datetime.date(2026, 1, 10), "Mariana Souza", "", "Parafuso M8"),
        (102, OrderStatus.CANCELLED, datetime.date(2026, 1, 20), "Mariana Souza", "", "Porca M8"),
        (103, OrderStatus.APPROVED, datetime.date(2026, 2, 3), "João Lima", "", "Arruela"),
        (104, OrderStatus.PROPOSAL, datetime.date(2026, 2, 14), "João Lima", "Urgente", "Motor"),
        (105, OrderStatus.PROPOSAL, datetime.date(2026, 3, 1), "Ana Reis", "", "Compressor 50 L"),
        (106, OrderStatus.ORDER, datetime.date(2026, 3, 9), "Ana Reis", "", "Mangueira"),
    ]
    for number, status, issued_on, salesperson, notes, item in specs:
        order = OrderFactory(
            customer=customer_a,
            number=number,
            status=status,
            issued_on=issued_on,
            salesperson=salesperson,
            notes=notes,
        )
        OrderItemFactory(order=order, description=item, code=f"COD-{number}")
    stranger = OrderFactory(customer=other_customer_a, number=900, salesperson="Ana Reis")
    OrderItemFactory(order=stranger, description="Compressor 50 L")


def listed(client, **params) -> list[int]:
    return numbers_listed(page(client, reverse("order_list"), **params))


def test_order_list_shows_every_order_of_the_customer_newest_first(client_a, history):
    html = page(client_a, reverse("order_list"))
    body = text(html)

    assert numbers_listed(html) == [106, 105, 104, 103, 102, 101]
    assert "09/03/2026" in body and "R$\u00a01.234,56" in body
    assert "Aprovado — aguardando faturamento" in body and "Cancelado" in body
    assert f'href="{reverse("order_detail", args=[106])}">VISUALIZAR' in html
    assert 'class="badge badge--can"' in html


def test_order_list_filters_by_status(client_a, history):
    assert listed(client_a, status="PRO") == [105, 104]
    assert listed(client_a, status="CAN") == [102]


def test_order_list_filters_by_period_in_both_date_formats(client_a, history):
    assert listed(client_a, de="2026-02-01", ate="2026-02-28") == [104, 103]
    assert listed(client_a, de="01/02/2026", ate="28/02/2026") == [104, 103]
    assert listed(client_a, de="01/03/2026") == [106, 105]
    assert listed(client_a, ate="2026-01-10") == [101]


def test_order_list_filters_by_number_and_text(client_a, history):
    assert listed(client_a, numero="103") == [103]
    assert listed(client_a, numero="900") == []  # another customer's order
    assert listed(client_a, q="compressor") == [105]  # item description
    assert listed(client_a, q="COD-102") == [102]  # item code
    assert listed(client_a, q="joão") == [104, 103]  # salesperson
    assert listed(client_a, q="Urgente") == [104]  # observations
    assert listed(client_a, q="106") == [106]  # order number
    assert listed(client_a, q="Mariana", status="CAN") == [102]


def test_order_list_explains_invalid_filters_instead_of_failing(client_a, history):
    html = page(client_a, reverse("order_list"), de="31/02/2026", ate="ontem", status="PRO")
    body = text(html)

    assert "Data inicial inválida: use o formato dd/mm/aaaa." in body
    assert "Data final inválida: use o formato dd/mm/aaaa." in body
    assert numbers_listed(html) == [105, 104]  # the valid filter still applies

    html = page(client_a, reverse("order_list"), de="2026-03-01", ate="2026-02-01")
    assert "A data final é anterior à data inicial." in text(html)

    html = page(client_a, reverse("order_list"), numero="12a", status="XYZ")
    assert "Número do pedido inválido" in text(html) and "Status inválido." in text(html)


def test_order_list_says_when_no_order_matches(client_a, history):
    html = page(client_a, reverse("order_list"), q="inexistente")
    assert "Nenhum pedido encontrado com esses filtros." in text(html)


def _next_link(html: str, rel: str) -> str | None:
    match = re.search(rf'rel="{rel}" href="(\?[^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


@override_settings(ORDER_LIST_PAGE_SIZE=4)
def test_keyset_pagination_walks_every_order_once_and_back(client_a, customer_a):
    numbers = list(range(1000, 1030, 3))  # 10 orders, gaps between numbers
    for number in numbers:
        OrderFactory(customer=customer_a, number=number, status=OrderStatus.PROPOSAL)
    OrderFactory(customer=customer_a, number=5000, status=OrderStatus.ORDER)
    url = reverse("order_list")

    pages, query = [], "?status=PRO"
    while query:
        assert "status=PRO" in query  # filters travel with the page position
        html = page(client_a, url + query)
        pages.append(numbers_listed(html))
        query = _next_link(html, "next")
    seen = [n for numbers_on_page in pages for n in numbers_on_page]

    assert [len(p) for p in pages] == [4, 4, 2]
    assert seen == sorted(numbers, reverse=True)
    assert "apos=1009" in _next_link(page(client_a, url + "?status=PRO&apos=1021"), "next")

    backwards, query = [], _next_link(page(client_a, url + "?status=PRO&apos=1006"), "prev")
    while query:
        html = page(client_a, url + query)
        backwards.append(numbers_listed(html))
        query = _next_link(html, "prev")
    assert backwards == pages[1::-1]  # the same pages, walked back to the newest


def test_order_list_ignores_a_garbled_page_position(client_a, history):
    assert listed(client_a, apos="abc") == [106, 105, 104, 103, 102, 101]


def test_out_of_range_numbers_anywhere_are_not_errors(client_a, full_order):
    huge = "9" * 30
    for params in ({"apos": huge}, {"antes": huge}, {"numero": huge}, {"q": huge}, {"q": "²"}):
        assert client_a.get(reverse("order_list"), params).status_code == 200
    assert client_a.get(detail_url(full_order), {"comparar": huge}).status_code == 200
    assert client_a.get(f"/pedidos/{huge}/").status_code == 404
    assert client_a.get(f"/pedidos/7003/anexos/{huge}/").status_code == 404
    response = client_a.post(reverse("order_approve", args=[7003]), {"versao": huge})
    assert response.status_code == 303
    assert not Approval.objects.exists()


# Order detail


@pytest.fixture
def full_order(customer_a):
    order = OrderFactory(
        customer=customer_a,
        number=7003,
        issued_on=datetime.date(2026, 3, 2),
        valid_until=TODAY + datetime.timedelta(days=10),
        salesperson="Mariana Souza",
        payment_method="Boleto bancário",
        payment_terms="30/60 dias",
        notes="Entrega no almoxarifado.\nHorário: 8h às 17h.",
        products_total=Decimal("2469.12"),
        services_total=Decimal("350.00"),
        discount=Decimal("19.12"),
        freight=Decimal("80.00"),
        total=Decimal("2880.00"),
    )
    OrderItemFactory(
        order=order,
        sequence=1,
        code="CMP-050",
        description="Compressor de ar 50 L",
        quantity=Decimal("2.5000"),
        unit="UN",
        unit_price=Decimal("987.6480"),
        discount=Decimal("0"),
        total=Decimal("2469.12"),
        notes="Voltagem 220 V — garantia de 12 meses",
    )
    OrderItemFactory(
        order=order,
        sequence=2,
        code="SRV-01",
        kind="S",
        description="Instalação",
        quantity=1,
        unit="SV",
        unit_price=350,
        total=350,
        notes="",
    )
    InstallmentFactory(order=order, number=1, due_date=datetime.date(2026, 4, 1), amount=1440)
    InstallmentFactory(order=order, number=2, due_date=datetime.date(2026, 5, 1), amount=1440)
    return order


def detail_url(order) -> str:
    return reverse("order_detail", args=[order.number])


def test_order_detail_shows_the_whole_order(client_a, full_order, customer_a):
    html = page(client_a, detail_url(full_order))
    body = text(html)

    assert "Pedido nº 7003" in body and 'class="badge badge--pro"' in html
    assert "02/03/2026" in body and "Mariana Souza" in body
    assert full_order.valid_until.strftime("%d/%m/%Y") in body
    assert customer_a.name in body and customer_a.cpf_cnpj in body
    assert "CMP-050" in body and "Compressor de ar 50 L" in body
    # The unit price keeps its third place: 2,5 × 987,648 is the 2.469,12 shown.
    assert "2,5" in body and "R$\u00a0987,648" in body and "R$\u00a02.469,12" in body
    assert "INFORMAÇÕES: Voltagem 220 V — garantia de 12 meses" in body
    assert body.count("INFORMAÇÕES:") == 1  # an item without notes has no empty line
    assert "Boleto bancário" in body and "30/60 dias" in body
    assert "01/04/2026" in body and "01/05/2026" in body and "R$\u00a01.440,00" in body
    for amount in ("R$\u00a0350,00", "R$\u00a019,12", "R$\u00a080,00", "R$\u00a02.880,00"):
        assert amount in body
    assert "Entrega no almoxarifado.\nHorário: 8h às 17h." in html
    assert f'href="{reverse("order_list")}">RETORNAR' in html


def test_order_detail_lists_attachments_and_the_status_timeline(client_a, full_order):
    small = attachment_for(full_order, name="memorial.pdf", content=b"x" * 2560)
    big = attachment_for(full_order, name="projeto.dwg", content=b"y" * (3 * 1024 * 1024 + 1))
    StatusChange.objects.create(
        tenant=full_order.tenant,
        order=full_order,
        to_status=OrderStatus.PROPOSAL,
        changed_at=datetime.datetime(2026, 3, 2, 12, 30, tzinfo=datetime.UTC),
        erp_version=1,
    )

    html = page(client_a, detail_url(full_order))
    body = text(html)

    assert reverse("attachment_download", args=[7003, small.pk]) in html
    assert reverse("attachment_download", args=[7003, big.pk]) in html
    assert "memorial.pdf" in body and "2,5\xa0KB" in body
    assert "projeto.dwg" in body and "3,0\xa0MB" in body
    assert "Proposta 02/03/2026 09:30" in body  # São Paulo time


def test_open_proposal_offers_the_approval_button(client_a, full_order):
    html = page(client_a, detail_url(full_order))
    approve = reverse("order_approve", args=[7003])
    assert f'href="{approve}">APROVAR PROPOSTA' in html


def test_expired_proposal_says_why_it_cannot_be_approved(client_a, full_order):
    full_order.valid_until = TODAY - datetime.timedelta(days=1)
    full_order.save()

    html = page(client_a, detail_url(full_order))

    assert "APROVAR PROPOSTA" not in html
    expected = f"A validade desta proposta terminou em {full_order.valid_until:%d/%m/%Y}"
    assert expected in text(html)


def test_unsigned_contract_blocks_the_button(client_a, full_order):
    ContractFactory(order=full_order)
    html = page(client_a, detail_url(full_order))
    assert "APROVAR PROPOSTA" not in html
    assert "Envie o contrato assinado antes de aprovar a proposta." in html


def test_approved_order_shows_who_approved_it_and_the_evidence(client_a, full_order, user_a):
    full_order.status = OrderStatus.APPROVED
    full_order.save()
    Approval.objects.create(
        tenant=full_order.tenant,
        order=full_order,
        user=user_a,
        approved_at=datetime.datetime(2026, 3, 3, 17, 5, tzinfo=datetime.UTC),
        ip_address="203.0.113.9",
        order_version=4,
        proposal_sha256="a" * 64,
    )

    html = page(client_a, detail_url(full_order))
    body = text(html)

    assert "Aprovado por compras@clientealfa.com.br em 03/03/2026 14:05" in body
    assert "203.0.113.9" in body and "a" * 64 in body
    assert "SHA-256 do contrato assinado" not in body  # empty: not shown
    assert "APROVAR PROPOSTA" not in html and 'class="badge badge--apr"' in html


def test_cancelled_order_is_not_open_for_approval(client_a, full_order):
    full_order.status = OrderStatus.CANCELLED
    full_order.save()
    html = page(client_a, detail_url(full_order))
    assert "APROVAR PROPOSTA" not in html
    assert "não está aberta para aprovação (status: Cancelado)" in html


def test_comparison_shows_what_the_customer_saw_against_the_erp_now(client_a, full_order):
    def snapshot():
        data = order_snapshot_data(
            full_order, full_order.items.all(), full_order.installments.all()
        )
        OrderSnapshot.objects.create(
            tenant=full_order.tenant,
            order=full_order,
            erp_version=full_order.erp_version,
            data=data,
        )

    with scopes_disabled():
        snapshot()
        seen = full_order.erp_version
        full_order.total = Decimal("3100.00")
        full_order.erp_version = seen + 1
        full_order.save()
        full_order.items.get(sequence=2).delete()
        snapshot()

    body = text(page(client_a, detail_url(full_order), comparar=seen))

    assert "O que você viu" in body and "Como está agora" in body
    assert "versão" not in body  # the ERP's version numbers are ours, not the customer's
    assert "Valor total R$\u00a02.880,00 R$\u00a03.100,00" in body
    assert "Item 2 — Instalação removido" in body


def test_unknown_or_foreign_order_numbers_are_404(client_a, other_customer_a, customer_b):
    OrderFactory(customer=other_customer_a, number=8001, salesperson="Vendedor Secreto")
    OrderFactory(customer=customer_b, number=8002, salesperson="Vendedor Secreto")
    for number in (8001, 8002, 9999):
        response = client_a.get(reverse("order_detail", args=[number]))
        assert response.status_code == 404
        body = response.content.decode()
        assert "Página não encontrada" in body and "Vendedor Secreto" not in body
        assert client_a.get(reverse("order_approve", args=[number])).status_code == 404


# Approval pages


def test_confirmation_page_summarises_the_proposal(client_a, full_order):
    html = page(client_a, reverse("order_approve", args=[7003]))
    body = text(html)

    assert "Confirmar aprovação da proposta nº 7003" in body
    assert "R$\u00a02.880,00" in body
    assert "01/04/2026 R$\u00a01.440,00" in body and "01/05/2026 R$\u00a01.440,00" in body
    assert f'name="versao" value="{full_order.erp_version}"' in html
    assert 'method="post"' in html and "Confirmar aprovação</button>" in html
    assert f'href="{detail_url(full_order)}">Cancelar' in html


def test_confirmation_of_an_expired_proposal_goes_back_with_the_reason(client_a, full_order):
    full_order.valid_until = TODAY - datetime.timedelta(days=3)
    full_order.save()

    response = client_a.get(reverse("order_approve", args=[7003]))

    assert response.status_code == 303
    assert response["Location"] == detail_url(full_order)
    assert "A validade desta proposta terminou" in page(client_a, response["Location"])


def test_approval_without_a_valid_version_approves_nothing(client_a, full_order):
    for data in ({}, {"versao": "7x"}):
        response = client_a.post(reverse("order_approve", args=[7003]), data)
        assert response.status_code == 303
        assert response["Location"] == detail_url(full_order)
        assert "Não foi possível confirmar a aprovação" in page(client_a, response["Location"])
    assert not Approval.objects.exists()


def test_approval_of_an_outdated_version_shows_the_comparison(client_a, full_order):
    seen = full_order.erp_version
    full_order.erp_version = seen + 2
    full_order.save()

    response = client_a.post(reverse("order_approve", args=[7003]), {"versao": seen})

    assert response.status_code == 303
    assert response["Location"] == f"{detail_url(full_order)}?comparar={seen}"
    assert "foi alterada pela empresa" in page(client_a, response["Location"])
    assert not Approval.objects.exists()


def test_approve_answers_405_to_other_methods(client_a, full_order):
    assert client_a.put(reverse("order_approve", args=[7003])).status_code == 405


def test_server_error_page_renders_without_a_request():
    html = loader.get_template("500.html").render()
    assert "Algo deu errado" in html and '<html lang="pt-br">' in html


# Attachment download


def test_attachment_downloads_as_a_private_attachment(client_a, full_order):
    attachment = attachment_for(
        full_order, name='../../proposta "final"\r\n.pdf', content=b"%PDF-1.4 dados"
    )

    response = client_a.get(reverse("attachment_download", args=[7003, attachment.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 dados"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "/" not in disposition and "\r" not in disposition and '"final"' not in disposition
    assert "proposta" in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "application/pdf"


def test_attachment_with_an_accented_name_keeps_it(client_a, full_order):
    attachment = attachment_for(full_order, name="especificação técnica.pdf")
    response = client_a.get(reverse("attachment_download", args=[7003, attachment.pk]))
    assert (
        "filename*=utf-8''especifica%C3%A7%C3%A3o%20t%C3%A9cnica.pdf"
        in response["Content-Disposition"]
    )


def test_attachment_whose_file_is_gone_is_404_not_an_error(client_a, full_order):
    attachment = attachment_for(full_order)
    attachment.file.storage.delete(attachment.file.name)
    response = client_a.get(reverse("attachment_download", args=[7003, attachment.pk]))
    assert response.status_code == 404


def test_attachment_of_another_order_or_customer_is_404(
    client_a, full_order, customer_a, other_customer_a, other_user_a
):
    mine = attachment_for(full_order)
    other_order = OrderFactory(customer=customer_a, number=7004)
    foreign = attachment_for(OrderFactory(customer=other_customer_a, number=7005))

    assert client_a.get(reverse("attachment_download", args=[7004, mine.pk])).status_code == 404
    assert client_a.get(reverse("attachment_download", args=[7005, foreign.pk])).status_code == 404
    assert client_a.get(reverse("attachment_download", args=[7003, foreign.pk])).status_code == 404
    other = host_client(HOST_A, other_user_a)
    assert other.get(reverse("attachment_download", args=[7003, mine.pk])).status_code == 404
    assert other_order.pk  # the number exists: still 404 for an attachment it does not hold


def test_customer_of_another_tenant_gets_404_on_its_own_host(full_order, user_b):
    attachment = attachment_for(full_order)
    client_b = host_client(HOST_B, user_b)
    for url in (
        detail_url(full_order),
        reverse("order_approve", args=[7003]),
        reverse("attachment_download", args=[7003, attachment.pk]),
    ):
        assert client_b.get(url).status_code == 404
