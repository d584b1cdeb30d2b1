"""WSGI entry point for the app server (gunicorn kvartplata.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvartplata.settings")
application = get_wsgi_application()
