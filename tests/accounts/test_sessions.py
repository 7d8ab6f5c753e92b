"""Sessions end after idle time, not at a fixed time after login (issue #8, item 5).

settings.py said idle expiry was refreshed; nothing refreshed it, so a customer at work was
logged out two hours after logging in. The clock is moved with time-machine: Django's session
expiry (database and cache) reads the same clock.
"""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

IDLE = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)


@pytest.fixture
def clock():
    with time_machine.travel(
        datetime.datetime(2025, 3, 10, 9, 0, tzinfo=datetime.UTC), tick=False
    ) as traveller:
        yield traveller


@pytest.fixture
def logged_in(clock, user_a, anon_a):
    response = anon_a.post(reverse("login"), {"username": user_a.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return anon_a


def sees_the_dashboard(client) -> bool:
    response = client.get(reverse("dashboard"))
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))
        return False
    assert response.status_code == 200
    assert "Cliente Alfa Um Ltda" in response.content.decode()
    return True


def test_active_use_keeps_the_session_past_the_idle_limit(clock, logged_in):
    step = IDLE / 4
    for _ in range(12):  # three times the idle limit, a page every quarter of it
        clock.shift(step)
        assert sees_the_dashboard(logged_in)


def test_idle_time_ends_the_session(clock, logged_in):
    clock.shift(IDLE + datetime.timedelta(minutes=1))

    assert not sees_the_dashboard(logged_in)


def test_idle_time_counts_from_the_last_request_not_the_login(clock, logged_in):
    clock.shift(IDLE - datetime.timedelta(minutes=5))
    assert sees_the_dashboard(logged_in)

    clock.shift(IDLE - datetime.timedelta(minutes=5))
    assert sees_the_dashboard(logged_in)

    clock.shift(IDLE + datetime.timedelta(minutes=1))
    assert not sees_the_dashboard(logged_in)


def test_the_session_is_not_rewritten_on_every_request(clock, logged_in):
    """A refresh is a write (database and cache): at most one per SESSION_REFRESH_SECONDS."""
    clock.shift(datetime.timedelta(seconds=settings.SESSION_REFRESH_SECONDS + 1))
    refreshed = logged_in.get(reverse("dashboard"))
    clock.shift(datetime.timedelta(seconds=1))
    again = logged_in.get(reverse("dashboard"))

    assert settings.SESSION_COOKIE_NAME in refreshed.cookies
    assert refreshed.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE
    assert settings.SESSION_COOKIE_NAME not in again.cookies
