"""The benchmark suite: ``python -m benchmarks`` (``make bench``). See docs/performance.md.

Not tests: nothing here asserts on timing. Modules: ``data`` (the realistic patients), ``inprocess``
(scenarios 1, 2, 5), ``hooks`` (3, 4, 6 over HTTP), ``load`` (the load generator), ``server`` and ``serve``
(``nbcds serve`` with ``wsgi``: the production app plus the ``floor`` endpoint), ``fhir_engine``,
``breakdown`` and ``profiles`` (where the time goes), ``report`` (the table and its JSON).
"""
