"""Reading searchset Bundles and OperationOutcomes, as prefetched or fetched.

- Entries with `search.mode == "outcome"` (and OperationOutcome resources in a searchset) are not
  data: they are set aside as outcomes (FHIR R4 Bundle.entry.search.mode).
- An OperationOutcome "is an error" when one of its issues has severity `error` or `fatal`, or when
  it has no issue at all (CDS Hooks 2.0 sends an OperationOutcome as the prefetch value on error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SearchsetPage", "bundle_link", "is_bundle", "is_error_outcome", "is_operation_outcome", "read_searchset"]

_ERROR_SEVERITIES = {"error", "fatal"}


def is_bundle(value: object) -> bool:
    return isinstance(value, Mapping) and value.get("resourceType") == "Bundle"


def is_operation_outcome(value: object) -> bool:
    return isinstance(value, Mapping) and value.get("resourceType") == "OperationOutcome"


def is_error_outcome(outcome: Mapping[str, Any]) -> bool:
    issues = outcome.get("issue")
    if not isinstance(issues, list) or not issues:
        return True
    return any(isinstance(issue, Mapping) and issue.get("severity") in _ERROR_SEVERITIES for issue in issues)


@dataclass(frozen=True)
class SearchsetPage:
    """One page of a searchset: its data resources, its outcomes and its `next` link."""

    resources: tuple[dict[str, Any], ...]
    outcomes: tuple[dict[str, Any], ...]
    next_link: str | None

    @property
    def is_error_only(self) -> bool:
        """Outcomes only, one of them an error: the search failed, the data is unavailable."""
        return not self.resources and any(is_error_outcome(o) for o in self.outcomes)


def read_searchset(bundle: Mapping[str, Any]) -> SearchsetPage:
    resources: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            continue
        search = entry.get("search")
        mode = search.get("mode") if isinstance(search, Mapping) else None
        if mode == "outcome" or is_operation_outcome(resource):
            outcomes.append(resource)
        else:
            resources.append(resource)
    return SearchsetPage(tuple(resources), tuple(outcomes), bundle_link(bundle, "next"))


def bundle_link(bundle: Mapping[str, Any], relation: str) -> str | None:
    """The URL of the Bundle's first link with this relation (`next`, `self`), if any."""
    links = bundle.get("link")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, Mapping) and link.get("relation") == relation:
            url = link.get("url")
            if isinstance(url, str) and url.strip():
                return url.strip()
    return None
