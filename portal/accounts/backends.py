from django.contrib.auth.backends import ModelBackend

from portal.accounts.models import User, normalize_email
from portal.accounts.selectors import user_for_login


def request_tenant_id(request) -> int | None:
    tenant = getattr(request, "tenant", None)
    return tenant.pk if tenant is not None else None


def user_belongs_to_request(user: User, request) -> bool:
    """A login counts only on its own tenant's hosts; support logins only on the support host."""
    if getattr(request, "is_support_host", False):
        return user.tenant_id is None and user.is_staff
    return user.tenant_id is not None and user.tenant_id == request_tenant_id(request)


def user_may_log_in(user: User) -> bool:
    """Active, and a customer login also needs an active customer (the ERP's `ativo`)."""
    if not user.is_active:
        return False
    if user.is_staff:
        return True
    return user.customer_id is not None and user.customer.is_active


class TenantEmailBackend(ModelBackend):
    """Authenticate by e-mail against the request's tenant only.

    ModelBackend would look the e-mail up across tenants and find two users for one person
    who is a customer of two companies.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or username is None or password is None:
            return None
        if request.tenant is None and not request.is_support_host:
            return None
        user = user_for_login(tenant=request.tenant, email=username)
        if user is None or not user_belongs_to_request(user, request):
            User().set_password(password)  # one hash, as on every other path: no timing oracle
            return None
        if not user.check_password(password):
            return None
        if not self.user_can_authenticate(user):
            # The right password of a login that may not log in: the form says why, without
            # checking the password a second time.
            request.login_refused_user = user
            return None
        return user

    def user_can_authenticate(self, user):
        return user_may_log_in(user)

    def get_user(self, user_id):
        try:
            user = User.objects.select_related("customer").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if user_may_log_in(user) else None


def axes_username(request, credentials) -> str:
    """Axes locks per (tenant, e-mail) + IP: the same e-mail at another company is another key.

    The e-mail in the key is the one the login is looked up by (normalize_email)."""
    email = normalize_email((credentials or {}).get("username") or request.POST.get("username", ""))
    tenant = getattr(request, "tenant", None)
    return f"{tenant.slug if tenant else '_support'}:{email}"
