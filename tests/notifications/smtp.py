"""A real SMTP server on 127.0.0.1 (aiosmtpd, a free port) that refuses with 451 until told to
accept: the mail server of the tests of retries."""

import threading
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller


class FlakyHandler:
    def __init__(self):
        self.accepting = False
        self.refused = 0
        self.messages: list[EmailMessage] = []
        self.changed = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not self.accepting:
            with self.changed:
                self.refused += 1
                self.changed.notify_all()
            return "451 4.3.0 Servidor ocupado, tente mais tarde"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.changed:
            self.messages.append(message_from_bytes(envelope.content, policy=default))
            self.changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, check, seconds: float = 30.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: check(self), timeout=seconds)


class LocalSmtp(Controller):
    """aiosmtpd's threaded server, bound to a port the OS picks."""

    def __init__(self, handler):
        super().__init__(handler, hostname="127.0.0.1", port=0)

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()
