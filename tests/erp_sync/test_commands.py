"""The ERP demo commands and `demo`: what support and a demo audience see."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from erp_sync.demo_data import COMPANIES
from erp_sync.management.commands.demo import TENANTS
from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido, ErpPedidoItem, ErpPedidoParcela
from portal.accounts.models import Customer, Tenant, User
from portal.formats import brl, validate_cnpj
from proposals.models import Order


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db):
    run("erp_demo", "seed")


def test_demo_cnpjs_are_valid():
    cnpjs = [cnpj for company in COMPANIES for _, _, cnpj in company.customers]
    cnpjs += [spec["cnpj"] for spec in TENANTS]
    for cnpj in cnpjs:
        validate_cnpj(cnpj)
    assert len(set(cnpjs)) == len(cnpjs)


@pytest.mark.django_db
def test_seed_writes_consistent_orders_in_every_status_once(seeded):
    for empresa, first in ((1, 7001), (2, 8001)):
        pedidos = ErpPedido.objects.filter(empresa_id=empresa)
        assert pedidos.count() == 30
        assert set(pedidos.values_list("status", flat=True)) == {"PRO", "APR", "PED", "CAN"}
        assert pedidos.order_by("numero").first().numero == first
        # Numbers grow with their dates, like a real ERP's; the newest are open proposals.
        by_number = list(pedidos.order_by("numero").values_list("emitido_em", "status"))
        assert [day for day, _status in by_number] == sorted(day for day, _status in by_number)
        assert by_number[-1][1] == "PRO"
    for pedido in ErpPedido.objects.filter(status__in=["APR", "PED"]):
        assert pedido.aprovado_em.date() > pedido.emitido_em and pedido.aprovado_por
    for pedido in ErpPedido.objects.all():
        items = ErpPedidoItem.objects.filter(pedido=pedido)
        parcelas = ErpPedidoParcela.objects.filter(pedido=pedido)
        assert 1 <= items.count() <= 15 and 1 <= parcelas.count() <= 12
        assert items.aggregate(s=Sum("valor_total"))["s"] == (
            pedido.valor_produtos + pedido.valor_servicos
        )
        assert parcelas.aggregate(s=Sum("valor"))["s"] == pedido.valor_total
        assert pedido.valor_total == (
            pedido.valor_produtos + pedido.valor_servicos - pedido.desconto + pedido.frete
        )
    assert "already seeded" in run("erp_demo", "seed")
    assert ErpPedido.objects.count() == 60


@pytest.mark.django_db
def test_advance_cancel_and_edit_change_the_erp_row_and_its_version(seeded):
    before = ErpPedido.objects.get(numero=7030)
    assert "PRO → PED" in run("erp_demo", "advance", "7030", "PED")
    run("erp_demo", "cancel", "7029")
    items_before = ErpPedidoItem.objects.filter(pedido__numero=7028).count()
    first_price = ErpPedidoItem.objects.filter(pedido__numero=7028).order_by("sequencia")[0]
    run("erp_demo", "edit", "7028")

    after = ErpPedido.objects.get(numero=7030)
    assert (after.status, after.versao > before.versao) == ("PED", True)
    assert ErpPedido.objects.get(numero=7029).status == "CAN"
    edited = ErpPedido.objects.get(numero=7028)
    items = ErpPedidoItem.objects.filter(pedido=edited).order_by("sequencia")
    assert items.count() == max(items_before - 1, 1)
    assert items[0].valor_unitario == (first_price.valor_unitario * Decimal("1.10")).quantize(
        Decimal("0.01")
    )
    parcelas = ErpPedidoParcela.objects.filter(pedido=edited).aggregate(s=Sum("valor"))["s"]
    assert parcelas == edited.valor_total


@pytest.mark.django_db
def test_erp_demo_refuses_unknown_numbers_and_statuses(seeded):
    with pytest.raises(CommandError, match="No order 9999"):
        run("erp_demo", "cancel", "9999")
    with pytest.raises(CommandError):
        run("erp_demo", "advance", "7001", "XYZ")


@pytest.mark.django_db
def test_demo_is_idempotent_and_its_logins_work():
    def counts():
        with scopes_disabled():
            return (Tenant.objects.count(), User.objects.count(), Order.objects.count())

    first = run("demo")
    before = counts()
    run("demo")
    assert counts() == before
    assert before[0] == 2 and before[2] == 60
    assert "compras@horizonte.com.br" in first and "demo-alfa-2026" in first

    # One e-mail, two companies, two passwords: each works on its own host only.
    for host, password, other in (
        ("localhost", "ana-na-alfa-2026", "ana-na-beta-2026"),
        ("beta.localhost", "ana-na-beta-2026", "ana-na-alfa-2026"),
    ):
        client = Client(HTTP_HOST=host)
        refused = client.post(
            reverse("login"),
            {"username": "ana.oliveira@grupoexemplo.com.br", "password": other},
        )
        assert refused.status_code == 200
        response = client.post(
            reverse("login"),
            {"username": "ana.oliveira@grupoexemplo.com.br", "password": password},
        )
        assert response.status_code == 302
        assert client.get(reverse("order_list")).status_code == 200


@pytest.mark.django_db
def test_erp_sync_command_mirrors_and_reports(seeded):
    run("tenants", "add", "alfa", "--name", "Alfa", "--erp-company", "1", "--domain", "a.test")
    first = run("erp_sync")
    second = run("erp_sync", "--tenant", "alfa")
    assert "orders +30" in first
    assert "orders +0 ~0 -0 =30" in second
    with scopes_disabled():
        assert Customer.objects.filter(tenant__slug="alfa").count() == 4


@pytest.mark.django_db
def test_propose_makes_a_new_proposal_that_mails_its_customer(
    settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default"],
        }
    }
    run("demo")  # the demo's first sync: its proposals are not news
    with django_capture_on_commit_callbacks(execute=True):
        out = run("erp_demo", "propose")
        erp_sync_tenant(tenant=Tenant.objects.get(slug="alfa"))  # what the follower does

    pedido = ErpPedido.objects.order_by("-id").first()
    total = brl(pedido.valor_total)
    assert out.strip() == (
        f"Proposta {pedido.numero} criada para Metalúrgica Horizonte Ltda "
        f"(cliente {pedido.cliente_id}, empresa 1): {total}"
    )
    subject = f"Nova proposta nº {pedido.numero} de Alfa Máquinas"
    assert sorted(m.to[0] for m in mail.outbox if m.subject == subject) == [
        "compras@horizonte.com.br",
        "diretoria@horizonte.com.br",
        "juridico@horizonte.com.br",
    ]
    assert f"Valor total: {total}" in mail.outbox[0].body
