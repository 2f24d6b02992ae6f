"""The neuroblastoma CDS services, declared in one registry: discovery is generated from it.

A new service is a module with its handler plus one declaration here.
"""

from __future__ import annotations

from cds_service.protocol.registry import ServiceRegistry
from cds_service.services import resection, staging
from cds_service.services.prefetch_queries import COMPACT_STAGING_PREFETCH, STAGING_PREFETCH

USAGE = ("Needs read access to Patient, Condition and Observation (SMART patient/*.read or patient/*.rs). "
         "Inputs are coded as in docs/implementation-guide.md; cards are suggestions for clinicians.")

REGISTRY = ServiceRegistry()

REGISTRY.service(id=staging.ID, hook="patient-view", title=staging.TITLE, description=staging.DESCRIPTION,
                 prefetch=STAGING_PREFETCH, usage_requirements=USAGE)(staging.answer_staging)
# The same service with a compact prefetch declaration (``code:in`` a ValueSet) for EHRs that limit the length
# of a prefetch template or its code lists; absent keys are fetched with the long form (prefetch_queries.py).
REGISTRY.service(id=f"{staging.ID}-compact", hook="patient-view", title=f"{staging.TITLE} (compact prefetch)",
                 description=staging.DESCRIPTION, prefetch=COMPACT_STAGING_PREFETCH, usage_requirements=USAGE,
                 fetch_prefetch=STAGING_PREFETCH)(staging.answer_staging)
REGISTRY.service(id=resection.ID, hook="order-sign", title=resection.TITLE, description=resection.DESCRIPTION,
                 prefetch=STAGING_PREFETCH, usage_requirements=USAGE,
                 also_accepts=("order-select",))(resection.answer_resection_check)
REGISTRY.service(id=f"{resection.ID}-select", hook="order-select", title=f"{resection.TITLE} (order selection)",
                 description=resection.DESCRIPTION, prefetch=STAGING_PREFETCH,
                 usage_requirements=USAGE)(resection.answer_resection_check)
