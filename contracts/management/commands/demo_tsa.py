from pathlib import Path

from django.core.management.base import BaseCommand

from contracts.tsa import DemoTimestampServer


class Command(BaseCommand):
    help = (
        "The demo's time-stamp authority (RFC 3161 over HTTP, a DEMONSTRATION certificate from "
        "the demo CA). Listens on 127.0.0.1; --port 0 picks a free port and --url-file says "
        "which."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=0)
        parser.add_argument("--url-file", help="write the TSA's URL to this file once listening")

    def handle(self, *args, port, url_file=None, **options):
        server = DemoTimestampServer(port=port)
        if url_file:
            Path(url_file).write_text(server.url)
        self.stdout.write(f"Demo TSA (demonstração, sem valor legal) at {server.url}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
