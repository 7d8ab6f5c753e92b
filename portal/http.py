"""HTTP responses the apps' views share."""

from django.http import HttpResponseRedirect


class SeeOther(HttpResponseRedirect):
    """303: after a POST, the browser GETs the page it is sent to (never re-POSTs)."""

    status_code = 303
