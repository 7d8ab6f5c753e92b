"""`manage.py db_worker`: django-tasks-db's worker, plus a heartbeat (portal.background.workers).

Same options as the package's command (but --reload: restart it yourself); this one takes its
name because our app comes before django_tasks_db in INSTALLED_APPS. Run as many as needed, on
as many machines: each task is claimed by one.
"""

from django.core.management.base import CommandError
from django_tasks_db.management.commands import db_worker

from portal.background.workers import Heartbeat, worker_forget, worker_heartbeat


class LiveWorker(db_worker.Worker):
    def run(self) -> None:
        heartbeat = Heartbeat(worker_id=self.worker_id)
        # Seen before the first claim: no other worker may take this one's tasks for dead.
        worker_heartbeat(worker_id=self.worker_id, started_at=heartbeat.started_at)
        heartbeat.start()
        try:
            super().run()
        finally:
            heartbeat.stop()
            worker_forget(worker_id=self.worker_id)


class Command(db_worker.Command):
    help = "Run a task worker (database backend); tasks of a worker that died are run again"

    def handle(
        self,
        *,
        verbosity,
        queue_name,
        interval,
        batch,
        backend_name,
        startup_delay,
        max_tasks,
        worker_id,
        exclude_queues,
        **options,
    ) -> None:
        self.configure_logging(verbosity)
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_name.split(","):
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = LiveWorker(
            queue_names=queue_name.split(","),
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        worker.configure_signals()
        worker.run()
