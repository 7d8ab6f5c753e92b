"""Several web processes, one truth: a logout or a removed domain holds on every worker at once.

Issue #9, finding 3: with 3 gunicorn workers and a per-process cache, 14 of 20 replays of a
logged-out cookie got the customer's page, and a removed domain kept serving logins for ~5
minutes. Here a real gunicorn with 3 sync workers serves the test database, with the default
cache (files, CACHE_URL unset) and, on PostgreSQL, with Redis (CACHE_URL).
"""

import os
import re

import pytest
import requests
from django.urls import reverse

from tests.conftest import HOST_A
from tests.factories import TEST_PASSWORD, OrderFactory
from tests.gunicorn import gunicorn_server

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 3
REPLAYS = 20
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
CACHES = {
    "files": {},
    "redis": pytest.param({"CACHE_URL": REDIS_URL}, marks=pytest.mark.postgres),
}


@pytest.fixture(params=list(CACHES.values()), ids=list(CACHES))
def server(request, tmp_path):
    env = request.param
    if env:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
    with gunicorn_server(workers=WORKERS, env=env, log_dir=tmp_path) as running:
        yield running


def csrf_token(server, session, path) -> str:
    page = server.get(path, host=HOST_A, session=session)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def log_in(server, email) -> requests.Session:
    browser = requests.Session()
    token = csrf_token(server, browser, reverse("login"))
    response = server.post(
        reverse("login"),
        host=HOST_A,
        session=browser,
        data={"username": email, "password": TEST_PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302, response.text
    return browser


def test_a_logged_out_session_is_over_on_every_worker(server, user_a):
    OrderFactory(customer=user_a.customer, number=7001)
    browser = log_in(server, user_a.email)
    # Every worker reads the session (and, with a per-process cache, keeps a copy).
    pages = server.replay(
        lambda: server.get(reverse("dashboard"), host=HOST_A, session=browser),
        times=REPLAYS,
        workers=WORKERS,
    )
    assert all("Cliente Alfa Um Ltda" in page.text for page in pages)
    cookie = dict(browser.cookies)
    token = csrf_token(server, browser, reverse("password_change"))

    logout = server.post(
        reverse("logout"), host=HOST_A, session=browser, data={"csrfmiddlewaretoken": token}
    )
    assert logout.status_code == 302
    served_before = len(server.workers_seen())
    replays = server.replay(
        lambda: server.get(reverse("dashboard"), host=HOST_A, cookies=cookie), times=REPLAYS
    )

    assert {r.status_code for r in replays} == {302}
    assert all(r.headers["Location"].startswith(reverse("login")) for r in replays)
    assert not any("Cliente Alfa Um Ltda" in r.text for r in replays)
    assert len(set(server.workers_seen()[served_before:])) > 1  # the replays met several workers


def test_a_removed_domain_is_gone_on_every_worker_at_once(server, tenant_a):
    # Every worker resolves (and, with a per-process cache, keeps) the host.
    pages = server.replay(
        lambda: server.get(reverse("login"), host=HOST_A), times=REPLAYS, workers=WORKERS
    )
    assert all("Entrar" in page.text for page in pages)

    server.manage("tenants", "domain-remove", tenant_a.slug, HOST_A)
    served_before = len(server.workers_seen())
    after = server.replay(lambda: server.get(reverse("login"), host=HOST_A), times=REPLAYS)

    assert {r.status_code for r in after} == {404}
    assert all("Portal não configurado" in r.text for r in after)
    assert len(set(server.workers_seen()[served_before:])) > 1
