"""WSGI entry point for gunicorn (``cds_service.wsgi:application``); each worker builds its own app.

A production profile missing what production needs refuses to load (``require_complete_production``).
"""

from cds_service.http.app import create_app
from cds_service.settings import Settings, require_complete_production

_settings = Settings()
require_complete_production(_settings)
application = create_app(_settings)
