from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.accounts.backends import user_may_log_in
from portal.accounts.models import Tenant, User, normalize_email


class LoginForm(auth_forms.AuthenticationForm):
    """E-mail and password, checked against the request's tenant (see TenantEmailBackend)."""

    username = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _("E-mail ou senha incorretos. Confira os dados e tente novamente."),
        "inactive": _("Este acesso está desativado. Fale com a empresa para reativá-lo."),
        "customer_inactive": _(
            "O cadastro do seu cliente está inativo. Fale com a empresa para reativar o acesso."
        ),
    }

    def get_invalid_login_error(self):
        # Only someone who knows the password learns that the login exists but is disabled
        # (TenantEmailBackend checked it, once, and left the login on the request).
        user = getattr(self.request, "login_refused_user", None)
        if user is None or getattr(self.request, "axes_locked_out", False):
            return super().get_invalid_login_error()
        code = "inactive" if not user.is_active else "customer_inactive"
        return ValidationError(self.error_messages[code], code=code)


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Senha atual")

    def save(self, commit=True):
        self.user.must_change_password = False
        return super().save(commit)


class SetPasswordForm(auth_forms.SetPasswordForm):
    """The new password of a reset or invitation link: the user's own, so no forced change."""

    def save(self, commit=True):
        self.user.must_change_password = False
        return super().save(commit)


class PasswordResetForm(auth_forms.PasswordResetForm):
    def __init__(self, *args, tenant: Tenant | None, **kwargs):
        self.tenant = tenant
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mail")

    def get_users(self, email):
        """Active logins of this tenant only, with or without a usable password.

        Invited users have no password yet: the same link lets them set their first one.
        """
        if self.tenant is None:
            return []
        users = User.objects.select_related("customer", "tenant").filter(
            tenant=self.tenant, email=normalize_email(email), is_active=True
        )
        return [user for user in users if user_may_log_in(user)]
