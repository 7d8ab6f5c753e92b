"""The 500 handler: a dependency that is down gets a 503 page that says so in plain words.

Database errors raised while connecting or talking to the server (PostgreSQL restarting, a
network partition) and a file storage that cannot take a file are not bugs the customer can
report: they are told the portal is briefly unavailable and to try again (Retry-After), and
nothing was recorded. Every other error keeps Django's 500 page.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

from portal.documents.storage import StorageUnavailable

RETRY_AFTER_SECONDS = 30
DATABASE_DOWN = (
    "Não conseguimos acessar os dados do portal agora. Se você enviou algo, nada foi gravado: "
    "tente novamente em alguns instantes."
)


def server_error(request):
    error = sys.exc_info()[1]  # Django calls the handler while handling the exception
    if isinstance(error, OperationalError | InterfaceError):
        message = DATABASE_DOWN
    elif isinstance(error, StorageUnavailable):
        message = StorageUnavailable.message
    else:
        return defaults.server_error(request)
    body = loader.render_to_string("503.html", {"message": message})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
