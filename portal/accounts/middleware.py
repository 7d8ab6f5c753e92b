import time

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from portal.accounts.backends import user_belongs_to_request


def get_request_user(request):
    """The session's user, or anonymous when the session belongs to another tenant's host."""
    if not hasattr(request, "_cached_user"):
        user = auth.get_user(request)
        if user.is_authenticated and not user_belongs_to_request(user, request):
            user = AnonymousUser()
        request._cached_user = user
    return request._cached_user


class TenantAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware, with a cookie replayed on another host anonymous."""

    def process_request(self, request):
        request.user = SimpleLazyObject(lambda: get_request_user(request))


SESSION_REFRESHED_AT = "_refreshed_at"


def session_stamp_refresh(sender, request, user, **kwargs):
    """On login (user_logged_in): the session being saved is as fresh as it gets."""
    request.session[SESSION_REFRESHED_AT] = int(time.time())


class SessionIdleRefreshMiddleware:
    """Sessions end after SESSION_COOKIE_AGE of idle time, not that long after the login.

    A logged-in user's session is saved again (new expiry in the database, the cache and the
    cookie) once its last save is SESSION_REFRESH_SECONDS old. SESSION_SAVE_EVERY_REQUEST
    would write the database and the cache on every page instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # After the view: a logout has left an anonymous user and an empty session.
        if request.user.is_authenticated:
            now = int(time.time())
            refreshed_at = request.session.get(SESSION_REFRESHED_AT, 0)
            if now - refreshed_at >= settings.SESSION_REFRESH_SECONDS:
                request.session[SESSION_REFRESHED_AT] = now
        return response


class PasswordChangeRequiredMiddleware:
    """A login created with a temporary password must choose its own before anything else."""

    ALLOWED_URL_NAMES = ("password_change", "password_change_done", "logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.must_change_password:
            allowed = {reverse(name) for name in self.ALLOWED_URL_NAMES}
            if request.path not in allowed and not request.path.startswith("/static/"):
                return redirect("password_change")
        return self.get_response(request)
