from axes import apps as axes_apps
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = "Contas e empresas"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from portal.accounts.middleware import session_stamp_refresh

        user_logged_in.connect(session_stamp_refresh, dispatch_uid="session_stamp_refresh")


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site as `admin.site` (see admin_site.PortalAdminSite)."""

    # Not this module's default: `portal.accounts` itself must still load AccountsConfig.
    default = False
    default_site = "portal.accounts.admin_site.PortalAdminSite"

    def ready(self):
        super().ready()  # every app's admin.py has registered its lists
        from django.contrib import admin

        from portal.accounts.admin_site import admin_site_adopt_library_admins

        admin_site_adopt_library_admins(admin.site)


class PortalAxesConfig(axes_apps.AppConfig):
    """django-axes, named in pt-BR in the admin: its models' and fields' names through
    locale/pt_BR; the rows' names (hard-coded English in axes) here."""

    default = False
    verbose_name = "Bloqueios de acesso"

    def ready(self):
        super().ready()
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        AccessAttempt.__str__ = lambda row: f"Tentativa de {row.username} em {row.attempt_time}"
        AccessFailureLog.__str__ = lambda row: f"Falha de {row.username} em {row.attempt_time}"
        AccessLog.__str__ = lambda row: f"Acesso de {row.username} em {row.attempt_time}"
