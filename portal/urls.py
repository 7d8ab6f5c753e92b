from django.contrib import admin
from django.urls import include, path

from contracts import views as contract_views
from portal import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("portal.accounts.urls")),
    path("", include("proposals.urls")),
    path("pedidos/<int:numero>/contrato/", include("contracts.urls")),
    path("notificacoes/", include("notifications.urls")),
    # Public (no login): anyone holding a "Contrato Assinado" checks it here.
    path("verificar/", contract_views.verify, name="verify"),
    path("verificar/<str:codigo>/", contract_views.verify_code, name="verify_code"),
]

handler500 = "portal.errors.server_error"
