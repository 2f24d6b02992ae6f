"""``python -m cds_service.cli``: the ``nbcds`` command (the soak and the tests start the service this way)."""

from cds_service.cli import main

raise SystemExit(main())
