"""A time-stamp authority for the demo and the tests: RFC 3161 over HTTP, on 127.0.0.1.

It answers real TimeStampReq/TimeStampResp exchanges (pyHanko's DummyTimeStamper signs the
tokens) with a certificate that the demo CA issued for time stamping and that says, in its
subject, that it is a demonstration with no legal value. `manage.py demo_tsa` runs it for
`make run`; tests start it in a thread on a free port.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import tsp
from pyhanko.sign.timestamps import DummyTimeStamper

from contracts import pki

MAX_REQUEST_BYTES = 64 * 1024


class _Handler(BaseHTTPRequestHandler):
    server_version = "PortalDemoTSA/1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Content-Type") != "application/timestamp-query" or not (
            0 < length <= MAX_REQUEST_BYTES
        ):
            self.send_error(400, "Expected an RFC 3161 timestamp query")
            return
        try:
            request = tsp.TimeStampReq.load(self.rfile.read(length))
            reply = self.server.stamper.request_tsa_response(request).dump()
        except Exception:
            self.send_error(400, "Malformed timestamp query")
            return
        self.server.answered += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format, *args):
        """Quiet: the demo's console shows the web server's log."""


class DemoTimestampServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        key, certificate, authority = pki.demo_tsa_credentials()
        self.stamper = DummyTimeStamper(
            tsa_cert=certificate,
            tsa_key=key,
            certs_to_embed=[pki.to_asn1(authority.certificate)],
        )
        self.answered = 0  # timestamp requests answered (tests check the exchange happened)
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="demo-tsa", daemon=True)
        thread.start()
        return thread
