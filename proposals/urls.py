from django.urls import path

from proposals import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("pedidos/", views.order_list, name="order_list"),
    path("pedidos/<int:numero>/", views.order_detail, name="order_detail"),
    path("pedidos/<int:numero>/aprovar/", views.order_approve, name="order_approve"),
    path("pedidos/<int:numero>/recusar/", views.order_decline, name="order_decline"),
    path("pedidos/<int:numero>/versao/", views.order_version, name="order_version"),
    path("pedidos/<int:numero>/proposta.pdf", views.proposal_pdf, name="proposal_pdf"),
    path("pedidos/<int:numero>/proposta/visualizar/", views.proposal_view, name="proposal_view"),
    path(
        "pedidos/<int:numero>/anexos/<int:id>/",
        views.attachment_download,
        name="attachment_download",
    ),
]
