"""Creating logins: the rules `customer_users add` and the admin both rely on."""

import pytest
from django.core.exceptions import ValidationError

from portal.accounts import services

pytestmark = pytest.mark.django_db


def test_user_create_lowercases_the_email_and_sets_the_password(customer_a):
    user = services.user_create(
        tenant=customer_a.tenant,
        customer=customer_a,
        email="  Maria.Silva@ClienteAlfa.com.br ",
        name="Maria Silva",
        password="Senha-Provisoria-2025",
        must_change_password=True,
    )

    assert user.email == "maria.silva@clientealfa.com.br"
    assert user.check_password("Senha-Provisoria-2025")
    assert user.must_change_password
    assert user.tenant == customer_a.tenant and user.customer == customer_a


def test_user_create_without_password_leaves_it_unusable(customer_a):
    user = services.user_create(
        tenant=customer_a.tenant, customer=customer_a, email="convite@clientealfa.com.br"
    )

    assert not user.has_usable_password()


def test_the_same_email_twice_in_one_tenant_is_refused_in_portuguese(user_a, customer_a):
    with pytest.raises(ValidationError) as error:
        services.user_create(
            tenant=customer_a.tenant, customer=customer_a, email=user_a.email.upper()
        )

    assert error.value.message_dict == {
        "email": ["Já existe um login com este e-mail nesta empresa."]
    }


def test_the_same_email_at_another_tenant_is_allowed(user_a, customer_b):
    user = services.user_create(tenant=customer_b.tenant, customer=customer_b, email=user_a.email)

    assert user.pk != user_a.pk


def test_a_customer_of_another_tenant_is_refused(tenant_a, customer_b):
    with pytest.raises(ValidationError) as error:
        services.user_create(tenant=tenant_a, customer=customer_b, email="x@clientebeta.com.br")

    assert error.value.message_dict == {"customer": ["Este cliente não pertence a esta empresa."]}


def test_a_customer_login_needs_a_customer(tenant_a):
    with pytest.raises(ValidationError) as error:
        services.user_create(tenant=tenant_a, customer=None, email="sem.cliente@alfa.com.br")

    assert "customer" in error.value.message_dict


def test_a_staff_login_needs_no_customer(tenant_a):
    user = services.user_create(
        tenant=tenant_a, customer=None, email="equipe@alfa.com.br", is_staff=True
    )

    assert user.is_staff and user.customer is None and not user.is_superuser
