"""Under /pedidos/<int:numero>/contrato/ (portal/urls.py)."""

from django.urls import path

from contracts import views

urlpatterns = [
    path("", views.contract_detail, name="contract_detail"),
    path("visualizar/", views.contract_view, name="contract_view"),
    path("baixar/", views.contract_download, name="contract_download"),
    path("assinar/", views.contract_sign, name="contract_sign"),
    path("assinado/", views.contract_sealed_download, name="contract_sealed_download"),
]
