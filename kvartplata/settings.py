"""Settings of Kvartplata, all taken from the environment (one module for every deployment)."""

import ipaddress
import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "data"))
# The embedded database, task queue and mail folder live here; it must exist before they open.
DATA_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The key signs sessions and the activation, unsubscribe and resend links: with DEBUG off the
# site refuses to start without one of its own. The fixed development key is used only with
# DEBUG on (`make run`) and inside the test run (pytest; it imports these settings in-process).
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    if not DEBUG and "pytest" not in sys.modules:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off set SECRET_KEY in the environment to 50+ "
            'random characters: python -c "import secrets; print(secrets.token_urlsafe(50))" '
            "(for a developer's machine: DEBUG=1, see docs/deployment.md)."
        )
    # Starts with "django-insecure-", so that `check --deploy` flags it.
    SECRET_KEY = "django-insecure-kvartplata-development-key-0123456789"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "kvartplata.backoffice.apps.BackofficeConfig",
    # django.contrib.admin with the back office site (two-factor sign-in, backoffice.sites).
    "kvartplata.backoffice.apps.OfficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    "allauth",
    "allauth.account",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "kvartplata.users",
    "kvartplata.registry",
    "kvartplata.billing",
    "kvartplata.meters",
    "kvartplata.payments",
    "kvartplata.receipts",
    "kvartplata.cabinet",
    "kvartplata.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kvartplata.lib.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kvartplata.users.middleware.StaffAuditMiddleware",
    "kvartplata.lib.security.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kvartplata.users.middleware.SessionTimeoutMiddleware",
    "kvartplata.backoffice.middleware.OfficeTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last, so that it sees the outcome of the sign-in views (django-axes requirement).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kvartplata.urls"
WSGI_APPLICATION = "kvartplata.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kvartplata" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# SQLite file by default (the embedded database of `make run`); DATABASE_URL selects PostgreSQL.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'kvartplata.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        # A 64 MiB page cache per connection: the billing run writes through several indexes.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA cache_size=-65536;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME") or None}
    # The ledger's covering index (billing 0020) holds its amounts on PostgreSQL only; SQLite
    # keeps the same index on its key columns, as intended.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    # The reads written once (lib.db.Select) are sent with their parameters apart and prepared
    # on the server from their 5th call on a connection; the ORM's queries never are (Django
    # binds them on the client). Behind a pooler in transaction mode, set it to 0 (off).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        int(os.environ.get("DB_PREPARE_THRESHOLD", "5")) or None
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {
        "NAME": "kvartplata.users.validators.MaximumLengthValidator",
        "OPTIONS": {"max_length": 128},
    },
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский")]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing folder before collectstatic
STATICFILES_DIRS = [BASE_DIR / "kvartplata" / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "cabinet:home"
LOGOUT_REDIRECT_URL = "account_login"

# Identity: django-allauth (sign-up, activation, reset, e-mail change) and django-axes (throttling).
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out login+address is refused before any password check.
    "kvartplata.users.backends.AxesBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "kvartplata.users.adapters.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "kvartplata.users.forms.LoginForm",
    "signup": "kvartplata.users.forms.SignupForm",
    "reset_password": "kvartplata.users.forms.ResetPasswordForm",
    "add_email": "kvartplata.users.forms.AddEmailForm",
}
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# The seed wants a taken login or e-mail refused at sign-up with a clear message; the reset form
# keeps the same answer for unknown addresses on its own (users.forms.ResetPasswordForm).
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Квартплата: "
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_USERNAME_BLACKLIST = ["admin", "administrator", "root", "office", "support"]
# Failed sign-ins are throttled per login and address by django-axes, not by allauth's per-login
# limit (which would lock the real user out from everywhere).
ACCOUNT_RATE_LIMITS = {"login_failed": None}
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", str(3600)))
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kvartplata.users.views.lockout"
AXES_VERBOSE = False  # no banner on every management command
# Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated;
# e.g. "127.0.0.1" for the documented nginx on the same machine). Empty: the peer's address is
# the client's. One rule (kvartplata.users.clientip) for axes, allauth's limits and the audit.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
try:
    for _proxy in TRUSTED_PROXIES:
        ipaddress.ip_network(_proxy, strict=False)
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from exc
AXES_CLIENT_IP_CALLABLE = "kvartplata.users.clientip.client_ip"
# Session timeouts (ASVS V3.3): idle and absolute, enforced by users.middleware.
SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(30 * 60)))
CONSENT_VERSION = "2025-01"

# E-mail: standard SMTP settings; without EMAIL_HOST the messages go to the console and a folder.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Квартплата <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_FILE_PATH = DATA_DIR / "mail"
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "kvartplata.lib.mail.ConsoleAndFileBackend"
# Seconds an SMTP exchange may take: a server that accepts and never answers delays mail only.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "15"))

# Task queue: Huey, embedded on SQLite by default, Redis-backed when REDIS_URL is given.
REDIS_URL = os.environ.get("REDIS_URL", "")
# One cache for all app processes in production (rate limits must count site-wide), a local
# one for development and tests.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("CACHE_URL", REDIS_URL),
            "KEY_PREFIX": "kvartplata",
        }
    }
# Claimed jobs hold a lease this long, renewed while they work; a job whose worker died is
# taken for dead once it runs out (kvartplata.lib.leases).
JOB_LEASE_SECONDS = float(os.environ.get("JOB_LEASE_SECONDS", "60"))
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        # Priorities: runs and imports go before queued mail (docs/deployment.md).
        "huey_class": "huey.PriorityRedisHuey",
        "name": os.environ.get("HUEY_NAME", "kvartplata"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": int(os.environ.get("HUEY_WORKERS", "2")), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "kvartplata",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# Security: strict defaults that `check --deploy` expects, relaxed only with DEBUG.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 3600)))
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Strict CSP on every response (kvartplata.lib.security); see docs/security.md.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# Pages answered with Cache-Control: no-store even before sign-in (signed-in users: always).
NO_STORE_PATH_PREFIXES = ["/accounts/", "/office/", "/office-tools/", "/meters/office/"]
# Back office two-factor sign-in (django-otp TOTP). Staff with an authenticator always need
# its code; with OFFICE_REQUIRE_2FA every staff member must set one up before using the office.
OFFICE_REQUIRE_2FA = env_bool("OFFICE_REQUIRE_2FA", False)
OFFICE_TOOL_PATH_PREFIXES = ["/office/tools/", "/office-tools/", "/meters/office/"]
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Квартплата")
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Demo logins printed by `make run`.
DEMO_RESIDENT_PASSWORD = os.environ.get("DEMO_RESIDENT_PASSWORD", "demo-kvartplata")
DEMO_STAFF_PASSWORD = os.environ.get("DEMO_STAFF_PASSWORD", "operator-kvartplata")

# Payment registries larger than this are refused unread (bytes; 256 MB ≈ 2 million lines).
PAYMENTS_MAX_FILE_BYTES = int(os.environ.get("PAYMENTS_MAX_FILE_BYTES", str(256 * 1024 * 1024)))
# The largest amount of one line (₽) that an import or a back-office form accepts: a payment of
# a bank registry, a charge line (kvartplata.lib.ranges).
MAX_LINE_AMOUNT = os.environ.get("MAX_LINE_AMOUNT", "1000000.00")
