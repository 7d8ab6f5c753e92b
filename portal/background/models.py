from django.db import models
from django_tasks_db.models import DBTaskResult


class TaskRecord(DBTaskResult):
    """django-tasks-db's row of a task, under our admin (portal.background.admin.TaskAdmin)."""

    class Meta:
        proxy = True
        verbose_name = "tarefa"
        verbose_name_plural = "tarefas"

    def __str__(self) -> str:
        return f"{self.task_path.rsplit('.', 1)[-1]} ({self.get_status_display()})"


class WorkerHeartbeat(models.Model):
    """A task worker that is alive: it refreshes `seen_at` every few seconds while it runs.

    A task left RUNNING by a worker whose heartbeat went stale (a worker killed, a machine
    lost) is put back in the queue by the workers still alive (portal.background.workers).
    """

    worker_id = models.CharField("worker", max_length=64, primary_key=True)
    hostname = models.CharField("máquina", max_length=255)
    pid = models.IntegerField("PID")
    started_at = models.DateTimeField("iniciado em")
    seen_at = models.DateTimeField("visto em")

    class Meta:
        verbose_name = "worker ativo"
        verbose_name_plural = "workers ativos"

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"


class DailyJobRun(models.Model):
    """One row per (daily job, day): whichever worker inserts it runs that day's job, so the
    job runs once a day however many workers there are."""

    job = models.CharField("tarefa", max_length=64)
    day = models.DateField("dia")
    enqueued_at = models.DateTimeField("enfileirada em")
    worker_id = models.CharField("worker", max_length=64)

    class Meta:
        verbose_name = "tarefa diária"
        verbose_name_plural = "tarefas diárias"
        constraints = [
            models.UniqueConstraint(fields=["job", "day"], name="one_daily_run_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.day:%d/%m/%Y}"
