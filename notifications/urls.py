from django.urls import path

from notifications import views

urlpatterns = [
    path("descadastrar/<str:token>/", views.mail_unsubscribe, name="mail_unsubscribe"),
]
