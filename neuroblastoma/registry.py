"""Staging systems and risk schemas as plug-ins: each is one module plus one registration line.

A staging system (INRGSS; INSS to come) assigns a stage from the case. A risk schema (INRG 2009,
COG 2021) classifies the case given the stage of the staging system it is built on. ``classification.py``
registers them, in the order every renderer lists them; a test can register one more for a while
(``with RISK_SCHEMAS.registered(toy): ...``) and sees it in the card, the FHIR output and the audit record
without editing any other module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

from neuroblastoma.case import Case
from neuroblastoma.results import RiskResult, StageResult
from neuroblastoma.sources import Source


@dataclass(frozen=True)
class StagingSystem:
    """A staging system: its id (``inrgss``), its name (``INRGSS``), what its stage is called (``INRG
    stage``), its source, its rule and its stages.

    ``postsurgical`` marks a system computed in parallel whose stage rests on operative and pathology facts
    (INSS, Brodeur 1993): before surgery it is open, as expected. Its rule puts those facts in the trace's
    ``awaiting`` (never ``missing``), and every renderer says plainly "after surgery (candidates …; needs
    …)": no missing-data request, no warning. The risk schemas are built on the first, pretreatment system.
    """

    id: str
    title: str
    stage_label: str
    source: Source
    assign: Callable[[Case], StageResult[Any]]
    stages: tuple[Enum, ...]
    postsurgical: bool = False


@dataclass(frozen=True)
class RiskSchema:
    """A pretreatment risk schema.

    ``title`` names it in full (``COG 2021``), ``short_title`` in a card summary (``COG``); ``groups`` says
    whether its outcomes carry a group letter (INRG 2009: A–R). ``classify`` receives the result of the
    staging system ``staged_by``.
    """

    id: str
    title: str
    short_title: str
    source: Source
    staged_by: str
    classify: Callable[[Case, StageResult[Any]], RiskResult]
    groups: bool = False


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


Item = TypeVar("Item", bound=_Identified)


class Registry(Generic[Item]):
    """Registered items by id, in registration order."""

    def __init__(self, kind: str, items: tuple[Item, ...] = ()) -> None:
        self._kind = kind
        self._items: dict[str, Item] = {}
        for item in items:
            self.register(item)

    def register(self, item: Item) -> None:
        if item.id in self._items:
            raise ValueError(f"{self._kind} {item.id!r} is registered twice")
        self._items[item.id] = item

    def unregister(self, item_id: str) -> None:
        del self._items[item_id]

    @contextmanager
    def registered(self, item: Item) -> Iterator[Item]:
        """Register ``item`` for the duration of a ``with`` block (tests, experiments)."""
        self.register(item)
        try:
            yield item
        finally:
            self.unregister(item.id)

    def get(self, item_id: str) -> Item:
        return self._items[item_id]

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items

    def __iter__(self) -> Iterator[Item]:
        return iter(tuple(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)
