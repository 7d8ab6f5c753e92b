import re

import pytest
from django.conf import settings
from django.core import mail
from django_scopes import scopes_disabled

from erp_sync.mirror import erp_sync_tenant
from proposals.models import Order
from tests.contracts.signing import last_code, request_code, send_code
from tests.erp_builders import erp_cliente, erp_pedido
from tests.factories import TEST_PASSWORD, UserFactory
from tests.notifications.smtp import FlakyHandler, LocalSmtp

IMMEDIATE = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default"],
    }
}


@pytest.fixture
def run_tasks(settings, django_capture_on_commit_callbacks):
    """`with run_tasks(): …`: the tasks enqueued inside run in this process once it commits
    (the immediate backend). For what a mail says and who gets it; the queue itself is
    tested with real workers (tests/background, test_delivery.py)."""
    settings.TASKS = IMMEDIATE
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def company_mail(tenant_a):
    tenant_a.notification_email = "vendas@alfa.com.br"
    tenant_a.save()
    return tenant_a.notification_email


@pytest.fixture
def colleague_a(customer_a):
    """A second login of user_a's customer: customer mails go to both."""
    return UserFactory(customer=customer_a, email="diretoria@clientealfa.com.br")


@pytest.fixture
def cliente_a(tenant_a, user_a):
    """user_a's customer in the ERP, after the tenant's first (initial) sync."""
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id, nome="Cliente Um")
    erp_sync_tenant(tenant=tenant_a)
    return cliente


@pytest.fixture
def proposal(tenant_a, cliente_a):
    erp_pedido(cliente_a, 7001, items=2, parcelas=2)
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        return Order.objects.select_related("customer", "tenant").get(number=7001)


@pytest.fixture
def flaky_smtp(settings):
    """A local SMTP server, refusing (451) until `handler.accepting = True`."""
    handler = FlakyHandler()
    server = LocalSmtp(handler)
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    yield handler, server
    server.stop()


def sign_digitally(client, email: str, number: int) -> None:
    """Both steps of a digital signature as the signer's browser posts them
    (tests.contracts.signing), each running what it queued after its commit: the code's mail,
    then the seal and its mails. The test asks for `run_tasks` (the immediate backend)."""
    response = request_code(
        client, email, TEST_PASSWORD, number=number, nome="Maria da Silva", cpf="529.982.247-25"
    )
    assert response.status_code == 303
    assert send_code(client, last_code(email), number=number).status_code == 303


def parts(message) -> tuple[str, str]:
    """The text and the HTML part of a sent message."""
    html = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    assert len(html) == 1
    return message.body, html[0]


def links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def sent(kind_subject: str = "") -> list:
    return [m for m in mail.outbox if kind_subject in m.subject]


def assert_links_on(host: str, *texts: str) -> None:
    found = [link for text in texts for link in links(text)]
    assert found, "a mail without a link"
    scheme = "https" if settings.HTTPS else "http"
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    assert all(link.startswith(f"{scheme}://{host}{port}/") for link in found), found


@pytest.fixture(autouse=True)
def _no_tasks_left_by_other_tests(request):
    """Server processes that earlier tests started (gunicorn on the same SQLite file) commit
    outside those tests' transactions: what they queued must not count here."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
