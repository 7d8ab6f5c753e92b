"""Settings, all from the environment (12-factor). Defaults bring up the embedded demo."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # A built-in key would sign every session and reset link of every installation alike.
    # `make run` exports the demo's own key (var/secret_key), settings_test the tests'.
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "value kept secret (e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'"
            "); with DEBUG=1 a development key is used instead."
        )
    SECRET_KEY = "insecure-development-key-" + "x" * 50

# Any host may reach Django: portal.middleware.TenantMiddleware answers 404 to every host that
# is neither a TenantDomain nor SUPPORT_HOST, before any view runs.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "*")
SUPPORT_HOST = os.environ.get("SUPPORT_HOST", "suporte.localhost").lower()
# Port of absolute URLs built on a tenant's hostname (e-mails, PDFs); empty behind a proxy.
PUBLIC_PORT = os.environ.get("PUBLIC_PORT", "")

INSTALLED_APPS = [
    "portal.accounts.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "portal.accounts.apps.PortalAxesConfig",  # django-axes, named in pt-BR
    "csp",
    "django_ratelimit",
    "portal.accounts",
    "proposals",
    "contracts",
    "erp_sync",
    "notifications",
    # Before django_tasks_db: its `db_worker` command replaces the package's (a heartbeat).
    "portal.background",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "portal.middleware.TenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "portal.accounts.middleware.TenantAuthenticationMiddleware",
    "portal.accounts.middleware.SessionIdleRefreshMiddleware",
    "portal.middleware.LanguageMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "portal.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.PrivateCacheMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        # Customer pages: Jinja2 renders our 25-order list ~2x faster than Django templates
        # (bench/templates.py); admin and Django's own forms stay on Django templates.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "portal.jinja2.environment",
            "autoescape": True,
            "auto_reload": DEBUG,
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates" / "django"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
FORM_RENDERER = "django.forms.renderers.DjangoTemplates"


DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", 5))


def _database(url: str) -> dict:
    # Connections live a minute, and each request first checks the one it reuses (one
    # round trip): after PostgreSQL restarts, the next request reconnects instead of failing.
    db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if db["ENGINE"] == "django.db.backends.postgresql":
        # A server that does not answer (a network partition) fails the request in seconds,
        # well inside gunicorn's worker timeout, instead of after the OS's TCP timeout.
        db.setdefault("OPTIONS", {}).setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # The web server and the follower share the file: WAL lets readers run beside the
        # writer, IMMEDIATE takes the write lock up front so busy waits instead of deadlocking.
        db.setdefault("OPTIONS", {}).update(
            {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            }
        )
    return db


DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")
ERP_DATABASE_URL = os.environ.get("ERP_DATABASE_URL", "")
DATABASES = {"default": _database(DATABASE_URL)}
if ERP_DATABASE_URL and ERP_DATABASE_URL != DATABASE_URL:
    DATABASES["erp"] = _database(ERP_DATABASE_URL)
DATABASE_ROUTERS = ["erp_sync.router.ErpRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions, host → tenant and rate limits live in the cache: every web process must see one
# process's change (a logout, a removed domain) at once. Without CACHE_URL: files under var/,
# shared by the processes of one machine; several machines share Redis (CACHE_URL).
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith("redis"):
    CACHES = {"default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": CACHE_URL}}
elif CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL must be redis://… (got {CACHE_URL!r})")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(Path(os.environ.get("CACHE_DIR", VAR_DIR / "cache"))),
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "portal.accounts.backends.TenantEmailBackend",
]
# E-mail is unique per (tenant, e-mail), not globally: one person may hold logins at two
# companies. The tenant-aware backend and every user lookup filter by tenant instead.
SILENCED_SYSTEM_CHECKS = [
    "auth.E003",
    "auth.W004",
    # django-ratelimit knows only django-redis and memcached. Django's own RedisCache counts
    # atomically too; the file cache may lose a count when two processes add one at the same
    # instant, which lets a flood through a few requests late, never locks anybody out.
    "django_ratelimit.E003",
    "django_ratelimit.W001",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Idle time that ends a session; portal.accounts.middleware.SessionIdleRefreshMiddleware
# pushes the expiry on, at most once per SESSION_REFRESH_SECONDS of a user's requests.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", 60 * 60 * 2))
SESSION_REFRESH_SECONDS = int(os.environ.get("SESSION_REFRESH_SECONDS", 60))
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# POSTs to login and password reset per IP and per (tenant, e-mail), all alike, right or wrong
# (portal.accounts.ratelimits): django-ratelimit rates, "count/period".
RATE_LIMITS = {
    "login": {"ip": "30/5m", "email": "10/15m"},
    "password_reset": {"ip": "10/h", "email": "3/h"},
}

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "portal.accounts.backends.axes_username"
AXES_LOCKOUT_CALLABLE = "portal.accounts.views.lockout"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_VERBOSE = False

LANGUAGE_CODE = "pt-br"
# Strings are wrapped in gettext with pt-BR msgids; English comes from locale/en (make messages).
# A language is a choice (the footer's switch, kept on the user), never the browser's
# Accept-Language: the portal speaks pt-BR until someone asks otherwise (portal.middleware).
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Sao_Paulo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# An S3 that does not answer fails the request within seconds: each call (a save makes two,
# HEAD then PUT) tries twice, each try waiting at most this long for the connection and for
# each read. boto's defaults (60 s, five tries) outlast gunicorn's worker timeout.
S3_TIMEOUT_SECONDS = float(os.environ.get("S3_TIMEOUT_SECONDS", 5))


def s3_storage(*, bucket: str, endpoint_url: str | None, **options) -> dict:
    """Files on S3, private: downloads are signed URLs valid for 60 seconds."""
    from botocore.config import Config  # only where S3 is used: every process imports settings

    client_config = Config(
        signature_version="s3v4",
        connect_timeout=S3_TIMEOUT_SECONDS,
        read_timeout=S3_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": 2},
    )
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 60,
            "signature_version": "s3v4",
            "file_overwrite": False,
            "client_config": client_config,
            **options,
        },
    }


AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    DEFAULT_STORAGE = s3_storage(
        bucket=AWS_STORAGE_BUCKET_NAME, endpoint_url=os.environ.get("AWS_S3_ENDPOINT_URL") or None
    )
else:
    DEFAULT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # No base_url: no file is public; downloads go through views that check ownership.
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None},
    }
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# EMAIL_BACKEND from the environment; unset: SMTP when EMAIL_HOST is set, else the console.
# The demo uses Django's file backend: one file per message in EMAIL_FILE_PATH.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if not os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
# A mail server that does not answer holds a task, never a request: notifications are tasks.
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", 10))
# A notification the mail server did not take is tried again after 1, 2, 4… minutes (at most
# an hour apart), NOTIFICATION_MAX_ATTEMPTS times in all (then its task fails, seen in admin).
NOTIFICATION_RETRY_SECONDS = float(os.environ.get("NOTIFICATION_RETRY_SECONDS", 60))
NOTIFICATION_RETRY_MAX_SECONDS = float(os.environ.get("NOTIFICATION_RETRY_MAX_SECONDS", 3600))
NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATION_MAX_ATTEMPTS", 10))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "portal@localhost")

# Security headers. HTTPS-only settings switch on with HTTPS=1 (production behind TLS).
HTTPS = env_bool("HTTPS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # The tenant's brand colour is one <style nonce> in base.html; no other inline style.
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Background work: Django's task framework (the django-tasks backport of Django 6's
# django.tasks). TASKS_BACKEND picks the backend and no code names one: "database" (default;
# django-tasks-db, `manage.py db_worker`), "rq" (RQ on Redis at RQ_URL; `pip install
# ".[rq]"`, workers are `manage.py rqworker --job-class django_tasks_rq.Job default`),
# "immediate" (runs in the caller; tests).
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database")
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS = {"default": {"BACKEND": TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
if TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": os.environ.get("RQ_URL", "redis://127.0.0.1:6379/0")}}
# A worker refreshes its heartbeat this often; a RUNNING task whose worker was not seen for
# TASKS_WORKER_DEAD_AFTER_SECONDS runs again (longer than any pause of a live worker).
TASKS_HEARTBEAT_SECONDS = float(os.environ.get("TASKS_HEARTBEAT_SECONDS", 5))
TASKS_WORKER_DEAD_AFTER_SECONDS = float(os.environ.get("TASKS_WORKER_DEAD_AFTER_SECONDS", 60))
# Daily jobs, each once a day at its local time (HH:MM; empty: off) by whichever worker comes
# first.
TASKS_DAILY = {
    "reminders": {
        "task": "notifications.tasks.send_daily_reminders",
        "at": os.environ.get("REMINDERS_AT", "08:00"),
    },
    "prune": {
        "task": "portal.background.tasks.task_results_prune",
        "at": os.environ.get("TASKS_PRUNE_AT", "03:30"),
    },
}
TASKS_KEEP_SUCCESSFUL_DAYS = int(os.environ.get("TASKS_KEEP_SUCCESSFUL_DAYS", 7))
TASKS_KEEP_FAILED_DAYS = int(os.environ.get("TASKS_KEEP_FAILED_DAYS", 30))

ERP_SYNC_POLL_SECONDS = float(os.environ.get("ERP_SYNC_POLL_SECONDS", 1))
ERP_SYNC_RECONCILE_SECONDS = float(os.environ.get("ERP_SYNC_RECONCILE_SECONDS", 60))
ORDER_LIST_PAGE_SIZE = 25
# "Contrato Assinado" uploads (contracts.uploads): PDF, JPEG or PNG up to this size.
SIGNED_CONTRACT_MAX_BYTES = int(os.environ.get("SIGNED_CONTRACT_MAX_BYTES", 10 * 1024 * 1024))
# No request body beyond the largest upload and its form is read (portal.request_limits).
MAX_REQUEST_BYTES = SIGNED_CONTRACT_MAX_BYTES + 64 * 1024
FILE_UPLOAD_HANDLERS = [
    "portal.request_limits.RequestSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Digital signature (contracts.seal): an RFC 3161 time-stamp authority for the seals (empty: no
# timestamp), how long to wait for it, and a PEM bundle of the CAs its certificates chain to.
TSA_URL = os.environ.get("TSA_URL", "")
TSA_TIMEOUT = float(os.environ.get("TSA_TIMEOUT", 5))
TSA_CA_FILE = os.environ.get("TSA_CA_FILE", "")
# /verificar/: lookups and uploads per client IP and window.
VERIFY_RATE_LIMIT = int(os.environ.get("VERIFY_RATE_LIMIT", 30))
VERIFY_RATE_WINDOW_SECONDS = int(os.environ.get("VERIFY_RATE_WINDOW_SECONDS", 600))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every rendering step at INFO.
    # pyHanko logs a traceback for every change it finds after a signature, which /verificar/
    # reports to the person anyway; and warns when validation data is embedded offline (the
    # demo CA's CRL is supplied, not fetched).
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "pyhanko": {"level": "ERROR"},
        "pyhanko.sign.diff_analysis": {"level": "CRITICAL"},
    },
}
