"""Gathering resources from whatever arrives: Bundles of any type (nested), single resources, lists.

The result is a function of the *set* of resources received, never of their order or packaging: FHIR
search order is undefined, and an EHR may split a chart across Bundles, pages and prefetch keys or send
a resource twice. So each type's resources are put in one canonical order (by ``Type/id``), and of two
copies of the same ``Type/id`` the same one is always kept (``_newer``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

Resource = dict[str, Any]


def reference_of(resource: Resource) -> str:
    """``Type/id`` of a resource (``Type/#n`` placeholder when it has no id)."""
    return f"{resource.get('resourceType')}/{resource.get('id') or '?'}"


@dataclass
class GatheredResources:
    """Resources by type, in canonical order (``gather``), with the fullUrl → reference map of any Bundle."""

    by_type: dict[str, list[Resource]] = field(default_factory=dict)
    full_urls: dict[str, str] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)

    def of_type(self, resource_type: str) -> list[Resource]:
        return self.by_type.get(resource_type, [])


def _entries(bundle: Resource) -> Iterator[tuple[str | None, Any]]:
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        search = entry.get("search")
        if isinstance(search, dict) and search.get("mode") == "outcome":
            continue  # searchset outcome entries carry warnings, not data (CDS Hooks notes §1.4)
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        yield full_url, entry.get("resource")


def _flatten(item: Any, full_url: str | None, found: list[tuple[str | None, Resource]], depth: int = 0) -> None:
    """Append ``(fullUrl, resource)`` for a resource, or for each resource of a Bundle (nested)."""
    if depth > 8 or not isinstance(item, dict) or not isinstance(item.get("resourceType"), str):
        return
    if item["resourceType"] == "Bundle":
        for entry_url, resource in _entries(item):
            _flatten(resource, entry_url, found, depth + 1)
        return
    found.append((full_url, item))


def gather(items: Iterable[Any]) -> GatheredResources:
    """Flatten Bundles (searchset, collection, transaction, batch, nested) and single resources.

    The same ``Type/id`` seen twice is kept once: the copy with the later ``meta.lastUpdated``, then
    the higher ``meta.versionId``, then (copies that say neither, and differ) the one whose canonical JSON
    sorts last, so the choice never depends on arrival order; the duplicate is noted. Each type's
    resources are then sorted by ``Type/id`` (resources without an id by their canonical JSON).
    """
    found: list[tuple[str | None, Resource]] = []
    for item in items:
        _flatten(item, None, found)
    gathered = GatheredResources()
    index: dict[str, int] = {}  # Type/id -> its position in its type's bucket
    for full_url, resource in found:
        ref = reference_of(resource)
        if full_url:
            gathered.full_urls[full_url] = ref
        bucket = gathered.by_type.setdefault(resource["resourceType"], [])
        if resource.get("id"):
            position = index.get(ref)
            if position is not None:
                gathered.duplicates.append(ref)
                if _newer(resource, bucket[position]):
                    bucket[position] = resource
                continue
            index[ref] = len(bucket)
        bucket.append(resource)
    for resource_type, bucket in gathered.by_type.items():
        gathered.by_type[resource_type] = sorted(bucket, key=_canonical_position)
    return gathered


def _canonical_position(resource: Resource) -> tuple[int, str, str]:
    """Resources with an id by id; those without (rare: a server always gives one) after, by content."""
    resource_id = resource.get("id")
    if isinstance(resource_id, str) and resource_id:
        return 0, resource_id, ""
    return 1, "", _canonical_json(resource)


def _canonical_json(resource: Resource) -> str:
    return json.dumps(resource, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _meta(resource: Resource, member: str) -> str:
    meta = resource.get("meta")
    value = meta.get(member) if isinstance(meta, dict) else None
    return value if isinstance(value, str) else ""


def _version_key(version: str) -> tuple[int, int, str]:
    return (1, int(version), "") if version.isdigit() and len(version) < 19 else (0, 0, version)


def _newer(candidate: Resource, kept: Resource) -> bool:
    """Whether ``candidate`` replaces ``kept`` (same ``Type/id``): later lastUpdated, higher versionId,
    then the canonical JSON that sorts last; identical copies keep the first."""
    ours = (_meta(candidate, "lastUpdated"), _version_key(_meta(candidate, "versionId")))
    theirs = (_meta(kept, "lastUpdated"), _version_key(_meta(kept, "versionId")))
    if ours != theirs:
        return ours > theirs
    return candidate is not kept and _canonical_json(candidate) > _canonical_json(kept)
