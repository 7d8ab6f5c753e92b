"""The password pages as a user sees them: the rules as a list, the invitation's own page (and
its login), the forced change without a menu that bounces, "E-mail" spelled alike."""

import io
import re

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from portal.accounts import services
from tests.accounts.test_auth import NEW_PASSWORD, link_in, log_in, open_link
from tests.conftest import HOST_A, host_client
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def invite(customer, django_capture_on_commit_callbacks, email="convite@clientealfa.com.br"):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_create(tenant=customer.tenant, customer=customer, email=email)
        services.user_send_invitation(user=user)
    return user


def test_invitation_opens_crie_sua_senha_with_the_rules_as_a_list_and_logs_in(
    customer_a, anon_a, django_capture_on_commit_callbacks
):
    user = invite(customer_a, django_capture_on_commit_callbacks)

    form = open_link(anon_a, link_in(mail.outbox[0]))
    html = form.content.decode()

    assert "<h1>Crie sua senha</h1>" in html
    assert "&lt;ul&gt;" not in html and "&lt;li&gt;" not in html
    assert re.search(r'class="field__help"[^>]*><ul><li>', html)
    assert f"Login: {user.email}" in html

    done = anon_a.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert done.redirect_chain[-1][0] == reverse("dashboard")
    assert "Senha criada. Bem-vindo ao Portal do Cliente!" in done.content.decode()
    assert anon_a.get(reverse("order_list")).status_code == 200  # logged in
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and not user.must_change_password


def test_reset_keeps_its_own_page_and_sends_back_to_the_login(user_a, anon_a):
    anon_a.post(reverse("password_reset"), {"email": user_a.email})
    form = open_link(anon_a, link_in(mail.outbox[0]))
    html = form.content.decode()
    assert "<h1>Escolher nova senha</h1>" in html and "Crie sua senha" not in html

    done = anon_a.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert done["Location"] == reverse("password_reset_complete")
    assert anon_a.get(reverse("order_list")).status_code == 302  # not logged in by a reset


def test_forced_change_page_has_no_menu_that_bounces(user_a, anon_a):
    user_a.must_change_password = True
    user_a.save()
    log_in(anon_a, user_a.email, TEST_PASSWORD)

    html = anon_a.get(reverse("password_change")).content.decode()

    header = html[html.index('<header class="topbar">') : html.index("</header>")]
    links = re.findall(r'href="([^"]*)"', header)
    assert links == []
    assert f'action="{reverse("logout")}"' in header  # leaving stays possible
    assert "&lt;ul&gt;" not in html
    assert "Senha atual" in html


@pytest.mark.parametrize("name", ["login", "password_reset"])
def test_email_is_spelled_e_mail(name, anon_a):
    html = anon_a.get(reverse(name)).content.decode()
    labels = [label.rstrip(":") for label in re.findall(r"<label[^>]*>([^<]*)</label>", html)]
    assert "E-mail" in labels
    assert not re.search(r">\s*Email\b", html)


def test_a_host_without_logo_answers_404_for_it(anon_a):
    assert anon_a.get(reverse("tenant_logo")).status_code == 404


def test_the_logo_is_served_on_the_tenants_host_and_shown_in_the_header(tenant_a, client_a):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "#1f4e79").save(buffer, "PNG")
    tenant_a.logo.save("alfa.png", ContentFile(buffer.getvalue()))

    logo = host_client(HOST_A).get(reverse("tenant_logo"))
    html = client_a.get(reverse("dashboard")).content.decode()

    assert logo["Content-Type"] == "image/png"
    assert logo["X-Content-Type-Options"] == "nosniff"
    assert b"".join(logo.streaming_content) == buffer.getvalue()
    assert f'<img class="brand__logo" src="{reverse("tenant_logo")}"' in html
