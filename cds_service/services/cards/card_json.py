"""What every card shares: stable uuids, summaries that fit, the source, the override reasons, the references."""

from __future__ import annotations

import uuid
from typing import Any

from cds_service.protocol.cards import Coding, Link, OverrideReason, Source
from cds_service.protocol.override_reasons import OFFERED_REASONS
from fhir_mappings.terminology.systems import code_system_url
from neuroblastoma.sources import COHN_2009, IRWIN_2021, MONCLAIR_2009

SUMMARY_LIMIT = 140
_UUID_NAMESPACE = uuid.UUID("6f1c2a8e-4f3b-5b8e-9d61-0c1e2b3a4d5f")

# CDS Hooks 3.0 ballot override reasons (protocol/override_reasons.py), offered as 2.0 ``overrideReasons``.
OVERRIDE_REASONS = OFFERED_REASONS

SOURCE_TOPIC = {"system": code_system_url("card-topic"), "code": "neuroblastoma-staging",
                "display": "Neuroblastoma staging and risk"}


_SOURCE_LABEL = f"INRG staging and risk ({MONCLAIR_2009.key}; {COHN_2009.key}; {IRWIN_2021.key})"
_REFERENCES = tuple((f"Source: {source.key}", source.url) for source in (MONCLAIR_2009, COHN_2009, IRWIN_2021))


def card_source() -> Source:
    return Source(label=_SOURCE_LABEL, url=MONCLAIR_2009.url, topic=Coding(**SOURCE_TOPIC))


def override_reasons() -> list[OverrideReason]:
    return [OverrideReason(**reason) for reason in OVERRIDE_REASONS]


def reference_links() -> list[Link]:
    return [Link(label=label, url=url, type="absolute") for label, url in _REFERENCES]


def stable_uuid(*parts: str) -> str:
    """The same call (service, hook instance, patient, card kind) always yields the same card uuid."""
    return str(uuid.uuid5(_UUID_NAMESPACE, "\x1f".join(parts)))


def fit_summary(text: str) -> str:
    """Summaries are built to fit; this is the last guard so a long value can never break the limit."""
    return text if len(text) < SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 2].rstrip() + "…"


_EMPTY: tuple[Any, ...] = (None, "", [], {})


def compact(value: Any) -> Any:
    """A copy without None, empty strings, lists and objects, recursively: CDS Hooks forbids empty members
    (G2), and a resource from the EHR may have them."""
    if isinstance(value, dict):
        members = {key: compact(member) for key, member in value.items()}
        return {key: member for key, member in members.items() if member not in _EMPTY}
    if isinstance(value, list):
        items = [compact(item) for item in value]
        return [item for item in items if item not in _EMPTY]
    return value
