"""Login, logout and password pages: Django's auth views with our forms and pt-BR templates."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django.views.i18n import set_language

from portal.accounts import services
from portal.accounts.backends import user_may_log_in
from portal.accounts.forms import LoginForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from portal.accounts.ratelimits import rate_limit_message, request_rate_limited
from portal.accounts.selectors import tenant_logo_type
from portal.languages import supported_language


def _lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _("Muitas tentativas sem sucesso. Tente novamente em %(minutes)d minutos.") % {
        "minutes": minutes
    }


def lockout(request, *args, **kwargs):
    """AXES_LOCKOUT_CALLABLE: the login page again, with the reason, as 429.

    Axes passes (original_response, credentials) or just (credentials); neither is needed.
    """
    form = LoginForm(request=request, initial={"username": request.POST.get("username", "")})
    context = {"form": form, "lockout_message": _lockout_message(), "next": ""}
    return render(request, "accounts/login.html", context, status=429)


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        # A language picked on the login page becomes the user's (their e-mails follow it).
        chosen = supported_language(self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
        if chosen:
            services.user_set_language(user=self.request.user, language=chosen)
        return response

    def post(self, request, *args, **kwargs):
        email = request.POST.get("username", "")
        if request_rate_limited(request, action="login", email=email):
            form = LoginForm(request=request, initial={"username": email})
            context = {"form": form, "lockout_message": rate_limit_message(), "next": ""}
            return render(request, self.template_name, context, status=429)
        return super().post(request, *args, **kwargs)

    def get_success_url(self):
        url = super().get_success_url()
        admin_index = reverse("admin:index")
        # Staff and support have no customer: their work is in the admin.
        if self.request.user.customer_id is None and not url.startswith(admin_index):
            return admin_index
        return url


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("Você saiu do portal."))
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "tenant": self.request.tenant}

    def post(self, request, *args, **kwargs):
        email = request.POST.get("email", "")
        if request_rate_limited(request, action="password_reset", email=email):
            form = self.get_form_class()(tenant=request.tenant, initial={"email": email})
            context = {"form": form, "lockout_message": rate_limit_message()}
            return render(request, self.template_name, context, status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        users = form.get_users(form.cleaned_data["email"])
        # The same page, as fast, whether or not the e-mail exists (no user enumeration): the
        # mail goes out once the response is complete.
        response = HttpResponseRedirect(self.get_success_url())
        for user in users:
            services.user_send_password_reset(user=user, after=response)
        return response


@method_decorator(login_not_required, name="dispatch")
class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


@method_decorator(login_not_required, name="dispatch")
class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link of a password reset, and of an invitation: a login that never had a password
    gets "Crie sua senha" and is logged in once it has one; a reset goes back to the login."""

    form_class = SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    post_reset_login_backend = "portal.accounts.backends.TenantEmailBackend"

    def is_invitation(self) -> bool:
        return self.user is not None and not self.user.has_usable_password()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "invitation": self.is_invitation()}

    def form_valid(self, form):
        # Decided before the form sets the password (the user then has a usable one).
        self.post_reset_login = self.is_invitation()
        response = super().form_valid(form)
        if self.post_reset_login:
            messages.success(self.request, _("Senha criada. Bem-vindo ao Portal do Cliente!"))
            return HttpResponseRedirect(reverse(settings.LOGIN_REDIRECT_URL))
        return response

    def get_user(self, uidb64):
        """Only a login of this host's tenant: a link never works on another company's host."""
        user = super().get_user(uidb64)
        tenant = self.request.tenant
        if user is None or tenant is None or user.tenant_id != tenant.pk:
            return None
        return user if user_may_log_in(user) else None


@method_decorator(login_not_required, name="dispatch")
class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_not_required
@require_POST
def language_switch(request):
    """The footer's switch (/idioma/): the cookie for this browser, as Django's set_language sets
    it, and for a logged-in user their own language, which their e-mails follow too."""
    response = set_language(request)
    chosen = supported_language(request.POST.get("language"))
    if chosen and request.user.is_authenticated:
        services.user_set_language(user=request.user, language=chosen)
    return response


@login_not_required
@require_safe
def tenant_logo(request):
    """The company's logo in the header (the login page too): public, like the company's name.

    Only images that really are PNG, JPEG, GIF or WebP are served (never SVG: it runs scripts).
    """
    tenant = request.tenant
    mime = tenant_logo_type(tenant=tenant) if tenant is not None else None
    if mime is None:
        raise Http404("Sem logotipo.")
    response = FileResponse(tenant.logo.open("rb"), content_type=mime)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=300"
    return response
