"""Example patients: case files, their FHIR Bundles and expected results (tests, docs and demo share them)."""
