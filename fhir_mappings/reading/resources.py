"""Gathering resources from whatever arrives: Bundles of any type (nested), single resources, lists."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

Resource = dict[str, Any]


def reference_of(resource: Resource) -> str:
    """``Type/id`` of a resource (``Type/#n`` placeholder when it has no id)."""
    return f"{resource.get('resourceType')}/{resource.get('id') or '?'}"


@dataclass
class GatheredResources:
    """Resources by type, in arrival order, with the fullUrl → reference map of any Bundle."""

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

    The same ``Type/id`` seen twice is kept once: the copy with the later ``meta.lastUpdated``
    (or the later arrival when neither says), and the duplicate is noted.
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
                if _last_updated(resource) >= _last_updated(bucket[position]):
                    bucket[position] = resource
                continue
            index[ref] = len(bucket)
        bucket.append(resource)
    return gathered


def _last_updated(resource: Resource) -> str:
    meta = resource.get("meta")
    value = meta.get("lastUpdated") if isinstance(meta, dict) else None
    return value if isinstance(value, str) else ""
