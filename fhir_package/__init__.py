"""The project's FHIR NPM package and its documentation site, built from the live tables (``make package``,
``make docs``; docs/fhir-package.md).

A build tool above the three layers: it reads the terminology, the readers' and writers' tables, the worksheet
and the example patients, and nothing imports it back. Everything it publishes is generated, so a new
CodeSystem, ValueSet, Observation kind, risk schema or example patient appears in the package and on the site
without an edit here.

- ``identity``: the package's name, version, canonical base and dependencies (from ``NBCDS_FHIR_BASE``).
- ``elements``, ``input_profiles``, ``result_profiles``: the StructureDefinitions (differentials).
- ``shell_resources``: the worksheet Questionnaire and the CodeSystems of the codes only the shell writes.
- ``examples``: the example patients' resources and the results the service writes for each.
- ``contents``: every resource of the package; ``implementation_guide``: the ImplementationGuide listing them.
- ``npm``: package.json, .index.json and the reproducible package.tgz; ``conformance``: examples against profiles.
- ``site_pages``, ``site_build``: a Markdown page per resource, and the MkDocs site with the docs.
"""
