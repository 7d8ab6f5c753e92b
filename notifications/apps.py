from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """E-mail to the customer's users and to the company, each one a task (notifications.tasks).

    Domain code (services, the mirror engine) enqueues these tasks through
    portal.background.queue.enqueue_on_commit; this app reads the domain's models and
    selectors, and never imports a view or a service that writes."""

    name = "notifications"
    verbose_name = "Notificações por e-mail"
