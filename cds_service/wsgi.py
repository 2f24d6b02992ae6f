"""WSGI entry point for gunicorn (``cds_service.wsgi:application``); each worker builds its own app."""

from cds_service.http.app import create_app

application = create_app()
