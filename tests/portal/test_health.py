import re
import subprocess
import sys
from pathlib import Path

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


@pytest.mark.django_db
def test_healthz_asks_the_portal_database_once(tenant_a, django_assert_num_queries):
    # On the split layout the ERP's database gets its own one question (another connection).
    with django_assert_num_queries(1):
        response = Client(HTTP_HOST=HOST_A).get("/healthz")

    assert response.json() == {"db": "ok", "erp": "ok"}


def test_gunicorn_keeps_its_worker_heartbeat_off_the_disk():
    """A heartbeat file on the disk PostgreSQL writes to stalls workers after a bulk load."""
    root = Path(__file__).resolve().parents[2]
    gunicorn = Path(sys.executable).parent / "gunicorn"
    printed = subprocess.run(
        [str(gunicorn), "--print-config", "portal.wsgi"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout

    assert re.search(r"^worker_tmp_dir\s+= /dev/shm$", printed, re.MULTILINE)
