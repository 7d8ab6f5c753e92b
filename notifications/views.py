from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from notifications.models import MailOptOut
from notifications.services import (
    user_for_unsubscribe_token,
    user_mail_resubscribe,
    user_mail_unsubscribe,
)


# Opened from an e-mail, logged in or not. CSRF-exempt because a mail client's one-click
# unsubscribe (RFC 8058) POSTs here with no token of ours; the signed token in the URL is the
# authority, and all a forged POST could do is change which notices that one user receives.
@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def mail_unsubscribe(request, token: str):
    user = None
    if request.tenant is not None:
        user = user_for_unsubscribe_token(tenant=request.tenant, token=token)
    if user is None:
        raise Http404
    changed = request.method == "POST"
    if changed and request.POST.get("acao") == "voltar":
        user_mail_resubscribe(user=user)
    elif changed:
        user_mail_unsubscribe(user=user)
    context = {
        "email": user.email,
        "unsubscribed": MailOptOut.objects.filter(user=user).exists(),
        "changed": changed,
    }
    return render(request, "notifications/unsubscribe.html", context)
