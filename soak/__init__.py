"""A bounded soak test of the running service: ``python -m soak`` (``make soak``).

Starts a Medplum FHIR engine (tests/support/fhir_engine.py) seeded with the example Bundles and
``nbcds serve --workers 2`` (development profile, no client JWT, a temporary SQLite store or a
PostgreSQL it starts), then drives a fixed number of client threads for a fixed time with a mix of
full-prefetch calls, partial-prefetch calls (the service fetches the rest from the engine) and
feedback. It reports errors, latency percentiles per time window, worker memory (RSS from /proc)
and records lost (feedback acknowledged vs rows in the store), checks them against the targets in
docs/reliability.md, and stops everything it started. Not part of ``make test``.
"""
