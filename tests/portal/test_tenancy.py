"""The Host header decides the tenant: known hosts, unknown hosts, domain changes, bad hosts."""

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from portal.accounts.models import TenantDomain
from tests.conftest import HOST_A, HOST_B, host_client

pytestmark = pytest.mark.django_db

NOT_CONFIGURED = "Portal não configurado"


def login_page(host):
    return host_client(host).get(reverse("login"))


def assert_not_configured(response):
    body = response.content.decode()
    assert response.status_code == 404
    assert NOT_CONFIGURED in body
    assert "<form" not in body and "password" not in body


def test_each_host_serves_its_own_tenant(tenant_a, tenant_b):
    page_a = login_page(HOST_A).content.decode()
    page_b = login_page(HOST_B).content.decode()

    assert "Alfa Máquinas Ltda" in page_a and "Beta" not in page_a
    assert "Beta Serviços S.A." in page_b and "Alfa" not in page_b


@pytest.mark.parametrize("path", ["/", "/entrar/", "/senha/recuperar/", "/admin/", "/pedidos/1/"])
def test_unknown_host_gets_404_without_login_form(tenant_a, path):
    assert_not_configured(host_client("desconhecido.example.com").get(path))


def test_inactive_tenant_is_not_served(tenant_a):
    tenant_a.is_active = False
    tenant_a.save()

    assert_not_configured(login_page(HOST_A))


def test_new_domain_works_at_once_even_after_a_cached_miss(tenant_a):
    assert_not_configured(login_page("novo.alfa.test"))

    TenantDomain.objects.create(hostname="Novo.Alfa.Test", tenant=tenant_a)

    assert "Alfa Máquinas Ltda" in login_page("novo.alfa.test").content.decode()


def test_removed_domain_stops_at_once(tenant_a):
    domain = TenantDomain.objects.create(hostname="antigo.alfa.test", tenant=tenant_a)
    assert login_page("antigo.alfa.test").status_code == 200

    domain.delete()

    assert_not_configured(login_page("antigo.alfa.test"))


def test_domain_moved_to_another_tenant_serves_the_new_one_at_once(tenant_a, tenant_b):
    domain = TenantDomain.objects.create(hostname="compartilhado.test", tenant=tenant_a)
    assert "Alfa Máquinas" in login_page("compartilhado.test").content.decode()

    domain.tenant = tenant_b
    domain.save()

    assert "Beta Serviços" in login_page("compartilhado.test").content.decode()


def test_responses_vary_on_host(tenant_a):
    assert "Host" in login_page(HOST_A)["Vary"]
    assert "Host" in login_page(settings.SUPPORT_HOST)["Vary"]


@pytest.mark.parametrize("host", [f"{HOST_A}:8000", HOST_A.upper(), f"{HOST_A}:443"])
def test_host_with_port_or_capitals_is_the_same_tenant(tenant_a, host):
    response = login_page(host)

    assert response.status_code == 200
    assert "Alfa Máquinas Ltda" in response.content.decode()


@pytest.mark.parametrize(
    "host",
    [
        f"{HOST_A}@evil.example.com",
        f"evil.example.com/{HOST_A}",
        f"{HOST_A}:80:80",
        f"{HOST_A} evil.example.com",
        f"{HOST_A}:porta",
    ],
)
def test_poisoned_host_gets_400_and_sends_no_mail(user_a, host):
    response = host_client(host).post(reverse("password_reset"), {"email": user_a.email})

    assert response.status_code == 400
    assert mail.outbox == []
