"""The admin: tenant staff manage their own tenant only, support sees every tenant."""

import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django_scopes import scopes_disabled

from contracts.models import ContractSigner, SignatureMode, SignerRole
from portal.accounts.models import TenantDomain, User
from tests.conftest import HOST_A, HOST_B, host_client
from tests.factories import (
    TEST_PASSWORD,
    ContractFactory,
    CustomerFactory,
    OrderFactory,
    TenantDomainFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SUPPORT_HOST = settings.SUPPORT_HOST
TEMPORARY = "Provisoria-Alfa-2025"


@pytest.fixture
def staff_a(tenant_a):
    return UserFactory(customer=None, tenant=tenant_a, is_staff=True, email="equipe@alfa.com.br")


@pytest.fixture
def staff_b(tenant_b):
    return UserFactory(customer=None, tenant=tenant_b, is_staff=True, email="equipe@beta.com.br")


@pytest.fixture
def support(db):
    return UserFactory(
        customer=None,
        tenant=None,
        is_staff=True,
        is_superuser=True,
        email="suporte@fornecedor.com.br",
    )


@pytest.fixture
def admin_a(staff_a):
    return host_client(HOST_A, staff_a)


@pytest.fixture
def support_client(support):
    return host_client(SUPPORT_HOST, support)


def log_in(client, email, password=TEST_PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


def page(client, name, *args):
    return client.get(reverse(name, args=args)).content.decode()


def add_user(client, **data):
    form = {"email": "", "name": "", "customer": "", "access": "invite", "temporary_password": ""}
    return client.post(reverse("admin:accounts_user_add"), {**form, **data, "_save": "1"})


# Who gets in


def test_staff_log_in_on_their_host_and_land_in_the_admin(staff_a, tenant_a):
    client = host_client(HOST_A)

    response = log_in(client, staff_a.email)

    assert response["Location"] == reverse("admin:index")
    assert "Portal do Cliente — administração" in page(client, "admin:index")


def test_anonymous_admin_visit_goes_to_the_portal_login(tenant_a):
    response = host_client(HOST_A).get(reverse("admin:index"), follow=True)

    assert response.redirect_chain[-1][0] == f"{reverse('login')}?next=/admin/"
    assert "Entrar" in response.content.decode()


def test_customer_login_is_refused_by_the_admin(client_a):
    response = client_a.get(reverse("admin:index"), follow=True)

    assert response.status_code == 403
    assert "não tem acesso à administração" in response.content.decode()


def test_tenant_staff_cannot_log_into_the_support_host(staff_a):
    client = host_client(SUPPORT_HOST)

    response = log_in(client, staff_a.email)

    assert "E-mail ou senha incorretos" in response.content.decode()
    assert client.get(reverse("admin:index"))["Location"].startswith("/admin/login/")


def test_support_cannot_log_into_a_tenants_admin(support, tenant_a):
    client = host_client(HOST_A)

    response = log_in(client, support.email)

    assert "E-mail ou senha incorretos" in response.content.decode()
    assert client.get(reverse("admin:index"))["Location"].startswith("/admin/login/")


def test_support_session_replayed_on_a_tenant_host_is_anonymous(support_client, tenant_a):
    replay = host_client(HOST_A)
    replay.cookies = support_client.cookies

    assert replay.get(reverse("admin:accounts_user_changelist")).status_code == 302


def test_support_logs_in_on_the_support_host_and_lands_in_the_admin(support):
    client = host_client(SUPPORT_HOST)

    response = log_in(client, support.email)

    assert response["Location"] == reverse("admin:index")


def test_staff_of_one_tenant_are_not_staff_on_the_other(staff_a, tenant_b):
    replay = host_client(HOST_B)
    replay.cookies = host_client(HOST_A, staff_a).cookies

    assert replay.get(reverse("admin:index")).status_code == 302


# What tenant staff see


def test_tenant_staff_see_only_their_tenants_customers_users_and_orders(
    admin_a, user_a, user_b, customer_b
):
    OrderFactory(customer=user_a.customer)
    OrderFactory(customer=customer_b)

    customers = page(admin_a, "admin:accounts_customer_changelist")
    users = page(admin_a, "admin:accounts_user_changelist")
    orders = page(admin_a, "admin:proposals_order_changelist")

    assert "Cliente Alfa Um Ltda" in customers and "Cliente Beta Ltda" not in customers
    assert user_a.email in users and user_b.email not in users
    assert "Cliente Alfa Um Ltda" in orders and "Cliente Beta Ltda" not in orders


@pytest.mark.parametrize("model", ["customer", "user", "order"])
def test_another_tenants_object_url_shows_nothing(admin_a, user_b, model):
    objects = {
        "customer": user_b.customer,
        "user": user_b,
        "order": OrderFactory(customer=user_b.customer),
    }
    app = "proposals" if model == "order" else "accounts"

    response = admin_a.get(
        reverse(f"admin:{app}_{model}_change", args=(objects[model].pk,)), follow=True
    )

    body = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("admin:index")
    assert "não existe" in body
    assert user_b.email not in body and "Cliente Beta Ltda" not in body


def test_tenant_staff_cannot_open_tenants_or_domains(admin_a):
    assert "Empresas" not in page(admin_a, "admin:index")
    assert admin_a.get(reverse("admin:accounts_tenant_changelist")).status_code == 403


def test_customers_are_read_only_for_staff(admin_a, customer_a):
    change = admin_a.get(reverse("admin:accounts_customer_change", args=(customer_a.pk,)))

    assert 'name="name"' not in change.content.decode()
    assert admin_a.get(reverse("admin:accounts_customer_add")).status_code == 403
    response = admin_a.post(
        reverse("admin:accounts_customer_change", args=(customer_a.pk,)), {"name": "Outro"}
    )
    assert response.status_code == 403
    customer_a.refresh_from_db()
    assert customer_a.name == "Cliente Alfa Um Ltda"


# Creating and changing logins


def test_login_created_with_a_temporary_password_must_change_it(admin_a, customer_a):
    response = add_user(
        admin_a,
        email="Novo.Login@ClienteAlfa.com.br",
        name="Novo Login",
        customer=customer_a.pk,
        access="temporary",
        temporary_password=TEMPORARY,
    )

    assert response.status_code == 302
    user = User.objects.get(email="novo.login@clientealfa.com.br")
    assert user.tenant == customer_a.tenant and user.must_change_password
    assert mail.outbox == []
    client = host_client(HOST_A)
    log_in(client, user.email, TEMPORARY)
    assert client.get(reverse("dashboard"))["Location"] == reverse("password_change")


def test_login_created_with_an_invitation_gets_a_link_on_the_tenants_host(
    admin_a, customer_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add_user(admin_a, email="convidado@clientealfa.com.br", customer=customer_a.pk)

    user = User.objects.get(email="convidado@clientealfa.com.br")
    assert not user.has_usable_password() and not user.must_change_password
    assert len(mail.outbox) == 1
    assert (
        "Você foi convidado para o Portal do Cliente de Alfa Máquinas Ltda" in mail.outbox[0].body
    )
    assert re.search(rf"http://{re.escape(HOST_A)}/senha/redefinir/\S+", mail.outbox[0].body)


def test_temporary_password_must_pass_the_password_rules(admin_a, customer_a):
    response = add_user(
        admin_a,
        email="fraca@clientealfa.com.br",
        customer=customer_a.pk,
        access="temporary",
        temporary_password="123",
    )

    assert response.status_code == 200
    assert "Esta senha é muito curta" in response.content.decode()
    assert not User.objects.filter(email="fraca@clientealfa.com.br").exists()


def test_staff_cannot_create_a_superuser_or_a_login_of_another_tenant(
    admin_a, customer_a, tenant_b
):
    add_user(
        admin_a,
        email="esperto@clientealfa.com.br",
        customer=customer_a.pk,
        access="temporary",
        temporary_password=TEMPORARY,
        is_superuser="on",
        tenant=tenant_b.pk,
        company=tenant_b.pk,
    )

    user = User.objects.get(email="esperto@clientealfa.com.br")
    assert not user.is_superuser
    assert user.tenant == customer_a.tenant


def test_staff_cannot_escalate_an_existing_login(admin_a, user_a, tenant_b):
    admin_a.post(
        reverse("admin:accounts_user_change", args=(user_a.pk,)),
        {
            "email": user_a.email,
            "name": user_a.name,
            "customer": user_a.customer.pk,
            "is_active": "on",
            "is_superuser": "on",
            "tenant": tenant_b.pk,
            "temporary_password": "",
            "_save": "1",
        },
    )

    user_a.refresh_from_db()
    assert not user_a.is_superuser and not user_a.is_staff
    assert user_a.tenant.slug == "alfa"


def test_staff_cannot_give_a_login_a_customer_of_another_tenant(admin_a, customer_b):
    response = add_user(admin_a, email="outro@clientealfa.com.br", customer=customer_b.pk)

    assert response.status_code == 200
    assert "Faça uma escolha válida" in response.content.decode()
    assert not User.objects.filter(email="outro@clientealfa.com.br").exists()


def test_duplicate_email_in_the_tenant_is_refused(admin_a, user_a, customer_a):
    response = add_user(admin_a, email=user_a.email.upper(), customer=customer_a.pk)

    assert "Já existe um login com este e-mail nesta empresa." in response.content.decode()


def test_deactivating_a_login_ends_its_session(admin_a, client_a, user_a):
    admin_a.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "deactivate", "_selected_action": [user_a.pk]},
    )

    user_a.refresh_from_db()
    assert not user_a.is_active
    assert client_a.get(reverse("password_change")).status_code == 302


def test_another_tenants_login_cannot_be_deactivated(admin_a, user_b):
    admin_a.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "deactivate", "_selected_action": [user_b.pk]},
    )

    user_b.refresh_from_db()
    assert user_b.is_active


