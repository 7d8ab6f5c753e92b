"""Writes for logins: creation, invitations, password-reset e-mails, activation."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseBase
from django.utils.translation import gettext as _

from portal.accounts.models import Customer, Tenant, User, normalize_email
from portal.accounts.tasks import AccountMail, account_mail_send


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


def user_send_password_reset(*, user: User, after: HttpResponseBase | None = None) -> None:
    """Queue a reset link's mail; `after`: once that response is complete (the server closes
    it), so the page takes as long whether or not a login has the e-mail."""

    def enqueue():
        account_mail_send.enqueue(user_id=user.pk, kind=AccountMail.PASSWORD_RESET)

    if after is None:
        enqueue()
    else:
        # Django calls a response's resource closers from close(), which the WSGI server calls
        # once the response is sent.
        after._resource_closers.append(enqueue)


def user_send_invitation(*, user: User) -> None:
    """Queue a set-password link's mail once the transaction that created the login commits."""
    transaction.on_commit(
        lambda: account_mail_send.enqueue(user_id=user.pk, kind=AccountMail.INVITATION)
    )
