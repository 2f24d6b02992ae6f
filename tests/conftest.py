"""Shared fixtures: the real FHIR engine (Medplum, in memory, over HTTP) and a real PostgreSQL."""

pytest_plugins = ["tests.support.fhir_engine", "tests.support.postgres", "tests.support.faulty_fhir_server"]
