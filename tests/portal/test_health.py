import pytest
from django.test import Client

from tests.conftest import HOST_A


@pytest.mark.django_db
def test_healthz_answers_on_any_host_with_both_databases_ok(tenant_a):
    for host in (HOST_A, "unknown.example.com"):
        response = Client(HTTP_HOST=host).get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"db": "ok", "erp": "ok"}


@pytest.mark.django_db
def test_unknown_host_gets_404_without_login_form(tenant_a):
    response = Client(HTTP_HOST="nao-existe.example.com").get("/entrar/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Portal não configurado" in body
    assert "<form" not in body and "password" not in body
