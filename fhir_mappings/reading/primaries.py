"""The primary tumours of a case, and which of them each IDRF, overall IDRF call and extension belongs to.

Guide 6.1 and 6.6. The primaries are the reported primary-site Observations (most recent first), else the
compartments in the neuroblastoma Conditions' ``bodySite``; several are kept only when multifocality is
reported present. A finding about "the primary" is then tied to one (Monclair 2009: each synchronous
primary is staged, the greatest extent reported):

1. by ``Observation.focus``: a reference to the primary's Observation, or to a Condition whose body site is
   the primary's (or, with a single primary, any neuroblastoma Condition);
2. failing that, by body site and side: the one primary in that compartment and on that side (an
   extension's body site is where it extends to, so only its side counts);
3. otherwise it stays untied (``PrimaryTarget(None, hint)``) and the rules consider every primary it could
   belong to (neuroblastoma/multifocal.py). With one primary everything is tied to it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fhir_mappings.reading.findings import Attribution, Finding, FindingKey, PrimarySite, PrimaryTarget
from fhir_mappings.reading.findings import FindingKind as F
from fhir_mappings.reading.resources import Resource, reference_of
from fhir_mappings.reading.values import any_coding_in, lookup
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology.value_sets_workup import ADRENAL_CODINGS
from neuroblastoma.anatomy import Laterality
from neuroblastoma.facts import Presence


@dataclass(frozen=True)
class PrimaryPlan:
    """One primary: its site, the resource that reported it, and every reference that names it."""

    site: PrimarySite
    source: str
    refs: frozenset[str]


def _condition_site(condition: Resource) -> PrimarySite | None:
    compartment = lookup(vs.COMPARTMENT_BY_CODING, condition.get("bodySite"))
    if compartment is None:
        return None
    adrenal = Presence.PRESENT if any_coding_in(ADRENAL_CODINGS, condition.get("bodySite")) else Presence.UNKNOWN
    return PrimarySite(compartment, lookup(vs.LATERALITY_BY_CODING, condition.get("bodySite")) or Laterality.UNKNOWN,
                       adrenal)


def plan_primaries(reported: list[Finding], multifocal: Presence, conditions: list[Resource],
                   chosen: Resource | None, notes: list[str]) -> list[PrimaryPlan]:
    """The primaries (module docstring), each with the references that name it."""
    by_source = sorted(reported, key=lambda f: f.source)  # equal times: in the order of their ids
    ordered = sorted(by_source, key=lambda f: (f.at is not None, f.at), reverse=True)
    sites: list[tuple[PrimarySite, str]] = [(finding.value, finding.source) for finding in ordered]
    if not sites:
        seen: dict[tuple[Any, Laterality], tuple[PrimarySite, str]] = {}
        for condition in conditions:
            site = _condition_site(condition)
            if site is not None and site.place not in seen:
                seen[site.place] = (site, reference_of(condition))
        sites = list(seen.values())
    if len(sites) > 1 and multifocal is not Presence.PRESENT:
        notes.append("several primary sites are reported without multifocality: the most recent is used")
        sites = sites[:1]
    if not sites:
        if chosen is None:
            return []
        sites = [(PrimarySite(None, Laterality.UNKNOWN), reference_of(chosen))]
    plans = []
    for site, source in sites:
        refs = {source} | {reference_of(c) for c in conditions
                           if (other := _condition_site(c)) is not None and other.place == site.place}
        if len(sites) == 1:
            refs |= {reference_of(c) for c in conditions}
        plans.append(PrimaryPlan(site, source, frozenset(refs)))
    return plans


def _target(hint: Attribution, plans: list[PrimaryPlan]) -> PrimaryTarget:
    if len(plans) <= 1:
        return PrimaryTarget(0)
    if hint.focus:
        named = [i for i, plan in enumerate(plans) if plan.refs & set(hint.focus)]
        return PrimaryTarget(named[0]) if len(named) == 1 else PrimaryTarget(None, hint)
    if hint.compartment is None and hint.side is Laterality.UNKNOWN:
        return PrimaryTarget(None, hint)
    matching = [i for i, plan in enumerate(plans)
                if (hint.compartment is None or plan.site.compartment is hint.compartment)
                and (hint.side is Laterality.UNKNOWN or plan.site.side is hint.side)]
    return PrimaryTarget(matching[0]) if len(matching) == 1 else PrimaryTarget(None, hint)


def _item(finding: Finding) -> Any:
    return finding.key.item


def attribute(finding: Finding, plans: list[PrimaryPlan]) -> Finding:
    """The finding with its key naming its primary (``PrimaryTarget``), for the kinds that belong to one."""
    kind, item = finding.key.kind, _item(finding)
    if kind is F.IDRF:
        code, untied = item
        return replace(finding, key=FindingKey(kind, (code, _target(untied.hint, plans))))
    if kind is F.IDRF_SUMMARY:
        return replace(finding, key=FindingKey(kind, _target(item.hint, plans)))
    if kind is F.EXTENSION:
        compartment, side, untied = item
        return replace(finding, key=FindingKey(kind, (compartment, side, _target(untied.hint, plans))))
    return finding


def target_of(finding: Finding) -> PrimaryTarget:
    """The primary an attributed IDRF, overall call or extension belongs to."""
    item = _item(finding)
    target = item if isinstance(item, PrimaryTarget) else item[-1]
    if not isinstance(target, PrimaryTarget):  # pragma: no cover - the readers always give one
        raise TypeError(f"no primary target in {finding.key}")
    return target
