import pytest


@pytest.fixture(autouse=True)
def _account_mails_run_at_once(settings):
    """The reset and invitation mails are tasks (portal.accounts.tasks): here they run in the
    caller when queued (django-tasks' immediate backend), so the tests read them from the
    outbox; a real worker sends them in tests/background."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default"],
        }
    }
