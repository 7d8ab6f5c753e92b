"""Which language the portal speaks to whom: pt-BR unless someone chose another.

A language is a choice (the footer's switch, /idioma/), kept in a cookie for the browser and on
the User for a logged-in user, so their e-mails and their other devices follow it. The browser's
Accept-Language is never asked: the portal speaks pt-BR, as the company's documents do, until
the customer picks another language.
"""

from django.conf import settings


def supported_language(code: str | None) -> str | None:
    """The code if the portal has that language ('pt-br', 'en'), else None."""
    code = (code or "").lower()
    return code if code in dict(settings.LANGUAGES) else None


def user_language(user) -> str:
    """The language to write to a user in (e-mails): theirs, else the portal's default."""
    return supported_language(getattr(user, "language", "")) or settings.LANGUAGE_CODE


def request_language(request) -> str:
    """A logged-in user's own language, else the switch's cookie (the login page), else pt-BR."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        chosen = supported_language(user.language)
        if chosen:
            return chosen
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return supported_language(cookie) or settings.LANGUAGE_CODE