def test_staff_cannot_lock_themselves_out(admin_a, staff_a):
    response = admin_a.post(
        reverse("admin:accounts_user_change", args=(staff_a.pk,)),
        {"email": staff_a.email, "name": "", "is_staff": "on", "_save": "1"},
    )

    assert "Você não pode desativar o seu próprio login" in response.content.decode()
    staff_a.refresh_from_db()
    assert staff_a.is_active


# Contract signers


def signer_post(email, role=SignerRole.PARTY):
    return {
        "signers-TOTAL_FORMS": "1",
        "signers-INITIAL_FORMS": "0",
        "signers-MIN_NUM_FORMS": "0",
        "signers-MAX_NUM_FORMS": "1000",
        "signers-0-email": email,
        "signers-0-role": role,
        "_save": "1",
    }


def test_staff_designate_a_login_of_the_orders_customer_to_sign(admin_a, user_a):
    contract = ContractFactory(
        order=OrderFactory(customer=user_a.customer), signature_mode=SignatureMode.DIGITAL
    )

    response = admin_a.post(
        reverse("admin:contracts_contract_change", args=(contract.pk,)),
        signer_post(user_a.email.upper()),
    )

    assert response.status_code == 302
    with scopes_disabled():
        signer = ContractSigner.objects.get(contract=contract)
    assert signer.email == user_a.email and signer.tenant == contract.tenant


