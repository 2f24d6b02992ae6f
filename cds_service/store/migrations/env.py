"""Alembic environment of the store: runs inside the transaction `cds_service.store.migrate` opened.

That transaction holds the upgrade lock (PostgreSQL: an advisory lock; SQLite: the write lock), so
workers starting together migrate one after the other, and the second finds nothing left to do.
"""

from __future__ import annotations

from alembic import context

from cds_service.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the store's migrations through cds_service.store.migrate, which passes a connection")

context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
