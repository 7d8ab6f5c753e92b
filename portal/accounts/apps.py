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
