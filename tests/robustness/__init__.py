"""Robustness: hostile input, failing neighbours (FHIR server, database), fuzzed domain rules and OpenAPI.

Every test runs on loopback with bounded example counts and durations (see docs/reliability.md).
"""
