"""FHIR R4 → ``Case`` (``case_reader.read_case``): gather resources, read each fact with its source,
resolve conflicts (validating only what can change the answer), assemble the Case.

Modules: ``resources`` (Bundles → resources by type), ``values`` (value forms, total over any JSON),
``findings`` (``Finding`` and its typed ``FindingKey``), ``observation_readers`` and ``conditions`` (one
finding per resource), ``validation`` (fhir.resources, bounded reasons), ``conflicts`` (which finding
wins), ``case_assembly`` (winners → ``Case``), ``case_reader`` (the three steps and the report).
"""
