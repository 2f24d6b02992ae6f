"""FHIR Bulk Data exports: joined by patient on disk (``partition``), answered patient by patient through the
service's own pipeline (``export_run``), for ``nbcds classify DIR``."""
