"""One-click unsubscribe from non-essential mail: a page that works without login (signed
token), the RFC 8058 POST a mail client makes, and what still goes afterwards."""

import pytest
from django.core import mail
from django_scopes import scope, scopes_disabled

from erp_sync.mirror import erp_sync_order, erp_sync_tenant
from notifications.models import MailOptOut
from notifications.services import unsubscribe_token
from proposals.models import Order
from proposals.services import order_approve
from tests.conftest import HOST_A, HOST_B, host_client
from tests.erp_builders import erp_pedido
from tests.notifications.conftest import parts

pytestmark = pytest.mark.django_db


def unsubscribe_path(user) -> str:
    return f"/notificacoes/descadastrar/{unsubscribe_token(user=user)}/"


def test_the_link_in_a_mail_opens_a_page_that_unsubscribes_without_login(
    tenant_a, cliente_a, user_a, run_tasks
):
    with run_tasks():
        erp_pedido(cliente_a, 7001)
        erp_sync_tenant(tenant=tenant_a)
    text, _ = parts(mail.outbox[0])
    link = next(line for line in text.splitlines() if "/notificacoes/descadastrar/" in line)
    path = link.split(f"http://{HOST_A}", 1)[1]

    anonymous = host_client(HOST_A)
    page = anonymous.get(path)
    assert page.status_code == 200
    assert "Não quero mais receber esses avisos" in page.content.decode()
    assert not MailOptOut.objects.exists()  # a GET (a link scanner) changes nothing

    done = anonymous.post(path).content.decode()
    assert "não recebe mais avisos" in done
    assert MailOptOut.objects.filter(user=user_a).exists()

    back = anonymous.post(path, {"acao": "voltar"}).content.decode()
    assert "recebe avisos de novas propostas" in back
    assert not MailOptOut.objects.exists()


def test_a_mail_clients_one_click_post_unsubscribes(tenant_a, user_a):
    client = host_client(HOST_A)
    client.handler.enforce_csrf_checks = True  # the mail client has no CSRF token of ours
    response = client.post(
        unsubscribe_path(user_a),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert MailOptOut.objects.filter(user=user_a).exists()


def test_unsubscribed_users_get_codes_and_confirmations_but_no_news(
    tenant_a, cliente_a, user_a, colleague_a, run_tasks
):
    host_client(HOST_A).post(unsubscribe_path(user_a))
    with run_tasks():
        erp_pedido(cliente_a, 7001)
        erp_sync_tenant(tenant=tenant_a)
    assert [m.to for m in mail.outbox] == [[colleague_a.email]]  # the news: not to user_a

    mail.outbox.clear()
    with scopes_disabled():
        order = Order.objects.get(number=7001)
    with run_tasks(), scope(tenant=order.tenant):  # as the request runs it
        order_approve(
            order=order, user=user_a, seen_version=order.erp_version, remirror=erp_sync_order
        )
    confirmed = sorted(m.to[0] for m in mail.outbox)
    assert confirmed == sorted([user_a.email, colleague_a.email])  # essential: always goes


@pytest.mark.parametrize("token", ["nada", "1:assinatura-falsa"])
def test_a_forged_token_is_a_404(tenant_a, user_a, token):
    response = host_client(HOST_A).post(f"/notificacoes/descadastrar/{token}/")
    assert response.status_code == 404
    assert not MailOptOut.objects.exists()


def test_a_token_works_only_on_its_users_tenant(tenant_a, tenant_b, user_a):
    assert host_client(HOST_B).post(unsubscribe_path(user_a)).status_code == 404
    assert host_client("suporte.localhost").get(unsubscribe_path(user_a)).status_code == 404
    assert not MailOptOut.objects.exists()
