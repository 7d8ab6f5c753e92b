"""The account mails, on the task queue: a password reset link and an invitation.

A request only queues them (the reset after its response is sent, so the page takes as long
whether or not a login has the e-mail); a worker renders and sends them in the user's language.
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db.models import TextChoices
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_tasks import task

from portal.accounts.models import User
from portal.accounts.selectors import tenant_absolute_url
from portal.languages import user_language


class AccountMail(TextChoices):
    PASSWORD_RESET = "password_reset"
    INVITATION = "invitation"


def _set_password_url(*, user: User) -> str:
    # Django's reset tokens: single use (they depend on the password hash) and they expire
    # after PASSWORD_RESET_TIMEOUT; the link is always on the tenant's own primary host.
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", args=(uidb64, token))
    return tenant_absolute_url(tenant=user.tenant, path=path)


def _subject(kind: str, company: str) -> str:
    if kind == AccountMail.INVITATION:
        return _("Convite para o Portal do Cliente de %(company)s") % {"company": company}
    return _("Redefinição de senha — Portal do Cliente de %(company)s") % {"company": company}


@task
def account_mail_send(*, user_id: int, kind: str) -> dict:
    """The set-password link of `kind` (AccountMail) to an active login, made when the worker
    runs (a token made then is valid for PASSWORD_RESET_TIMEOUT from then)."""
    user = User.objects.select_related("tenant").filter(pk=user_id, is_active=True).first()
    if user is None:
        return {"skipped": "no active login"}
    tenant = user.tenant
    with translation.override(user_language(user)):
        context = {
            "user": user,
            "company": tenant.brand_name,
            "url": _set_password_url(user=user),
            "login_url": tenant_absolute_url(tenant=tenant, path=reverse("login")),
            "valid_days": settings.PASSWORD_RESET_TIMEOUT // (60 * 60 * 24),
        }
        message = EmailMessage(
            subject=_subject(kind, tenant.brand_name),
            body=render_to_string(f"accounts/email/{kind}.txt", context),
            to=[user.email],
            reply_to=[tenant.email] if tenant.email else None,
        )
    message.send()
    return {"sent": kind}
