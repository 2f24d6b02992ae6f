"""Building card JSON: stable uuids, summaries that fit, the source and the override reasons."""

from __future__ import annotations

import uuid
from typing import Any

from neuroblastoma.sources import COHN_2009, IRWIN_2021, MONCLAIR_2009

SUMMARY_LIMIT = 140
_UUID_NAMESPACE = uuid.UUID("6f1c2a8e-4f3b-5b8e-9d61-0c1e2b3a4d5f")

NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
# CDS Hooks 3.0 example CodeSystem of override reasons (HL7/cds-hooks, CodeSystem-non-adherence-reason-codes).
OVERRIDE_REASONS: tuple[dict[str, str], ...] = (
    {"system": NON_ADHERENCE, "code": "need-more-info",
     "display": ("Could not address recommended action due to need for more information/pending results/"
                 "pending consult")},
    {"system": NON_ADHERENCE, "code": "expert-contradicts",
     "display": "Advice from expert contradicts the recommended action"},
    {"system": NON_ADHERENCE, "code": "policy-contradicts",
     "display": "Institutional policy/guideline contradicts the recommended action"},
    {"system": NON_ADHERENCE, "code": "patient-ineligible",
     "display": "Patient does not meet eligibility for recommended action"},
)

SOURCE_TOPIC = {"system": "https://nbcds.example.org/fhir/CodeSystem/card-topic", "code": "neuroblastoma-staging",
                "display": "Neuroblastoma staging and risk"}


_SOURCE_LABEL = f"INRG staging and risk ({MONCLAIR_2009.key}; {COHN_2009.key}; {IRWIN_2021.key})"
_REFERENCES = tuple((f"{source.key}: {source.citation[:80]}…", source.url)
                    for source in (MONCLAIR_2009, COHN_2009, IRWIN_2021))


def card_source() -> dict[str, Any]:
    return {"label": _SOURCE_LABEL, "url": MONCLAIR_2009.url, "topic": dict(SOURCE_TOPIC)}


def override_reasons() -> list[dict[str, str]]:
    """A fresh copy of ``OVERRIDE_REASONS`` for one card (the card must not share the module's dicts)."""
    return [dict(reason) for reason in OVERRIDE_REASONS]


def reference_links() -> list[dict[str, str]]:
    return [{"label": label, "url": url, "type": "absolute"} for label, url in _REFERENCES]


def stable_uuid(*parts: str) -> str:
    """The same call (service, hook instance, patient, card kind) always yields the same card uuid."""
    return str(uuid.uuid5(_UUID_NAMESPACE, "\x1f".join(parts)))


def fit_summary(text: str) -> str:
    """Summaries are built to fit; this is the last guard so a long value can never break the limit."""
    return text if len(text) < SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 2].rstrip() + "…"


_EMPTY: tuple[Any, ...] = (None, "", [], {})
_CONTAINERS = (dict, list)


def compact(value: Any) -> Any:
    """Drop None, empty strings, lists and objects recursively: CDS Hooks forbids empty members (G2).

    Objects and lists are copied; only they are recursed into (a plain loop: about twice as fast as
    comprehensions that build the copy and then filter it)."""
    if isinstance(value, dict):
        members = {}
        for key, member in value.items():
            if isinstance(member, _CONTAINERS):
                member = compact(member)
            if member not in _EMPTY:
                members[key] = member
        return members
    if isinstance(value, list):
        items = []
        for item in value:
            if isinstance(item, _CONTAINERS):
                item = compact(item)
            if item not in _EMPTY:
                items.append(item)
        return items
    return value
