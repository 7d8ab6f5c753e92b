"""Nobody learns whether a login exists from how long a page takes, or from a flood of tries.

Issue #9, finding 8: a wrong password on an inactive login cost a second hash (~2.0 s against
~1.1 s); password reset sent its mail before answering (10.2 ms vs 5.7 ms) and without limit.
"""

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from django.test.client import FakePayload
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from portal.accounts import services
from portal.accounts.tasks import account_mail_send
from tests.conftest import HOST_A, host_client
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOO_MANY = "Muitas tentativas em pouco tempo. Aguarde alguns minutos e tente novamente."


class CountingHasher(MD5PasswordHasher):
    """The tests' hasher, counting each hash computed (make or check)."""

    algorithm = "md5"
    computed = 0

    def encode(self, password, salt):
        CountingHasher.computed += 1
        return super().encode(password, salt)


@pytest.fixture
def hashes():
    with override_settings(PASSWORD_HASHERS=["tests.accounts.test_login_probing.CountingHasher"]):
        CountingHasher.computed = 0
        yield CountingHasher


def post_login(email, password, client=None, **extra):
    client = client or host_client(HOST_A)
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


LOGIN_PATHS = {
    "right password": (lambda u: u.email, TEST_PASSWORD, 302),
    "wrong password": (lambda u: u.email, "errada", 200),
    "unknown e-mail": (lambda u: "ninguem@clientealfa.com.br", "errada", 200),
    "inactive, wrong password": (lambda u: "inativo@clientealfa.com.br", "errada", 200),
    "inactive, right password": (lambda u: "inativo@clientealfa.com.br", TEST_PASSWORD, 200),
    "inactive customer, right password": (lambda u: "cliente@inativo.com.br", TEST_PASSWORD, 200),
    "invited, no password yet": (lambda u: "convidado@clientealfa.com.br", "qualquer", 200),
}


@pytest.mark.parametrize("path", sorted(LOGIN_PATHS))
def test_every_login_path_costs_one_hash(path, user_a, customer_a, hashes):
    UserFactory(customer=customer_a, email="inativo@clientealfa.com.br", is_active=False)
    customer = UserFactory(email="cliente@inativo.com.br", customer__tenant=customer_a.tenant)
    customer.customer.is_active = False
    customer.customer.save()
    services.user_create(
        tenant=customer_a.tenant, customer=customer_a, email="convidado@clientealfa.com.br"
    )
    email, password, status = LOGIN_PATHS[path]
    hashes.computed = 0

    response = post_login(email(user_a), password)

    assert response.status_code == status
    assert hashes.computed == 1


def test_the_inactive_login_is_still_told_why_with_the_right_password(user_a, hashes):
    user_a.is_active = False
    user_a.save()

    response = post_login(user_a.email, TEST_PASSWORD)

    assert "Este acesso está desativado" in response.content.decode()


# Rate limits


def test_many_logins_tried_from_one_address_are_stopped(tenant_a):
    responses = [post_login(f"pessoa{n}@clientealfa.com.br", "errada") for n in range(31)]

    assert [r.status_code for r in responses[:30]] == [200] * 30
    assert responses[30].status_code == 429
    assert TOO_MANY in responses[30].content.decode()


def test_one_login_tried_from_many_addresses_is_stopped(user_a):
    responses = [
        post_login(user_a.email, TEST_PASSWORD, REMOTE_ADDR=f"10.0.0.{n}") for n in range(11)
    ]

    assert [r.status_code for r in responses[:10]] == [302] * 10
    limited = responses[10]
    assert limited.status_code == 429
    assert TOO_MANY in limited.content.decode()
    # Another login, from a fresh address, is not affected.
    other = UserFactory(customer=user_a.customer, email="outra@clientealfa.com.br")
    assert post_login(other.email, TEST_PASSWORD, REMOTE_ADDR="10.0.1.1").status_code == 302


def test_a_flood_of_password_resets_sends_three_mails(user_a, anon_a):
    """The finding: 8 resets in a second sent 8 mails."""
    responses = [anon_a.post(reverse("password_reset"), {"email": user_a.email}) for _ in range(8)]

    assert [r.status_code for r in responses] == [302] * 3 + [429] * 5
    assert TOO_MANY in responses[-1].content.decode()
    assert len(mail.outbox) == 3


def test_password_resets_of_many_emails_from_one_address_are_stopped(tenant_a, anon_a):
    responses = [
        anon_a.post(reverse("password_reset"), {"email": f"p{n}@clientealfa.com.br"})
        for n in range(11)
    ]

    assert [r.status_code for r in responses] == [302] * 10 + [429]


def test_the_reset_mail_leaves_after_the_response_is_complete(user_a, anon_a):
    """As a WSGI server runs the portal: the response first, its close() after."""
    anon_a.get(reverse("password_reset"))
    token = anon_a.cookies[settings.CSRF_COOKIE_NAME].value
    body = urlencode({"email": user_a.email, "csrfmiddlewaretoken": token}).encode()
    environ = {
        "HTTP_COOKIE": f"{settings.CSRF_COOKIE_NAME}={token}",
        "REQUEST_METHOD": "POST",
        "PATH_INFO": reverse("password_reset"),
        "SERVER_NAME": HOST_A,
        "SERVER_PORT": "80",
        "HTTP_HOST": HOST_A,
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": FakePayload(body),
        "wsgi.url_scheme": "http",
    }

    # As Django's test client does: the test's transaction keeps its connection open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, lambda status, headers: None)
        assert response.status_code == 302
        assert mail.outbox == []
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert [m.to for m in mail.outbox] == [[user_a.email]]


def test_the_reset_mail_is_a_task_on_the_queue(user_a, anon_a, settings):
    """On the database queue (the default): the request queues the mail, a worker sends it."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    response = anon_a.post(reverse("password_reset"), {"email": user_a.email})

    assert response.status_code == 302 and mail.outbox == []
    [queued] = DBTaskResult.objects.filter(task_path="portal.accounts.tasks.account_mail_send")
    kwargs = queued.args_kwargs["kwargs"]
    assert kwargs == {"user_id": user_a.pk, "kind": "password_reset"}

    account_mail_send.call(**kwargs)  # what the worker runs
    [message] = mail.outbox
    assert message.to == [user_a.email] and "/senha/redefinir/" in message.body
