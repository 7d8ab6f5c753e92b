from django.urls import path

from portal.accounts import views

urlpatterns = [
    path("entrar/", views.LoginView.as_view(), name="login"),
    path("sair/", views.LogoutView.as_view(), name="logout"),
    path("senha/alterar/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "senha/alterar/pronto/",
        views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("senha/recuperar/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "senha/recuperar/enviado/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "senha/redefinir/pronto/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "senha/redefinir/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("idioma/", views.language_switch, name="set_language"),
    path("marca/logo/", views.tenant_logo, name="tenant_logo"),
]
