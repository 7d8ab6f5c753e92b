from django.apps import AppConfig


class BackgroundConfig(AppConfig):
    """Background work on Django's task framework: the queue helpers, the worker's liveness
    (tasks of a dead worker run again), the daily schedule, failed tasks in admin."""

    name = "portal.background"
    label = "background"
    verbose_name = "Tarefas em segundo plano"

    def ready(self):
        from django.contrib import admin
        from django_tasks_db.models import DBTaskResult

        # Admin autodiscovery (run before this) registered django-tasks-db's own admin, which
        # shows every task to anyone: ours (admin.TaskAdmin) scopes them by company.
        if admin.site.is_registered(DBTaskResult):
            admin.site.unregister(DBTaskResult)
