from axes import apps as axes_apps
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = "Contas e empresas"


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site as `admin.site` (see admin_site.PortalAdminSite)."""

    # Not this module's default: `portal.accounts` itself must still load AccountsConfig.
    default = False
    default_site = "portal.accounts.admin_site.PortalAdminSite"


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
