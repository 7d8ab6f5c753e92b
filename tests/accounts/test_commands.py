"""Support's commands: tenants and customer logins."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from portal.accounts.models import Tenant, TenantDomain, User
from tests.factories import CustomerFactory


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_tenants_add_domains_and_list():
    run(
        "tenants",
        "add",
        "gama",
        "--name",
        "Gama Ltda",
        "--erp-company",
        "7",
        "--domain",
        "Gama.Test",
    )
    run("tenants", "domain-add", "gama", "portal.gama.test")
    tenant = Tenant.objects.get(slug="gama")
    domains = dict(TenantDomain.objects.filter(tenant=tenant).values_list("hostname", "is_primary"))
    assert domains == {"gama.test": True, "portal.gama.test": False}
    assert "gama\tERP 7\tGama Ltda\tgama.test*, portal.gama.test" in run("tenants", "list")

    run("tenants", "domain-remove", "gama", "gama.test")
    assert TenantDomain.objects.get(hostname="portal.gama.test").is_primary
    assert Client(HTTP_HOST="gama.test").get(reverse("login")).status_code == 404


@pytest.mark.django_db
def test_tenants_add_checks_the_cnpj():
    add = ("tenants", "add", "gama", "--name", "Gama Ltda", "--erp-company", "7")
    with pytest.raises(CommandError, match="CNPJ inválido"):
        run(*add, "--domain", "gama.test", "--cnpj", "12.345.678/0001-96")
    assert not Tenant.objects.filter(slug="gama").exists()

    run(*add, "--domain", "gama.test", "--cnpj", "12.345.678/0001-95")
    assert Tenant.objects.get(slug="gama").cnpj == "12.345.678/0001-95"


@pytest.mark.django_db
def test_tenants_errors_are_clear(tenant_a):
    cases = [
        (
            ("add", "alfa", "--name", "X", "--erp-company", "99", "--domain", "x.test"),
            "already exists",
        ),
        (
            ("add", "novo", "--name", "X", "--erp-company", "1", "--domain", "x.test"),
            "ERP company 1",
        ),
        (
            ("add", "novo", "--name", "X", "--erp-company", "99", "--domain", "alfa.portal.test"),
            "already serves",
        ),
        (("domain-add", "nada", "x.test"), "Unknown tenant"),
        (("domain-remove", "alfa", "beta.portal.test"), "is not a domain"),
    ]
    for args, message in cases:
        with pytest.raises(CommandError, match=message):
            run("tenants", *args)


@pytest.mark.django_db
def test_customer_users_add_with_a_permanent_password(tenant_a, customer_a):
    run(
        "customer_users",
        "add",
        "--tenant",
        "alfa",
        "--customer",
        str(customer_a.erp_id),
        "--email",
        "Novo@Cliente.com.br",
        "--password",
        "Senha-Permanente-1",
    )
    user = User.objects.get(tenant=tenant_a, email="novo@cliente.com.br")
    assert (user.customer, user.must_change_password) == (customer_a, False)
    client = Client(HTTP_HOST="alfa.portal.test")
    response = client.post(
        reverse("login"), {"username": "novo@cliente.com.br", "password": "Senha-Permanente-1"}
    )
    assert response.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_customer_users_add_with_an_invitation(tenant_a, customer_a):
    run(
        "customer_users",
        "add",
        "--tenant",
        "alfa",
        "--customer",
        str(customer_a.erp_id),
        "--email",
        "convidado@cliente.com.br",
        "--invite",
    )
    assert not User.objects.get(email="convidado@cliente.com.br").has_usable_password()
    assert len(mail.outbox) == 1
    assert "http://alfa.portal.test/senha/redefinir/" in mail.outbox[0].body


@pytest.mark.django_db
def test_customer_users_errors_are_clear(tenant_a, tenant_b, customer_a, user_a):
    base = ["customer_users", "add", "--email", "x@y.com.br", "--password", "p"]
    with pytest.raises(CommandError, match="Unknown tenant"):
        run(*base, "--tenant", "nada", "--customer", "1")
    with pytest.raises(CommandError, match="not mirrored"):
        run(*base, "--tenant", "alfa", "--customer", "424242")
    other_tenant_customer = CustomerFactory(tenant=tenant_b)
    with pytest.raises(CommandError, match="not mirrored"):
        run(*base, "--tenant", "alfa", "--customer", str(other_tenant_customer.erp_id))
    with pytest.raises(CommandError, match="Já existe um login"):
        run(
            "customer_users",
            "add",
            "--tenant",
            "alfa",
            "--customer",
            str(customer_a.erp_id),
            "--email",
            user_a.email.upper(),
            "--password",
            "p",
        )
