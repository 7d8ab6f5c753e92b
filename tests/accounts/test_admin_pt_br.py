"""The admin in pt-BR throughout: names of models and columns, rows named by what they are,
django-axes too; the first domain of a company is its primary; an ERP company id with no rows
in the ERP is warned about."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Tenant, TenantDomain
from proposals.models import Approval
from tests.conftest import host_client
from tests.erp_builders import erp_cliente
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

ENGLISH = re.compile(
    r"\bobject \(\d+\)|>\s*ORDER\s*<|Access attempts?|Access logs?|Access failures?|"
    r"\bIP Address\b|\bUser Agent\b|\bAttempt Time\b|>\s*Axes\s*<|>\s*(Tenant|Order|User)\s*<|"
    r">\s*Accounts\s*<",
    re.IGNORECASE,
)


@pytest.fixture
def support_client(db):
    support = UserFactory(
        customer=None, tenant=None, is_staff=True, is_superuser=True, email="s@fornecedor.com.br"
    )
    return host_client(settings.SUPPORT_HOST, support)


@pytest.fixture
def approval(user_a):
    order = OrderFactory(customer=user_a.customer, number=7001, status="APR")
    return Approval.objects.create(
        tenant=order.tenant,
        order=order,
        user=user_a,
        approved_at=timezone.now(),
        ip_address="203.0.113.9",
        order_version=1,
    )


ADMIN_PAGES = [
    "admin:index",
    "admin:accounts_tenant_changelist",
    "admin:accounts_user_changelist",
    "admin:accounts_customer_changelist",
    "admin:proposals_order_changelist",
    "admin:proposals_approval_changelist",
    "admin:contracts_contract_changelist",
    "admin:erp_sync_syncstate_changelist",
    "admin:axes_accessattempt_changelist",
    "admin:axes_accesslog_changelist",
    "admin:axes_accessfailurelog_changelist",
]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_support_admin_pages_speak_pt_br(name, support_client, approval):
    html = support_client.get(reverse(name)).content.decode()
    assert not ENGLISH.search(html), ENGLISH.search(html).group(0)


def test_an_approval_is_named_by_its_order(support_client, approval):
    html = support_client.get(
        reverse("admin:proposals_approval_change", args=[approval.pk])
    ).content.decode()
    assert "Aprovação da proposta 7001" in html
    assert "Approval object" not in html
    changelist = support_client.get(reverse("admin:proposals_approval_changelist"))
    assert ">pedido<" in changelist.content.decode().lower().replace(" ", "")


def test_axes_reads_in_pt_br(support_client):
    index = support_client.get(reverse("admin:index")).content.decode()
    assert "Bloqueios de acesso" in index and "Tentativas de acesso" in index
    assert "Contas e empresas" in index


def new_tenant_post(hostname: str, erp_company_id: int, primary: bool = False) -> dict:
    data = {
        "name": "Gama Ferragens Ltda",
        "slug": "gama",
        "erp_company_id": erp_company_id,
        "is_active": "on",
        "primary_color": "#1f4e79",
        "domains-TOTAL_FORMS": "1",
        "domains-INITIAL_FORMS": "0",
        "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000",
        "domains-0-hostname": hostname,
        "_save": "1",
    }
    if primary:
        data["domains-0-is_primary"] = "on"
    return data


def test_the_first_domain_of_a_company_is_its_primary(support_client):
    erp_cliente(30, nome="Cliente da Gama")
    response = support_client.post(
        reverse("admin:accounts_tenant_add"), new_tenant_post("gama.portal.test", 30)
    )

    assert response.status_code == 302
    domain = TenantDomain.objects.get(hostname="gama.portal.test")
    assert domain.is_primary and domain.tenant.slug == "gama"


def test_an_erp_company_without_rows_is_warned_about(support_client):
    response = support_client.post(
        reverse("admin:accounts_tenant_add"),
        new_tenant_post("gama.portal.test", 31, primary=True),
        follow=True,
    )

    assert Tenant.objects.filter(slug="gama").exists()  # saved: the ERP may fill it later
    assert "o ERP não tem nenhum cliente nem pedido da empresa 31" in response.content.decode()


def test_an_erp_company_with_rows_gets_no_warning(support_client):
    erp_cliente(32, nome="Cliente da Gama")
    response = support_client.post(
        reverse("admin:accounts_tenant_add"),
        new_tenant_post("gama.portal.test", 32, primary=True),
        follow=True,
    )
    assert "o ERP não tem nenhum cliente" not in response.content.decode()
