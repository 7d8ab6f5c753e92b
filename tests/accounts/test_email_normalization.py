"""One normalization of e-mails (NFKC + casefold), for storing, looking up and locking out.

Issue #9, finding 2: on PostgreSQL, after 5 failures for compras@horizonte.com.br, the look-alikes
`compraſ@…` (U+017F) and `compras@horızonte…` (U+0131) each got 4 more guesses and then logged
in: axes keyed the lockout on Python's `.lower()`, the login was found by PostgreSQL's `UPPER()`.
"""

import importlib

import pytest
from django.apps import apps
from django.core import mail
from django.urls import reverse

from portal.accounts import services
from portal.accounts.models import User, normalize_email
from tests.conftest import HOST_A, host_client
from tests.factories import TEST_PASSWORD, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

EMAIL = "compras@horizonte.com.br"
LONG_S = "compra\u017f@horizonte.com.br"  # ſ: UPPER() is S
DOTLESS_I = "compras@hor\u0131zonte.com.br"  # ı: UPPER() is I
LOCKED = "Muitas tentativas sem sucesso"


@pytest.fixture
def horizonte(tenant_a):
    customer = CustomerFactory(tenant=tenant_a, name="Horizonte Engenharia Ltda")
    return UserFactory(customer=customer, email=EMAIL)


def log_in(email, password):
    client = host_client(HOST_A)
    response = client.post(reverse("login"), {"username": email, "password": password})
    return response, client


def logged_in(client) -> bool:
    return client.get(reverse("password_change")).status_code == 200


@pytest.mark.postgres
@pytest.mark.parametrize("look_alike", [LONG_S, DOTLESS_I], ids=["U+017F", "U+0131"])
def test_a_look_alike_email_gets_no_more_guesses_after_the_lockout(horizonte, look_alike):
    for _attempt in range(5):
        log_in(EMAIL, "senha-errada")

    for _attempt in range(4):
        log_in(look_alike, "outra-errada")
    response, client = log_in(look_alike, TEST_PASSWORD)

    assert not logged_in(client)
    assert response.status_code in (200, 429)
    assert LOCKED in response.content.decode() or "E-mail ou senha incorretos" in (
        response.content.decode()
    )
    # The real login stays locked too.
    assert log_in(EMAIL, TEST_PASSWORD)[0].status_code == 429


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("Compras@Horizonte.com.br", EMAIL),
        (LONG_S, EMAIL),
        ("  COMPRAS@HORIZONTE.COM.BR ", EMAIL),
        ("compras@ｈｏｒｉｚｏｎｔｅ.com.br", EMAIL),  # full-width letters
        ("stra\u00dfe@horizonte.com.br", "strasse@horizonte.com.br"),  # ß
        (DOTLESS_I, DOTLESS_I),  # its own letter: casefold keeps it, and no login has it
    ],
)
def test_one_normalization(typed, normalized):
    assert normalize_email(typed) == normalized


def test_the_lockout_key_is_the_normalized_email(horizonte):
    for _attempt in range(5):
        log_in(LONG_S.upper(), "senha-errada")

    assert log_in(EMAIL, TEST_PASSWORD)[0].status_code == 429


def test_a_look_alike_of_a_login_logs_into_that_login_with_its_password(horizonte):
    response, client = log_in(LONG_S, TEST_PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(horizonte.pk)


def test_the_dotless_i_is_another_email_that_no_login_has(horizonte):
    response, client = log_in(DOTLESS_I, TEST_PASSWORD)

    assert "E-mail ou senha incorretos" in response.content.decode()
    assert not logged_in(client)


def test_emails_are_stored_normalized_by_every_way_in(tenant_a, customer_a):
    created = services.user_create(
        tenant=tenant_a, customer=customer_a, email=" Compra\u017f@X.com"
    )
    by_manager = User.objects.create_user("Suporte\u017f@Fornecedor.com", "x")

    assert created.email == "compras@x.com"
    assert by_manager.email == "suportes@fornecedor.com"
    with pytest.raises(Exception, match="Já existe um login com este e-mail"):
        services.user_create(tenant=tenant_a, customer=customer_a, email="COMPRAS@x.com")


def test_password_reset_finds_the_login_by_the_normalized_email(horizonte, anon_a):
    anon_a.post(reverse("password_reset"), {"email": LONG_S})

    assert [m.to for m in mail.outbox] == [[EMAIL]]


def test_the_data_migration_normalizes_stored_emails(horizonte, tenant_a):
    User.objects.filter(pk=horizonte.pk).update(email="Compra\u017f@Horizonte.COM.br")
    migration = importlib.import_module("portal.accounts.migrations.0004_normalize_emails")

    migration.normalize_stored_emails(apps, None)

    horizonte.refresh_from_db()
    assert horizonte.email == EMAIL


def test_the_data_migration_stops_on_logins_that_become_one(horizonte, tenant_a):
    twin = UserFactory(customer=horizonte.customer, email="twin@horizonte.com.br")
    User.objects.filter(pk=twin.pk).update(email=LONG_S)
    migration = importlib.import_module("portal.accounts.migrations.0004_normalize_emails")

    with pytest.raises(RuntimeError, match=f"alfa: {EMAIL}"):
        migration.normalize_stored_emails(apps, None)
