import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connections

from erp_sync.services import erp_sync_all

logger = logging.getLogger("erp_sync.follow")


class Command(BaseCommand):
    help = "Mirror the ERP's customers and orders: erp_sync [--tenant SLUG] [--follow]"

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this tenant (slug)")
        parser.add_argument(
            "--follow", action="store_true", help="keep mirroring until stopped (SIGTERM/SIGINT)"
        )

    def handle(self, *args, tenant, follow, **options):
        if not follow:
            for slug, stats in erp_sync_all(tenant_slug=tenant).items():
                self.stdout.write(f"{slug}: {stats}")
            return
        self._follow(tenant)

    def _follow(self, tenant: str | None) -> None:
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logger.info("Following the ERP every %ss", settings.ERP_SYNC_POLL_SECONDS)
        while not stopping:
            started = time.monotonic()
            try:
                results = erp_sync_all(tenant_slug=tenant)
            except DatabaseError:
                logger.exception("Sync pass failed; retrying next round")
                for connection in connections.all():
                    connection.close()
            else:
                for slug, stats in results.items():
                    if stats.changed:
                        logger.info(
                            "%s: %s in %.0f ms", slug, stats, (time.monotonic() - started) * 1000
                        )
            deadline = time.monotonic() + settings.ERP_SYNC_POLL_SECONDS
            while not stopping and time.monotonic() < deadline:
                time.sleep(0.1)
        logger.info("Follower stopped")
