from django.apps import AppConfig


class BackgroundConfig(AppConfig):
    """Background work on Django's task framework: the queue helpers, the worker's liveness
    (tasks of a dead worker run again), the daily schedule, failed tasks in admin."""

    name = "portal.background"
    label = "background"
    verbose_name = "Tarefas em segundo plano"
