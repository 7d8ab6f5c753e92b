"""The one admin site at /admin/: support on the support host, each tenant's staff on its hosts."""

from django.contrib import admin
from django.contrib.admin import SimpleListFilter
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.db.models.constants import LOOKUP_SEP
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect, render
from django.urls import reverse

from portal.accounts.views import LogoutView


def is_support_admin(request) -> bool:
    """A superuser without tenant, on the support host: sees and configures every tenant."""
    user = request.user
    return (
        request.is_support_host
        and user.is_active
        and user.is_superuser
        and user.is_staff
        and user.tenant_id is None
    )


def is_tenant_staff(request) -> bool:
    """A staff login of the tenant whose host this is: manages that tenant only."""
    user = request.user
    return (
        request.tenant is not None
        and user.is_active
        and user.is_staff
        and not user.is_superuser
        and user.tenant_id == request.tenant.pk
    )


class PortalAdminSite(admin.AdminSite):
    site_header = "Portal do Cliente — administração"
    site_title = "Portal do Cliente"
    index_title = "Administração"
    # "/" is the customers' dashboard: staff and support have no customer to see there.
    site_url = None

    def has_permission(self, request):
        return request.user.is_authenticated and (
            is_support_admin(request) or is_tenant_staff(request)
        )

    @login_not_required
    def login(self, request, extra_context=None):
        """One login page for everybody (tenant-aware, with axes lockout): the portal's."""
        if self.has_permission(request):
            return redirect("admin:index")
        if request.user.is_authenticated:
            return render(request, "accounts/admin_denied.html", status=403)
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))

    def logout(self, request, extra_context=None):
        return LogoutView.as_view()(request)

    def password_change(self, request, extra_context=None):
        return redirect("password_change")


ALL_ACTIONS = frozenset({"view", "add", "change", "delete"})
VIEW_ONLY = frozenset({"view"})


class AccessRuleMixin:
    """Model permissions by role, not by Permission rows.

    Tenant staff get `staff_actions` on their tenant's host, support (see is_support_admin)
    gets `support_actions` on the support host, nobody else gets anything. Which rows each
    sees is decided by the request's scope (tenant-owned models) or get_queryset (users).
    """

    staff_actions: frozenset[str] = frozenset()
    support_actions: frozenset[str] = ALL_ACTIONS

    def may(self, request, action: str) -> bool:
        if is_support_admin(request):
            return action in self.support_actions
        return is_tenant_staff(request) and action in self.staff_actions

    def has_module_permission(self, request):
        return self.may(request, "view")

    def has_view_permission(self, request, obj=None):
        return self.may(request, "view") or self.may(request, "change")

    def has_add_permission(self, request, obj=None):
        return self.may(request, "add")

    def has_change_permission(self, request, obj=None):
        return self.may(request, "change")

    def has_delete_permission(self, request, obj=None):
        return self.may(request, "delete")

    def lookup_allowed(self, lookup, value, request=None):
        """Only the filters the list shows (and its date hierarchy); the password never.

        Django also takes any local field from the URL (`?password__regex=^pbkdf2…`): a list
        that answers "some rows" or "none" is an oracle that rebuilds a hidden value one
        character at a time. Anything else is refused (400) before a query runs.
        """
        parts = lookup.split(LOOKUP_SEP)
        if "password" in parts or parts[0] not in self._filter_roots(request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def _filter_roots(self, request) -> set[str]:
        roots = {self.date_hierarchy} if self.date_hierarchy else set()
        filters = self.get_list_filter(request) if request is not None else self.list_filter
        for item in filters:
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                roots.add(item.parameter_name)
            else:
                path = item[0] if isinstance(item, tuple | list) else item
                roots.add(path.split(LOOKUP_SEP)[0])
        return roots


class PortalModelAdmin(AccessRuleMixin, admin.ModelAdmin):
    """Lists show the tenant column to support, who sees every tenant at once."""

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        return ("tenant", *columns) if is_support_admin(request) else columns

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        return ("tenant", *filters) if is_support_admin(request) else filters


class ReadOnlyModelAdmin(PortalModelAdmin):
    """Rows mirrored from the ERP: the ERP is the source of truth, edits would be overwritten."""

    staff_actions = VIEW_ONLY
    support_actions = VIEW_ONLY


class ReadOnlyTabularInline(AccessRuleMixin, admin.TabularInline):
    staff_actions = VIEW_ONLY
    support_actions = VIEW_ONLY
    extra = 0
    show_change_link = False


class LabelledInlineFormSet(BaseInlineFormSet):
    """A tabular inline's inputs sit under column headings, not labels: each input gets its
    field's name as an accessible name (screen readers, axe's "label" rule)."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = "" if index is None else f" ({index + 1})"
        for field in form.fields.values():
            field.widget.attrs.setdefault("aria-label", f"{field.label}{row}")


# What support may do in a library's admin besides reading: lift a lockout (delete its attempt).
LIBRARY_SUPPORT_ACTIONS = {"axes.AccessAttempt": frozenset({"view", "delete"})}


def admin_site_adopt_library_admins(site: admin.AdminSite) -> None:
    """Every list at /admin/ under the portal's rules, a library's too (axes, django-tasks):
    support only, read-only unless LIBRARY_SUPPORT_ACTIONS says more, filters as listed."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, AccessRuleMixin):
            continue
        library_admin = type(model_admin)
        actions = LIBRARY_SUPPORT_ACTIONS.get(model._meta.label, VIEW_ONLY)
        site.unregister(model)
        site.register(
            model,
            type(
                library_admin.__name__,
                (AccessRuleMixin, library_admin),
                {"support_actions": actions},
            ),
        )
