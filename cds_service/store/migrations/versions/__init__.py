"""Revisions of the store's schema, oldest first (each self-contained: never import the live tables)."""