def test_a_signer_must_be_a_login_of_that_customer(admin_a, user_a, other_user_a):
    contract = ContractFactory(
        order=OrderFactory(customer=user_a.customer), signature_mode=SignatureMode.DIGITAL
    )

    response = admin_a.post(
        reverse("admin:contracts_contract_change", args=(contract.pk,)),
        signer_post(other_user_a.email),
    )

    assert "não é um login ativo do cliente Cliente Alfa Um Ltda" in response.content.decode()
    with scopes_disabled():
        assert not ContractSigner.objects.filter(contract=contract).exists()


def test_manual_contracts_take_no_signers(admin_a, user_a):
    contract = ContractFactory(order=OrderFactory(customer=user_a.customer))

    response = admin_a.post(
        reverse("admin:contracts_contract_change", args=(contract.pk,)), signer_post(user_a.email)
    )

    assert response.status_code == 403
    with scopes_disabled():
        assert not ContractSigner.objects.filter(contract=contract).exists()


# Support


def test_support_sees_every_tenant(support_client, user_a, user_b):
    customers = page(support_client, "admin:accounts_customer_changelist")
    users = page(support_client, "admin:accounts_user_changelist")
    tenants = page(support_client, "admin:accounts_tenant_changelist")

    assert "Cliente Alfa Um Ltda" in customers and "Cliente Beta Ltda" in customers
    assert user_a.email in users and user_b.email in users
    assert "Alfa Máquinas Ltda" in tenants and "Beta Serviços S.A." in tenants


def test_support_creates_a_login_for_a_chosen_tenant(support_client, customer_b):
    add_user(
        support_client,
        company=customer_b.tenant.pk,
        email="novo@clientebeta.com.br",
        customer=customer_b.pk,
        access="temporary",
        temporary_password=TEMPORARY,
    )

    user = User.objects.get(email="novo@clientebeta.com.br")
    assert user.tenant == customer_b.tenant and not user.is_superuser


def test_support_cannot_mix_a_tenant_with_another_tenants_customer(support_client, tenant_a):
    customer_b = CustomerFactory(name="Cliente de Outra Empresa")

    response = add_user(
        support_client,
        company=tenant_a.pk,
        email="misturado@cliente.com.br",
        customer=customer_b.pk,
    )

    assert "Este cliente não pertence a esta empresa." in response.content.decode()


