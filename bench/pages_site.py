"""Settings of the pages benchmark: the product's settings with the benchmark's own URLconf.

Gunicorn loads it as DJANGO_SETTINGS_MODULE=pages_site with bench/ on the Python path.
"""

from kvartplata.settings import *  # noqa: F403

ROOT_URLCONF = "pages_urls"
DEBUG = False
# The benchmark speaks plain HTTP on the loopback.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
