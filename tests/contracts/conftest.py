import pytest

from contracts.pki import sealing_certificate_demo
from contracts.tsa import DemoTimestampServer


@pytest.fixture
def tsa(settings):
    """A time-stamp authority on 127.0.0.1 (a free port): real RFC 3161 over HTTP."""
    server = DemoTimestampServer(port=0)
    server.start_in_thread()
    settings.TSA_URL = server.url
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def certificate_a(tenant_a):
    return sealing_certificate_demo(tenant=tenant_a)


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    """Sealing runs on the task queue: here in the caller, right after the commit (django-tasks'
    immediate backend); the browser journey runs it in a real worker process."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default"],
        }
    }