def test_domain_added_by_support_works_at_once(support_client, tenant_a):
    assert host_client("novo.alfa.test").get(reverse("login")).status_code == 404

    response = support_client.post(
        reverse("admin:accounts_tenant_change", args=(tenant_a.pk,)),
        {
            "name": tenant_a.name,
            "slug": tenant_a.slug,
            "erp_company_id": tenant_a.erp_company_id,
            "is_active": "on",
            "primary_color": "#1f4e79",
            "domains-TOTAL_FORMS": "2",
            "domains-INITIAL_FORMS": "1",
            "domains-MIN_NUM_FORMS": "0",
            "domains-MAX_NUM_FORMS": "1000",
            "domains-0-hostname": HOST_A,
            "domains-0-tenant": tenant_a.pk,
            "domains-1-hostname": "Novo.Alfa.Test",
            "domains-1-is_primary": "on",
            "domains-1-tenant": tenant_a.pk,
            "_save": "1",
        },
    )

    assert response.status_code == 302
    assert TenantDomain.objects.get(hostname="novo.alfa.test").is_primary
    assert not TenantDomain.objects.get(hostname=HOST_A).is_primary
    assert "Alfa Máquinas" in host_client("novo.alfa.test").get(reverse("login")).content.decode()


def test_support_cannot_save_a_tenant_with_an_invalid_cnpj(support_client, tenant_a):
    response = support_client.post(
        reverse("admin:accounts_tenant_change", args=(tenant_a.pk,)),
        {
            "name": tenant_a.name,
            "slug": tenant_a.slug,
            "erp_company_id": tenant_a.erp_company_id,
            "is_active": "on",
            "cnpj": "12.345.678/0001-00",
            "primary_color": "#1f4e79",
            "domains-TOTAL_FORMS": "1",
            "domains-INITIAL_FORMS": "1",
            "domains-MIN_NUM_FORMS": "0",
            "domains-MAX_NUM_FORMS": "1000",
            "domains-0-hostname": HOST_A,
            "domains-0-is_primary": "on",
            "domains-0-tenant": tenant_a.pk,
            "_save": "1",
        },
    )

    assert response.status_code == 200
    assert "CNPJ inválido: confira os números" in response.content.decode()
    tenant_a.refresh_from_db()
    assert tenant_a.cnpj == "12.345.678/0001-95"


def test_support_sees_and_lifts_lockouts_and_tenant_staff_do_not(support_client, admin_a, user_a):
    anon = host_client(HOST_A)
    for _attempt in range(5):
        log_in(anon, user_a.email, "senha-errada")
    attempts = reverse("admin:axes_accessattempt_changelist")

    assert "alfa:compras@clientealfa.com.br" in support_client.get(attempts).content.decode()
    assert admin_a.get(attempts).status_code == 403

    (attempt,) = AccessAttempt.objects.all()
    support_client.post(
        reverse("admin:axes_accessattempt_delete", args=(attempt.pk,)), {"post": "yes"}
    )
    assert log_in(host_client(HOST_A), user_a.email).status_code == 302


def test_domain_removed_by_support_stops_answering_at_once(support_client, tenant_a):
    TenantDomainFactory(tenant=tenant_a, hostname="antigo.alfa.test", is_primary=False)
    assert host_client("antigo.alfa.test").get(reverse("login")).status_code == 200

    response = support_client.post(
        reverse("admin:accounts_tenant_change", args=(tenant_a.pk,)),
        {
            "name": tenant_a.name,
            "slug": tenant_a.slug,
            "erp_company_id": tenant_a.erp_company_id,
            "is_active": "on",
            "cnpj": tenant_a.cnpj,
            "primary_color": "#1f4e79",
            "domains-TOTAL_FORMS": "2",
            "domains-INITIAL_FORMS": "2",
            "domains-MIN_NUM_FORMS": "0",
            "domains-MAX_NUM_FORMS": "1000",
            "domains-0-hostname": "antigo.alfa.test",
            "domains-0-tenant": tenant_a.pk,
            "domains-0-DELETE": "on",
            "domains-1-hostname": HOST_A,
            "domains-1-is_primary": "on",
            "domains-1-tenant": tenant_a.pk,
            "_save": "1",
        },
    )

    assert response.status_code == 302
    assert list(TenantDomain.objects.values_list("hostname", flat=True)) == [HOST_A]
    assert host_client("antigo.alfa.test").get(reverse("login")).status_code == 404


def test_tenants_deleted_in_bulk_by_support_stop_answering_at_once(support_client, tenant_b):
    assert host_client(HOST_B).get(reverse("login")).status_code == 200  # now cached

    response = support_client.post(
        reverse("admin:accounts_tenant_changelist"),
        {"action": "delete_selected", "_selected_action": [tenant_b.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert host_client(HOST_B).get(reverse("login")).status_code == 404
