"""Login, logout, lockout, password change/reset and invitations, each on the tenant's own host."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.accounts import services
from portal.accounts.models import User
from tests.conftest import HOST_A, HOST_B, host_client
from tests.factories import TEST_PASSWORD, TenantDomainFactory, UserFactory

NEW_PASSWORD = "Outra-Senha-Forte-2025"
BAD_LOGIN = "E-mail ou senha incorretos"
LOCKED = "Muitas tentativas sem sucesso. Tente novamente em 15 minutos."
PER_RESPONSE_TOKENS = re.compile(r'(nonce|name="csrfmiddlewaretoken" value)="[^"]*"')

pytestmark = pytest.mark.django_db


def log_in(client, email, password, **extra):
    return client.post(reverse("login"), {"username": email, "password": password, **extra})


def is_logged_in(client) -> bool:
    """What the user sees: the password page opens instead of sending them to the login."""
    return client.get(reverse("password_change")).status_code == 200


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def open_link(client, link):
    """Follow an e-mailed link the way a browser would: the path, on the link's own host."""
    path = re.sub(r"^https?://[^/]+", "", link)
    return client.get(path, follow=True)


# Login and logout


def test_login_on_own_host_lands_on_dashboard(user_a, anon_a):
    response = log_in(anon_a, "Compras@ClienteAlfa.com.br", TEST_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert is_logged_in(anon_a)


def test_login_keeps_the_page_the_user_asked_for(user_a, anon_a):
    response = log_in(anon_a, user_a.email, TEST_PASSWORD, next="/senha/alterar/")

    assert response["Location"] == "/senha/alterar/"


def test_login_ignores_a_next_url_on_another_host(user_a, anon_a):
    response = log_in(anon_a, user_a.email, TEST_PASSWORD, next="https://evil.example.com/")

    assert response["Location"] == reverse("dashboard")


def test_same_credentials_fail_on_the_other_tenants_host(user_a, tenant_b):
    client = host_client(HOST_B)

    response = log_in(client, user_a.email, TEST_PASSWORD)

    assert response.status_code == 200
    assert BAD_LOGIN in response.content.decode()
    assert not is_logged_in(client)


def test_one_email_with_logins_at_two_tenants_uses_each_own_password(user_a, customer_b):
    twin = UserFactory(customer=customer_b, email=user_a.email)
    twin.set_password(NEW_PASSWORD)
    twin.save()

    assert BAD_LOGIN in log_in(host_client(HOST_A), user_a.email, NEW_PASSWORD).content.decode()
    assert BAD_LOGIN in log_in(host_client(HOST_B), user_a.email, TEST_PASSWORD).content.decode()

    on_a, on_b = host_client(HOST_A), host_client(HOST_B)
    assert log_in(on_a, user_a.email, TEST_PASSWORD).status_code == 302
    assert log_in(on_b, user_a.email, NEW_PASSWORD).status_code == 302
    assert on_a.session["_auth_user_id"] == str(user_a.pk)
    assert on_b.session["_auth_user_id"] == str(twin.pk)


def test_session_cookie_replayed_on_the_other_host_is_anonymous(client_a, tenant_b):
    replay = host_client(HOST_B)
    replay.cookies = client_a.cookies

    response = replay.get(reverse("password_change"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert is_logged_in(client_a)


def test_logout_ends_the_session_and_says_so(client_a):
    response = client_a.post(reverse("logout"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("login")
    assert "Você saiu do portal." in response.content.decode()
    assert not is_logged_in(client_a)


def test_logout_by_get_does_nothing(client_a):
    assert client_a.get(reverse("logout")).status_code == 405
    assert is_logged_in(client_a)


def test_language_switch_works_without_login(anon_a):
    response = anon_a.post(reverse("set_language"), {"language": "pt-br", "next": "/entrar/"})

    assert response.status_code == 302
    assert response["Location"] == "/entrar/"
    assert response.cookies["django_language"].value == "pt-br"


# Inactive logins


def test_inactive_customer_cannot_log_in_and_is_told_why(user_a, customer_a, anon_a):
    customer_a.is_active = False
    customer_a.save()

    response = log_in(anon_a, user_a.email, TEST_PASSWORD)

    assert "O cadastro do seu cliente está inativo" in response.content.decode()
    assert not is_logged_in(anon_a)


def test_inactive_user_cannot_log_in_and_is_told_why(user_a, anon_a):
    user_a.is_active = False
    user_a.save()

    response = log_in(anon_a, user_a.email, TEST_PASSWORD)

    assert "Este acesso está desativado" in response.content.decode()
    assert not is_logged_in(anon_a)


def test_inactive_user_with_a_wrong_password_gets_the_generic_message(user_a, anon_a):
    user_a.is_active = False
    user_a.save()

    body = log_in(anon_a, user_a.email, "chute-errado").content.decode()

    assert BAD_LOGIN in body and "desativado" not in body


def test_customer_deactivated_in_the_erp_ends_open_sessions(client_a, customer_a):
    customer_a.is_active = False
    customer_a.save()

    assert not is_logged_in(client_a)


# Lockout (django-axes)


def test_five_failures_lock_that_email_on_that_tenant_for_15_minutes(
    user_a, other_user_a, customer_b, anon_a
):
    twin_b = UserFactory(customer=customer_b, email=user_a.email)
    for _attempt in range(5):
        log_in(anon_a, user_a.email, "senha-errada")

    response = log_in(anon_a, user_a.email, TEST_PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not is_logged_in(anon_a)
    # Another login of the same company, from the same address, is not locked.
    assert log_in(host_client(HOST_A), other_user_a.email, TEST_PASSWORD).status_code == 302
    # Nor is the same e-mail at the other company.
    on_b = host_client(HOST_B)
    assert log_in(on_b, twin_b.email, TEST_PASSWORD).status_code == 302


def test_failures_below_the_limit_do_not_lock(user_a, anon_a):
    for _attempt in range(4):
        log_in(anon_a, user_a.email, "senha-errada")

    assert log_in(anon_a, user_a.email, TEST_PASSWORD).status_code == 302


# Password change


def test_password_change_keeps_this_session_and_ends_the_others(user_a):
    here, elsewhere = host_client(HOST_A, user_a), host_client(HOST_A, user_a)

    response = here.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow=True,
    )

    assert "Senha alterada" in response.content.decode()
    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)
    assert log_in(host_client(HOST_A), user_a.email, NEW_PASSWORD).status_code == 302


def test_password_change_with_a_wrong_current_password_is_refused(client_a, user_a):
    response = client_a.post(
        reverse("password_change"),
        {
            "old_password": "nao-e-essa",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 200
    user_a.refresh_from_db()
    assert user_a.check_password(TEST_PASSWORD)


def test_temporary_password_forces_the_change_page_first(user_a, anon_a):
    user_a.must_change_password = True
    user_a.save()

    log_in(anon_a, user_a.email, TEST_PASSWORD)
    forced = anon_a.get(reverse("dashboard"))

    assert forced.status_code == 302
    assert forced["Location"] == reverse("password_change")
    page = anon_a.get(reverse("password_change")).content.decode()
    assert "Sua senha atual é temporária" in page

    anon_a.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    user_a.refresh_from_db()
    assert not user_a.must_change_password
    assert anon_a.get(reverse("dashboard")).status_code == 200


# Password reset


def request_reset(client, email):
    return client.post(reverse("password_reset"), {"email": email}, follow=True)


def test_password_reset_mails_a_link_on_the_tenants_host(user_a, anon_a):
    response = request_reset(anon_a, user_a.email.upper())

    assert "Verifique seu e-mail" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user_a.email]
    assert "Alfa Máquinas Ltda" in message.subject
    assert link_in(message).startswith(f"http://{HOST_A}/senha/redefinir/")


def test_password_reset_of_another_tenants_user_sends_nothing_and_looks_the_same(
    user_a, user_b, anon_a
):
    known = request_reset(anon_a, user_a.email).content.decode()
    mail.outbox.clear()

    unknown = request_reset(anon_a, user_b.email).content.decode()

    assert mail.outbox == []
    # Identical pages but for the per-response CSP nonce and CSRF token.
    assert PER_RESPONSE_TOKENS.sub("", unknown) == PER_RESPONSE_TOKENS.sub("", known)


def test_password_reset_link_uses_the_primary_host_not_the_request(user_a, tenant_a):
    TenantDomainFactory(tenant=tenant_a, hostname="antigo.alfa.test", is_primary=False)
    client = host_client("antigo.alfa.test")

    request_reset(client, user_a.email)
    client.post(
        reverse("password_reset"), {"email": user_a.email}, HTTP_X_FORWARDED_HOST="evil.example"
    )

    links = [link_in(message) for message in mail.outbox]
    assert len(links) == 2
    assert all(link.startswith(f"http://{HOST_A}/") for link in links)


def test_password_reset_link_sets_a_new_password(user_a, anon_a):
    request_reset(anon_a, user_a.email)

    form = open_link(anon_a, link_in(mail.outbox[0]))
    assert "Escolher nova senha" in form.content.decode()
    done = anon_a.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert "Senha salva" in done.content.decode()
    assert log_in(host_client(HOST_A), user_a.email, NEW_PASSWORD).status_code == 302
    used_again = open_link(host_client(HOST_A), link_in(mail.outbox[0]))
    assert "Link inválido" in used_again.content.decode()


def test_reset_link_with_another_tenants_uid_is_invalid(user_a, user_b, anon_a):
    uid_b = urlsafe_base64_encode(force_bytes(user_b.pk))
    token_b = default_token_generator.make_token(user_b)

    response = anon_a.get(reverse("password_reset_confirm", args=(uid_b, token_b)), follow=True)

    assert "Link inválido" in response.content.decode()
    assert "new_password1" not in response.content.decode()


def test_reset_link_of_tenant_a_does_not_work_on_tenant_bs_host(user_a, tenant_b):
    request_reset(host_client(HOST_A), user_a.email)

    response = host_client(HOST_B).get(
        re.sub(r"^https?://[^/]+", "", link_in(mail.outbox[0])), follow=True
    )

    assert "Link inválido" in response.content.decode()


def test_password_reset_ignores_inactive_customers(user_a, customer_a, anon_a):
    customer_a.is_active = False
    customer_a.save()

    request_reset(anon_a, user_a.email)

    assert mail.outbox == []


# Invitations


def test_invitation_lets_the_user_set_a_password_and_log_in(
    customer_a, anon_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_create(
            tenant=customer_a.tenant, customer=customer_a, email="Nova.Pessoa@ClienteAlfa.com.br"
        )
        services.user_send_invitation(user=user)

    assert user.email == "nova.pessoa@clientealfa.com.br"
    assert not user.has_usable_password()
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "Você foi convidado para o Portal do Cliente de Alfa Máquinas Ltda" in message.body
    assert link_in(message).startswith(f"http://{HOST_A}/senha/redefinir/")

    form = open_link(anon_a, link_in(message))
    anon_a.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    response = log_in(host_client(HOST_A), user.email, NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_invitation_mail_waits_for_the_commit(customer_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user = services.user_create(
            tenant=customer_a.tenant, customer=customer_a, email="espera@clientealfa.com.br"
        )
        services.user_send_invitation(user=user)

    assert mail.outbox == []
    assert len(callbacks) == 1


def test_invited_user_cannot_log_in_before_setting_a_password(customer_a, anon_a):
    user = services.user_create(
        tenant=customer_a.tenant, customer=customer_a, email="convidado@clientealfa.com.br"
    )

    assert not User.objects.get(pk=user.pk).has_usable_password()
    assert BAD_LOGIN in log_in(anon_a, user.email, "qualquer-coisa").content.decode()
