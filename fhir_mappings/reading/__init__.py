"""FHIR R4 → ``Case``: gather resources, validate, read each fact with its source, resolve conflicts."""
