"""Test settings: the real settings with fast hashing and throwaway files."""

import os
import tempfile

# portal.settings refuses to start without a key (DEBUG off); the processes the tests start
# (gunicorn, the follower, manage.py) inherit this one.
os.environ.setdefault("SECRET_KEY", "tests-only-" + "k" * 50)

from portal.settings import *  # noqa: E402, F403
from portal.settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="portal-media-")
if STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
    STORAGES["default"]["OPTIONS"]["location"] = MEDIA_ROOT
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
