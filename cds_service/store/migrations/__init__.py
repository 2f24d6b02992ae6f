"""Alembic migrations of the store (`env.py`, `versions/`), run by `cds_service.store.migrate`."""
