"""Settings, read from the environment through typed helpers that fail loudly on a bad value."""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

SRC_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(os.environ.get("YIWANG_HOME", SRC_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("YIWANG_VAR", BASE_DIR / "var")).resolve()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"Unexpected value {name}={value}, use 'true' or 'false'")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"Unexpected value {name}={value}, use a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _secret_key() -> str:
    """The key from the environment, else one generated once into var/ so restarts keep sessions."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        # O_EXCL: two processes starting at once must end with one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


def _database(url: str | None) -> dict:
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "yiwang.sqlite3"),
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA cache_size=-65536;"
                    "PRAGMA mmap_size=1073741824;"
                    "PRAGMA temp_store=MEMORY;"
                ),
            },
        }
    import dj_database_url

    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # the library raises several types for one cause: a bad URL
        raise ImproperlyConfigured(
            f"DATABASE_URL={url!r} cannot be read ({exc}); "
            "use e.g. postgresql://user@127.0.0.1:5432/yiwang or leave it unset for SQLite"
        ) from None
    if config.get("ENGINE") not in (
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    ):
        raise ImproperlyConfigured(
            f"DATABASE_URL={url!r}: only postgresql:// and sqlite:// are supported"
        )
    if not config.get("NAME"):
        raise ImproperlyConfigured(
            f"DATABASE_URL={url!r} names no database; use e.g. postgresql://user@host:5432/yiwang"
        )
    return config


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    # For its bundled Swagger UI: the API docs must work without a CDN.
    "ninja",
    "yiwang.org",
    "yiwang.geo",
    "yiwang.registry",
    "yiwang.search",
    "yiwang.outreach",
    "yiwang.cases",
    "yiwang.intake",
    "yiwang.brain",
    "yiwang.matching",
    "yiwang.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Grid GeoJSON at district scale is ~0.5 MB; phones on slow links need it compressed.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "yiwang.urls"
WSGI_APPLICATION = "yiwang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiwang.web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": _database(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Serve straight from the app folders so a fresh checkout needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Yiwang's own settings.
YIWANG_DISTRICT_CODE = os.environ.get("YIWANG_DISTRICT_CODE", "SB")
# A tile URL for the map's basemap; empty means no basemap (intranets have no internet).
YIWANG_TILE_URL = os.environ.get("YIWANG_TILE_URL", "")
# Ways to reach people besides in-app notices (dotted paths to cases.notify.Transport classes).
YIWANG_NOTIFY_TRANSPORTS = env_list(
    "YIWANG_NOTIFY_TRANSPORTS", ["yiwang.cases.notify.EmailTransport"]
)
# Open311 GeoReport v2.
YIWANG_JURISDICTION_ID = os.environ.get("YIWANG_JURISDICTION_ID", "shibei.qingdao")
YIWANG_OPEN311_CONTACT = os.environ.get("YIWANG_OPEN311_CONTACT", "市北区一网治理中心 12345")
YIWANG_OPEN311_KEY_SERVICE = os.environ.get(
    "YIWANG_OPEN311_KEY_SERVICE", "向区一网治理中心申请接入,管理员以 yiwang open311 key create 签发"
)
YIWANG_OPEN311_NOTICE = os.environ.get("YIWANG_OPEN311_NOTICE", "已受理,将按时限办理并答复。")
YIWANG_PUBLIC_URL = os.environ.get("YIWANG_PUBLIC_URL", "http://127.0.0.1:8000")
YIWANG_ZIPCODE = os.environ.get("YIWANG_ZIPCODE", "266000")
# Where replies to 12345 tickets are pushed, and the secret that signs them (HMAC-SHA256).
YIWANG_HOTLINE_REPLY_URL = os.environ.get("YIWANG_HOTLINE_REPLY_URL", "")
YIWANG_HOTLINE_SECRET = os.environ.get("YIWANG_HOTLINE_SECRET", "")
# Shared secrets of systems that push events (video analytics …), "source=secret,source=secret".
YIWANG_EVENT_SECRETS = dict(
    item.split("=", 1) for item in env_list("YIWANG_EVENT_SECRETS", []) if "=" in item
)
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# How often a process checks whether the grid set changed, for its point → grid index.
YIWANG_GRID_INDEX_CHECK_SECONDS = env_int("YIWANG_GRID_INDEX_CHECK_SECONDS", 2)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
