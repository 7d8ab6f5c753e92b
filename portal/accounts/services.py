"""Writes for logins: creation, invitations, password-reset e-mails, activation."""

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import HttpResponseBase
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from portal.accounts.models import Customer, Tenant, User, normalize_email
from portal.accounts.selectors import tenant_absolute_url
from portal.languages import user_language

logger = logging.getLogger(__name__)


def user_validate(*, user: User) -> None:
    """Raise a pt-BR ValidationError (keyed by field) unless `user` fits its tenant."""
    errors = {}
    if user.tenant_id is not None:
        if user.customer_id is None and not user.is_staff:
            errors["customer"] = _("Informe o cliente deste login.")
        elif user.customer_id is not None and user.customer.tenant_id != user.tenant_id:
            errors["customer"] = _("Este cliente não pertence a esta empresa.")
        elif user.customer_id is not None and user.customer.removed_at is not None:
            errors["customer"] = _("Este cliente foi removido do ERP: não pode mais ter logins.")
        taken = (
            User.objects.filter(tenant_id=user.tenant_id, email=normalize_email(user.email))
            .exclude(pk=user.pk)
            .exists()
        )
        if taken:
            errors["email"] = _("Já existe um login com este e-mail nesta empresa.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def user_create(
    *,
    tenant: Tenant,
    customer: Customer | None,
    email: str,
    name: str = "",
    password: str | None = None,
    must_change_password: bool = False,
    is_staff: bool = False,
) -> User:
    """A login of `tenant`. Without a password the user can only enter through an invitation.

    The password is not checked against the validators here: the admin form checks the
    temporary passwords staff type; `customer_users --password` is support's own choice.
    """
    user = User(
        tenant=tenant,
        customer=customer,
        email=normalize_email(email),
        name=name.strip(),
        is_staff=is_staff,
        must_change_password=must_change_password,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user_validate(user=user)
    user.full_clean()
    user.save()
    return user


def user_set_temporary_password(*, user: User, password: str) -> None:
    """Staff hand out a password that the user must replace at the next login."""
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])


def user_set_language(*, user: User, language: str) -> None:
    """The language the user chose (a code of settings.LANGUAGES); their e-mails follow it."""
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def user_set_active(*, user: User, active: bool) -> None:
    """Deactivating ends the user's sessions at once: the backend refuses inactive users."""
    user.is_active = active
    user.save(update_fields=["is_active"])


def _set_password_url(*, user: User) -> str:
    # Django's reset tokens: single use (they depend on the password hash) and they expire
    # after PASSWORD_RESET_TIMEOUT; the link is always on the tenant's own primary host.
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", args=(uidb64, token))
    return tenant_absolute_url(tenant=user.tenant, path=path)


def _send_set_password_email(*, user: User, subject: str, template_name: str) -> None:
    tenant = user.tenant
    context = {
        "user": user,
        "company": tenant.brand_name,
        "url": _set_password_url(user=user),
        "login_url": tenant_absolute_url(tenant=tenant, path=reverse("login")),
        "valid_days": settings.PASSWORD_RESET_TIMEOUT // (60 * 60 * 24),
    }
    message = EmailMessage(
        subject=subject,
        body=render_to_string(template_name, context),
        to=[user.email],
        reply_to=[tenant.email] if tenant.email else None,
    )
    try:
        message.send()
    except Exception:
        # The pages answer the same whether or not a message went out (no enumeration).
        logger.exception("Could not send %s to user %s", template_name, user.pk)


def user_send_password_reset(*, user: User, after: HttpResponseBase | None = None) -> None:
    """E-mail a reset link; `after`: once that response is complete (the server closes it),
    so the page takes as long whether or not a login has the e-mail."""

    def send():
        with translation.override(user_language(user)):
            _send_set_password_email(
                user=user,
                subject=_("Redefinição de senha — Portal do Cliente de %(company)s")
                % {"company": user.tenant.brand_name},
                template_name="accounts/email/password_reset.txt",
            )

    if after is None:
        send()
    else:
        # Django calls a response's resource closers from close(), which the WSGI server calls
        # once the response is sent.
        after._resource_closers.append(send)


def user_send_invitation(*, user: User) -> None:
    """E-mail a set-password link once the transaction that created the login commits, in the
    portal's default language (a new login has not chosen one yet)."""

    def send():
        with translation.override(user_language(user)):
            subject = _("Convite para o Portal do Cliente de %(company)s") % {
                "company": user.tenant.brand_name
            }
            _send_set_password_email(
                user=user, subject=subject, template_name="accounts/email/invitation.txt"
            )

    transaction.on_commit(send)
