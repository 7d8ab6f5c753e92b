"""Test settings: the real settings with fast hashing and throwaway files."""

import os
import tempfile

# portal.settings refuses to start without a key (DEBUG off); the processes the tests start
# (gunicorn, the follower, manage.py) inherit this one.
os.environ.setdefault("SECRET_KEY", "tests-only-" + "k" * 50)
# One throwaway folder per run for files and the file cache, shared with those processes.
TEST_DIR = os.environ.get("PORTAL_TEST_DIR") or os.environ.setdefault(
    "PORTAL_TEST_DIR", tempfile.mkdtemp(prefix="portal-test-")
)

from portal.settings import *  # noqa: E402, F403
from portal.settings import CACHES, DATABASES, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = os.path.join(TEST_DIR, "media")
if STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
    STORAGES["default"]["OPTIONS"]["location"] = MEDIA_ROOT
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
    CACHES["default"]["LOCATION"] = os.path.join(TEST_DIR, "cache")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: gunicorn started by a test opens the same test database.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(TEST_DIR, "test.sqlite3")}
