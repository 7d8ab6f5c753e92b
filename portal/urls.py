from django.contrib import admin
from django.urls import include, path

from portal import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("portal.accounts.urls")),
    path("", include("proposals.urls")),
    path("pedidos/<int:numero>/contrato/", include("contracts.urls")),
    path("notificacoes/", include("notifications.urls")),
]
