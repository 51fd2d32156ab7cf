"""Django settings, read from environment variables (see README: Configuration)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from siyu.env import data_dir, encryption_keys, envbool, envint, envstr, persistent_secret_key

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent.parent
DATA_DIR = data_dir()

SECRET_KEY = persistent_secret_key(DATA_DIR)
SIYU_ENCRYPTION_KEYS = encryption_keys(DATA_DIR)
DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in envstr("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in envstr("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves Swagger UI for /api/docs from this site's static files, not a CDN
    "django_tasks",
    "django_tasks_db",
    "siyu.core",
    "siyu.wecom",
    "siyu.ip",
    "siyu.accounts",
    "siyu.customers",
    "siyu.tags",
    "siyu.segments",
    "siyu.lifecycle",
    "siyu.channels",
    "siyu.content",
    "siyu.messaging",
    "siyu.moments",
    "siyu.sop",
    "siyu.community",
    "siyu.groupcodes",
    "siyu.moderation",
    "siyu.points",
    "siyu.activities",
    "siyu.mobile",
    "siyu.complaints",
    "siyu.fission",
    "siyu.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "siyu.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "siyu.core.middleware.ConsoleLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "siyu.core.middleware.CurrentWorkspaceMiddleware",
]

ROOT_URLCONF = "siyu.urls"
WSGI_APPLICATION = "siyu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "siyu.console.context.console",
            ],
        },
    },
]

# SQLite (WAL) in the data directory unless DATABASE_URL names another database.
DATABASE_URL = envstr("DATABASE_URL", f"sqlite:///{DATA_DIR / 'siyu.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60), conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE transactions and a busy timeout let web, worker and scheduler share one file.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not :memory:, so subprocesses started by tests (worker, scheduler) share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": envstr("REDIS_URL")}
        if envstr("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "siyu_cache"}
    )
}

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Judges nothing: revokes the user's API tokens whenever their password changes.
    {"NAME": "siyu.core.passwords.RevokeApiTokens"},
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
NODE_MODULES = Path(envstr("SIYU_NODE_MODULES", str(REPO_DIR / "node_modules")))
# Front-end packages come from npm (package.json + lockfile); only their dist folders are served.
STATICFILES_DIRS = [
    ("vendor/tabler/css", NODE_MODULES / "@tabler/core/dist/css"),
    ("vendor/tabler/js", NODE_MODULES / "@tabler/core/dist/js"),
    ("vendor/htmx", NODE_MODULES / "htmx.org/dist"),
    ("vendor/alpinejs", NODE_MODULES / "alpinejs/dist"),
    ("vendor/echarts", NODE_MODULES / "echarts/dist"),
    ("vendor/weui", NODE_MODULES / "weui/dist/style"),
    ("vendor/wecom-jssdk", NODE_MODULES / "@wecom/jssdk/dist"),
]
# Uploaded files (persona avatars). Never served as public static files: each is streamed by a
# signed-in, workspace-scoped view (ip:avatar), so one brand cannot fetch another's uploads.
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "siyu.console.storage.ConsoleStaticStorage"},
}
WHITENOISE_KEEP_ONLY_HASHED_FILES = True

SIYU = {
    # Failed logins per (username, client) before the login form refuses for LOGIN_LOCKOUT_SECONDS.
    "LOGIN_MAX_FAILURES": envint("SIYU_LOGIN_MAX_FAILURES", 5),
    "LOGIN_LOCKOUT_SECONDS": envint("SIYU_LOGIN_LOCKOUT_SECONDS", 300),
    # Brands one user may create in the console or the API (the superuser is not limited).
    "MAX_BRANDS_PER_USER": envint("SIYU_MAX_BRANDS_PER_USER", 10),
    # A worker that has not beaten its heart for this long is dead; its running task is re-queued.
    "WORKER_HEARTBEAT_SECONDS": envint("SIYU_WORKER_HEARTBEAT_SECONDS", 5),
    "WORKER_DEAD_AFTER_SECONDS": envint("SIYU_WORKER_DEAD_AFTER_SECONDS", 30),
    "SCHEDULER_TICK_SECONDS": envint("SIYU_SCHEDULER_TICK_SECONDS", 1),
    "SCHEDULER_LEASE_SECONDS": envint("SIYU_SCHEDULER_LEASE_SECONDS", 15),
    "EVENT_MAX_ATTEMPTS": envint("SIYU_EVENT_MAX_ATTEMPTS", 5),
    # Callbacks stored within this window share one inbox-draining task (per web process).
    "INBOX_DRAIN_DELAY_MS": envint("SIYU_INBOX_DRAIN_DELAY_MS", 200),
    # Nightly pruning (days; 0 keeps forever): processed callbacks and domain events whose runs
    # all finished; failed/unknown callbacks and events with a failed run; WeCom API-call logs.
    # Callbacks not yet processed and events with runs still to do are kept.
    "RETAIN_EVENTS_DAYS": envint("SIYU_RETAIN_EVENTS_DAYS", 30),
    "RETAIN_FAILED_EVENTS_DAYS": envint("SIYU_RETAIN_FAILED_EVENTS_DAYS", 90),
    "RETAIN_API_CALLS_DAYS": envint("SIYU_RETAIN_API_CALLS_DAYS", 14),
    # Refused callbacks (a forged flood is recorded a few rows a minute, see wecom.rejections):
    # kept this many days (0: forever), and at most this many rows per brand (0: no cap).
    "RETAIN_REJECTIONS_DAYS": envint("SIYU_RETAIN_REJECTIONS_DAYS", 30),
    "RETAIN_REJECTIONS_MAX_ROWS": envint("SIYU_RETAIN_REJECTIONS_MAX_ROWS", 10_000),
}
# The console's address as staff reach it: links in notices to staff (应用消息 textcards).
SIYU_PUBLIC_URL = envstr("SIYU_PUBLIC_URL", "http://localhost:8000").rstrip("/")
# WeCom API base URLs allowed besides https on port 443 of a public host (comma-separated URL
# prefixes; "*" as the port allows any), e.g. the twin's "http://127.0.0.1:8001/cgi-bin/". The
# server requests these addresses, so only an operator may widen them (siyu.wecom.api_bases).
SIYU_WECOM_ALLOWED_API_BASES = [
    base.strip() for base in envstr("SIYU_WECOM_ALLOWED_API_BASES", "").split(",") if base.strip()
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "siyu": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
        "django_tasks_db": {"handlers": ["console"], "level": "WARNING"},
    },
}
