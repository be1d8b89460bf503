"""Settings for the NPL credit-risk platform.

Every setting comes from an environment variable with an embedded default, so the product runs
on a fresh machine with nothing configured (SQLite file, no Redis) and in production with
``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY`` and ``DEBUG=0``. The README has a table of
every variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc


# Off unless asked for: `make run` (scripts/run.sh) and the tests (tests/settings.py) set DEBUG=1.
DEBUG = env_bool("DEBUG", False)

DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

_DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-never-used-with-debug-off"  # noqa: S105 (refused unless DEBUG)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. Against the development setup `make run` starts, "
            "run commands with DEBUG=1, e.g. `DEBUG=1 .venv/bin/python manage.py create_api_token analyst`."
        )
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "nplsite.apps.NplAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "nplsite.apps.SignInAttemptsConfig",  # django-axes, named for the admin
    "nplsite.apps.NplSiteConfig",
    "jobs",
    "applicants",
    "training",
    "scoring",
    "monitoring",
    "governance",
    "reviews",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "nplsite.security.content_security_policy_middleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "nplsite.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login attempt into the locked-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "web.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "nplsite.roles.roles_context",
            ],
        },
    },
]

WSGI_APPLICATION = "nplsite.wsgi.application"

# Database: DATABASE_URL, default a SQLite file in the git-ignored data folder.
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not in-memory) test database, so a Celery worker process started by a test sees
    # the same rows as the test itself.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test_db.sqlite3")}
    # WAL: readers never wait for the writer, and a commit does not wait for the disk.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Connections are kept (DB_CONN_MAX_AGE) as on PostgreSQL: opening one and running the init
    # command cost 0.7 ms, more than the INSERT of a scored prediction, on every request. An idle
    # WAL connection holds no lock.
else:
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
    # Behind PgBouncer in transaction mode (docs/scaling.md): no server-side cursors, which do not
    # survive a pooled transaction (QuerySet.iterator() would open one).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", False)
# PostgreSQL cancels a page's statement after this many seconds and the page says so in words
# (nplsite/database.py), below the web server's 30 s worker timeout; 0 turns it off. Not the API's.
PAGE_STATEMENT_TIMEOUT_SECONDS = env_float("PAGE_STATEMENT_TIMEOUT_SECONDS", 20.0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes first: it refuses a locked-out username+address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation: English and Indonesian, Jakarta time.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("id", _("Indonesian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format for both languages, pages and admin alike: "6 Dec 2026 06:42" / "6 Des 2026 06.42",
# day-first date inputs (nplsite/formats/).
FORMAT_MODULE_PATH = ["nplsite.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Jakarta")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# In development WhiteNoise serves straight from the app and project static folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Files served at the site's root without a login: /favicon.ico, which browsers ask for on pages with no
# icon link and on non-HTML answers (JSON, the admin's and the API docs' pages link it too).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

# Trained model artifacts (joblib files recorded with their SHA-256 in the database).
MODEL_ARTIFACT_DIR = Path(os.environ.get("MODEL_ARTIFACT_DIR", DATA_DIR / "artifacts")).resolve()

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport in the data folder,
# so background jobs still run in a separate worker process without any server.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
CELERY_DATA_DIR = DATA_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3, "socket_timeout": 10}
else:
    for sub in ("queue", "processed", "results", "control"):
        (CELERY_DATA_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = f"file://{CELERY_DATA_DIR / 'results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(CELERY_DATA_DIR / "control"),
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_EXPIRES = 24 * 3600
# The queue tasks go to when nothing else is said (and a worker without -Q consumes).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery").strip() or "celery"
# Background jobs (jobs/lifecycle.py): a running training run or batch-scoring job whose worker has
# written no heartbeat for JOB_STALE_HEARTBEAT_SECONDS lost its worker and is marked failed (a live
# job beats every fifth of that, at most every 30 s). Every task is stopped after the soft time limit
# (the job fails with a message) and killed after the hard one (prefork workers enforce both).
JOB_STALE_HEARTBEAT_SECONDS = env_int("JOB_STALE_HEARTBEAT_SECONDS", 180)
if JOB_STALE_HEARTBEAT_SECONDS < 1:
    raise ImproperlyConfigured(f"JOB_STALE_HEARTBEAT_SECONDS must be at least 1, got {JOB_STALE_HEARTBEAT_SECONDS}")
# How often Celery beat sweeps for jobs whose worker died (jobs/tasks.py): a third of the limit.
JOB_SWEEP_SECONDS = env_int("JOB_SWEEP_SECONDS", max(1, JOB_STALE_HEARTBEAT_SECONDS // 3))
JOB_SOFT_TIME_LIMIT_SECONDS = env_int("JOB_SOFT_TIME_LIMIT_SECONDS", 3 * 3600)
JOB_HARD_TIME_LIMIT_SECONDS = env_int("JOB_HARD_TIME_LIMIT_SECONDS", JOB_SOFT_TIME_LIMIT_SECONDS + 300)

if not 0 < JOB_SOFT_TIME_LIMIT_SECONDS < JOB_HARD_TIME_LIMIT_SECONDS:
    raise ImproperlyConfigured(
        "JOB_SOFT_TIME_LIMIT_SECONDS must be positive and below JOB_HARD_TIME_LIMIT_SECONDS, got "
        f"{JOB_SOFT_TIME_LIMIT_SECONDS} and {JOB_HARD_TIME_LIMIT_SECONDS}"
    )
CELERY_TASK_SOFT_TIME_LIMIT = JOB_SOFT_TIME_LIMIT_SECONDS
CELERY_TASK_TIME_LIMIT = JOB_HARD_TIME_LIMIT_SECONDS
# Celery beat (``celery -A nplsite beat``): the periodic monitoring reports (monitoring/tasks.py) and
# the sweep for jobs whose worker died (jobs/tasks.py).
CELERY_BEAT_SCHEDULE = {
    "write-monitoring-reports": {
        "task": "monitoring.write_monitoring_reports",
        "schedule": float(env_int("MONITORING_SCHEDULE_SECONDS", 24 * 3600)),
    },
    "sweep-stale-jobs": {"task": "jobs.sweep_stale_jobs", "schedule": float(JOB_SWEEP_SECONDS)},
}

# The cache, shared by every process: Redis when configured, otherwise files in the data folder.
# The API rate limit (nplsite/throttling.py) keeps its request times here; login lockouts
# (django-axes) are kept in the database. Short socket timeouts: an unreachable Redis costs a
# request half a second at most (the rate limit then lets it through).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": DATA_DIR / "cache"}
    }

# How long /healthz waits for any one dependency before reporting it down.
HEALTHCHECK_TIMEOUT_SECONDS = float(os.environ.get("HEALTHCHECK_TIMEOUT_SECONDS", "2"))
# The app's check that the active model version is usable (a setting, so nplsite imports no app).
HEALTHCHECK_ACTIVE_MODEL = "training.health.check_active_model"

# Production hardening. Each can be relaxed through the environment, e.g. behind a TLS-terminating
# proxy set SECURE_PROXY_SSL_HEADER=1 (trusts X-Forwarded-Proto) or SECURE_SSL_REDIRECT=0.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # A load balancer probes /healthz over plain HTTP inside the network: never redirect it.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)

# Content-Security-Policy on every response (nplsite/security.py): this site's own scripts, styles
# and connections only, data: images (Swagger UI's icons), no plugins, no framing, and never
# 'unsafe-inline' — no page has an inline script, style or event handler (tests/security checks).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)

# Login lockout (django-axes): AXES_FAILURE_LIMIT failed logins for one username from one client
# address lock that pair out for AXES_COOLOFF_MINUTES (each further try while locked restarts the
# wait), on the site's login and the admin's alike. Attempts are rows in the database, shared by
# every web process; a successful login clears the count. `manage.py axes_reset_username NAME`
# (or deleting the access attempt in the admin, as a superuser) lifts a lockout early.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
if AXES_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured(f"AXES_FAILURE_LIMIT must be at least 1, got {AXES_FAILURE_LIMIT}")
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 15)
if AXES_COOLOFF_MINUTES < 1:  # 0 would mean "locked for ever" to django-axes
    raise ImproperlyConfigured(f"AXES_COOLOFF_MINUTES must be at least 1, got {AXES_COOLOFF_MINUTES}")
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_CALLABLE = "nplsite.security.locked_out_response"
# Log lines and stored attempts name the username and address (never the password, always masked);
# the form's CSRF token is masked in the stored attempts too. No start-up banner on every command.
AXES_SENSITIVE_PARAMETERS = ["csrfmiddlewaretoken"]
AXES_VERBOSE = False
# The client address a lockout counts against (nplsite/security.py: client_ip_address). With
# TRUSTED_PROXY_COUNT=0 (default) it is REMOTE_ADDR and X-Forwarded-For is ignored, so a client cannot
# pick its own address. Behind N reverse proxies that each append to X-Forwarded-For, set it to N:
# the address the outermost proxy saw is then used (otherwise every client shares the proxy's address).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "nplsite.security.client_ip_address"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # knox's token check, remembered per process for API_AUTH_CACHE_SECONDS (nplsite/authentication.py).
        "nplsite.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: the browsable API's HTML pages need inline styles the Content-Security-Policy forbids;
    # the Swagger UI at /api/v1/docs/ is the API's human interface.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["nplsite.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": os.environ.get("API_THROTTLE_RATE", "1000/minute")},
    # One handler shapes every API error (web/api/errors.py).
    "EXCEPTION_HANDLER": "web.api.errors.api_exception_handler",
}
# API tokens (django-rest-knox, nplsite/tokens.py): `Authorization: Token <key>`, stored as SHA-512
# digests, each expiring API_TOKEN_LIFETIME_DAYS after it was issued (not renewed by use). A password
# change or deactivation revokes a user's tokens.
API_TOKEN_LIFETIME_DAYS = env_int("API_TOKEN_LIFETIME_DAYS", 90)
if API_TOKEN_LIFETIME_DAYS < 1:
    raise ImproperlyConfigured(f"API_TOKEN_LIFETIME_DAYS must be at least 1, got {API_TOKEN_LIFETIME_DAYS}")
# How long each process remembers a verified API token (its user and roles) before knox checks it
# again: a revocation made in another process takes effect within this time (in the revoking
# process at once). 0 checks every request; at most 1 s.
API_AUTH_CACHE_SECONDS = env_float("API_AUTH_CACHE_SECONDS", 0.5)
if not 0 <= API_AUTH_CACHE_SECONDS <= 1:
    raise ImproperlyConfigured(f"API_AUTH_CACHE_SECONDS must be between 0 and 1 second, got {API_AUTH_CACHE_SECONDS}")
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_LIFETIME_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NPL risk platform API",
    "DESCRIPTION": "Score loan applicants for the probability of becoming non-performing (90+ days past due).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One enum per category, whichever serializer (request, response, query parameters) names it.
    "ENUM_NAME_OVERRIDES": {
        "HousingTypeEnum": "applicants.attributes.HousingType",
        "StatusPernikahanEnum": "applicants.attributes.StatusPernikahan",
        "PekerjaanEnum": "applicants.attributes.Pekerjaan",
        "ReviewCaseStatusEnum": "reviews.models.ReviewCase.Status",
    },
}

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refusal_without_traceback": {"()": "nplsite.log_filters.RefusalWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["refusal_without_traceback"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler (DEBUG only) would print every django.* record a second time
        # beside the root's: django.* records go to the root's handler only.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# ---------------------------------------------------------------------------------------------
# Scoring (credit/scorecard.py explains each figure; the README's configuration table lists them)
# ---------------------------------------------------------------------------------------------


# Credit score scaling: SCORE_BASE_POINTS points at good:bad odds of SCORE_BASE_ODDS:1, and
# SCORE_PDO more points each time the odds double; clipped to 300–850.
SCORE_BASE_POINTS = env_float("SCORE_BASE_POINTS", 600.0)
SCORE_BASE_ODDS = env_float("SCORE_BASE_ODDS", 50.0)
SCORE_PDO = env_float("SCORE_PDO", 40.0)
# Risk grades by minimum score, best first; below the last band is the next letter (E).
RISK_GRADE_BANDS = os.environ.get("RISK_GRADE_BANDS", "").strip() or "A:600,B:545,C:500,D:455"
# Loss given default for expected loss = PD × LGD × (otr − dp): Basel foundation-IRB senior unsecured.
LGD = env_float("LGD", 0.45)
# Recommendation: decline from this PD up; approve only a not-NPL label with at least this score.
DECLINE_MIN_PD = env_float("DECLINE_MIN_PD", 0.30)
APPROVE_MIN_SCORE = env_float("APPROVE_MIN_SCORE", 545.0)
# Most applicants one POST /api/v1/score/batch may carry.
SCORING_BATCH_MAX = env_int("SCORING_BATCH_MAX", 1000)
# How old the scoring engine's reading of the active model version (and of the active decision
# policy) may be before it reads it from the database again: every process follows an activation
# within this time (the activating process at once). 0 reads it on every score.
SCORING_ACTIVE_VERSION_RECHECK_SECONDS = env_float("SCORING_ACTIVE_VERSION_RECHECK_SECONDS", 1.0)
if not 0 <= SCORING_ACTIVE_VERSION_RECHECK_SECONDS <= 60:
    raise ImproperlyConfigured(
        "SCORING_ACTIVE_VERSION_RECHECK_SECONDS must be between 0 and 60 seconds, "
        f"got {SCORING_ACTIVE_VERSION_RECHECK_SECONDS}"
    )
# Batch-scoring uploads (scoring/batch_jobs.py): largest accepted file, and up to how many rows a file
# is scored in the request instead of by the workers. The upload, its chunks and their results are
# kept in the database; BATCH_UPLOAD_DIR (outside any static root) is only the web server's cache of
# the results files it serves — workers do not need it.
BATCH_UPLOAD_MAX_BYTES = env_int("BATCH_UPLOAD_MAX_BYTES", 50 * 1024 * 1024)
BATCH_UPLOAD_DIR = Path(os.environ.get("BATCH_UPLOAD_DIR", DATA_DIR / "uploads")).resolve()
BATCH_INLINE_MAX_ROWS = env_int("BATCH_INLINE_MAX_ROWS", 2000)
# Larger uploads go to the workers without being read in the request.
BATCH_INLINE_MAX_BYTES = env_int("BATCH_INLINE_MAX_BYTES", 1024 * 1024)
# Applications per chunk task (each scored and committed on its own by whichever worker takes it),
# how often a failing chunk is retried before it fails its job, and the wait before the first retry
# (doubling, tripling… for the next ones).
BATCH_CHUNK_APPLICATIONS = env_int("BATCH_CHUNK_APPLICATIONS", 1000)
BATCH_CHUNK_RETRIES = env_int("BATCH_CHUNK_RETRIES", 2)
BATCH_CHUNK_RETRY_SECONDS = env_int("BATCH_CHUNK_RETRY_SECONDS", 5)
if BATCH_CHUNK_APPLICATIONS < 1 or BATCH_CHUNK_RETRIES < 0 or BATCH_CHUNK_RETRY_SECONDS < 0:
    raise ImproperlyConfigured(
        "BATCH_CHUNK_APPLICATIONS must be at least 1, BATCH_CHUNK_RETRIES and BATCH_CHUNK_RETRY_SECONDS at least 0"
    )

# ---------------------------------------------------------------------------------------------
# Training (training/services.py and credit/model_search.py explain each)
# ---------------------------------------------------------------------------------------------
# NPL recall the chosen model's decision threshold must reach on its pooled out-of-fold predictions ...
TRAINING_RECALL_TARGET = env_float("TRAINING_RECALL_TARGET", 0.90)
# ... plus this many standard errors of that recall, so test recall stays above target.
TRAINING_RECALL_MARGIN_SE = env_float("TRAINING_RECALL_MARGIN_SE", 1.0)
# When a newly trained version replaces the active one: roc_auc, pr_auc or precision_at_recall (better
# on that figure on the same test applicants by more than the noise: a paired bootstrap interval above
# zero), always, or manual (never automatically).
MODEL_PROMOTION_RULE = os.environ.get("MODEL_PROMOTION_RULE", "roc_auc").strip()
# How the winner's probabilities are calibrated to the real NPL rate: sigmoid or isotonic.
TRAINING_CALIBRATION_METHOD = os.environ.get("TRAINING_CALIBRATION_METHOD", "sigmoid").strip()
# Spread a run's model search over the Celery workers (a chord of candidate × fold tasks, then one
# task that chooses, calibrates and registers: training/distributed.py); off, the run's one task searches
# in its own process. On by default with Redis, whose result backend joins the chord at once; the
# embedded broker's file result backend can only poll for it.
TRAINING_DISTRIBUTED = env_bool("TRAINING_DISTRIBUTED", bool(REDIS_URL))

# ---------------------------------------------------------------------------------------------
# Monitoring (monitoring/services.py and docs/monitoring.md explain each)
# ---------------------------------------------------------------------------------------------
# A vintage (application month) is back-tested once its labels are this many months past its end.
MONITORING_OUTCOME_WINDOW_MONTHS = env_int("MONITORING_OUTCOME_WINDOW_MONTHS", 12)
# The periodic report covers the predictions of this many days, ending on the day it runs.
MONITORING_PERIOD_DAYS = env_int("MONITORING_PERIOD_DAYS", 30)
# Fewer predictions than this in a period: stability is shown but not judged (status "not judged", no
# alert). Chosen from the false-alarm rate on unshifted applicants: PSI over 10 bins averages about
# 9/n, so a period of 100 predictions raised a watch (PSI ≥ 0.10) 97 % of the time, 150 still 55 %,
# 300 none in the validator's runs (docs/monitoring.md).
MONITORING_MIN_PREDICTIONS = env_int("MONITORING_MIN_PREDICTIONS", 300)
# Share of a period's inputs outside the training range (or unseen categories): watch above, alert above.
MONITORING_OUTSIDE_WATCH = env_float("MONITORING_OUTSIDE_WATCH", 0.01)
MONITORING_OUTSIDE_ALERT = env_float("MONITORING_OUTSIDE_ALERT", 0.05)
# Realised NPL needed before the realised recall is judged against TRAINING_RECALL_TARGET.
MONITORING_MIN_NPL_FOR_RECALL = env_int("MONITORING_MIN_NPL_FOR_RECALL", 20)
for _name in ("MONITORING_OUTCOME_WINDOW_MONTHS", "MONITORING_PERIOD_DAYS", "MONITORING_SCHEDULE_SECONDS"):
    if env_int(_name, 1) < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1, got {env_int(_name, 1)}")

# ---------------------------------------------------------------------------------------------
# Review desk (reviews/services.py and credit/review_desk.py explain each)
# ---------------------------------------------------------------------------------------------
# A case in the review queue is due after this many working days (Monday to Friday), overdue after it.
REVIEW_TARGET_WORKING_DAYS = env_int("REVIEW_TARGET_WORKING_DAYS", 2)
# The largest amount financed (otr - dp, rupiah) each role may approve alone; above it an approval needs a
# second decision by someone whose limit covers it. A user's own limit (admin: Approval limits) replaces these.
REVIEW_ANALYST_APPROVAL_LIMIT = env_int("REVIEW_ANALYST_APPROVAL_LIMIT", 250_000_000)
REVIEW_MODEL_ADMIN_APPROVAL_LIMIT = env_int("REVIEW_MODEL_ADMIN_APPROVAL_LIMIT", 1_000_000_000)
for _name in ("REVIEW_TARGET_WORKING_DAYS", "REVIEW_ANALYST_APPROVAL_LIMIT", "REVIEW_MODEL_ADMIN_APPROVAL_LIMIT"):
    if env_int(_name, 0) < 0:
        raise ImproperlyConfigured(f"{_name} must be at least 0, got {env_int(_name, 0)}")
