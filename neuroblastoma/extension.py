"""Extension of a primary tumour beyond its compartment: locoregional (IDRF-01) or distant.

Within the primary's own compartment an extension is not staged (INRGSS does not use the midline,
Monclair 2009). Across compartments, contiguous and ipsilateral is locoregional and IDRF-01 (Monclair
2009 Table 1 row 1); contralateral or non-contiguous disease is distant (Brisse 2011). Each unknown
input is followed through every world it allows, so an unknown side or contiguity gives an unknown
conclusion only when it matters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import product

from neuroblastoma.anatomy import Compartment, Laterality, contralateral
from neuroblastoma.assessments import ABSENT, PRESENT, UNKNOWN, cited, unique
from neuroblastoma.case import Case, FactKey, PrimaryTumour, TumourExtension
from neuroblastoma.facts import Presence, all_present, any_present, negate

_POSSIBLE_VALUES = {PRESENT: (True,), ABSENT: (False,), UNKNOWN: (True, False)}


def _possible(value: Presence) -> tuple[bool, ...]:
    return _POSSIBLE_VALUES[value]


def _merged(values: Iterable[bool]) -> Presence:
    """The Presence of a conclusion over every world the unknown inputs allow."""
    seen = set(values)
    return PRESENT if seen == {True} else ABSENT if seen == {False} else UNKNOWN


def _opposite_side(primary: PrimaryTumour, extension: TumourExtension) -> Presence:
    return Presence.of(contralateral(primary.side, extension.side))


def _extension_world(crosses: bool, opposite: bool, contiguous: bool) -> tuple[bool, bool]:
    """(distant, IDRF-01) for one fully known extension.

    Within the primary's own compartment an extension is not staged (INRGSS does not use the midline,
    Monclair 2009). Across compartments, contiguous and ipsilateral is locoregional and is IDRF-01
    (Monclair 2009 Table 1 row 1); contralateral ("a left-sided abdominal tumour with clearly
    right-sided chest involvement") or non-contiguous disease is distant (Brisse 2011).
    """
    if not crosses:
        return False, False
    if opposite or not contiguous:
        return True, False
    return False, True


@dataclass(frozen=True)
class ExtensionReading:
    """What one extension means for distant disease and, if it is locoregional, for IDRF-01."""

    extension: TumourExtension
    distant: Presence
    ipsilateral_spread: Presence  # IDRF-01, in the event that the extension is locoregional
    undecided_by: tuple[FactKey, ...]  # the unknown inputs that would change ``distant``
    step: str


def read_extension(primary: PrimaryTumour, extension: TumourExtension) -> ExtensionReading:
    """Evaluate the extension in every world its unknown inputs allow, and merge: the result is
    unknown exactly when the worlds disagree."""
    crosses = UNKNOWN if primary.compartment is None else Presence.of(extension.compartment is not
                                                                       primary.compartment)
    inputs = {"crosses": crosses, "opposite": _opposite_side(primary, extension),
              "contiguous": extension.contiguous}
    outcomes = [_extension_world(**world) for world in _worlds(inputs)]
    distant = _merged(d for d, _ in outcomes)
    locoregional_worlds = [spread for d, spread in outcomes if not d]
    spread = _merged(locoregional_worlds) if locoregional_worlds else ABSENT
    undecided = _relevant_unknowns(inputs, lambda world: _extension_world(**world)[0])
    facts = unique(f for name in undecided for f in _facts_behind(primary, extension, name))
    return ExtensionReading(extension, distant, spread, facts,
                            _extension_step(primary, extension, distant, spread))


def _worlds(inputs: dict[str, Presence]) -> list[dict[str, bool]]:
    names = tuple(inputs)
    combinations = product(*(_possible(inputs[name]) for name in names))
    return [dict(zip(names, values, strict=True)) for values in combinations]


def _relevant_unknowns(inputs: dict[str, Presence], outcome: Callable[[dict[str, bool]], bool]) -> list[str]:
    """Unknown inputs whose value changes the outcome in at least one world."""
    return [name for name, value in inputs.items() if not value.known and any(
        outcome({**world, name: True}) != outcome({**world, name: False}) for world in _worlds(inputs))]


def _facts_behind(primary: PrimaryTumour, extension: TumourExtension, name: str) -> tuple[FactKey, ...]:
    """The case facts behind an unknown input of ``read_extension``."""
    if name == "crosses":
        return (FactKey.PRIMARY_TUMOUR,)  # the primary's compartment
    if name == "opposite":
        sides = ((FactKey.PRIMARY_TUMOUR, primary.side), (FactKey.EXTENSION, extension.side))
        return tuple(fact for fact, side in sides if side is Laterality.UNKNOWN)
    return (FactKey.EXTENSION,)


def _extension_step(primary: PrimaryTumour, extension: TumourExtension,
                    distant: Presence, spread: Presence) -> str:
    where = (f"{primary.label}: tumour in the {extension.compartment.value} "
             f"(side {extension.side.value}, contiguous {extension.contiguous.value})")
    if distant is PRESENT:
        why = ("on the opposite side to the primary" if _opposite_side(primary, extension) is PRESENT
               else "not contiguous with the primary")
        text = f"{why}: distant disease (Monclair 2009 Table 2; Brisse 2011)"
    elif distant is UNKNOWN:
        text = ("distant disease unless contiguous with the primary on the same side (Brisse 2011); "
                "if locoregional it is IDRF-01")
    elif spread is PRESENT:
        text = "contiguous, same side, second compartment: locoregional, IDRF-01 (Monclair 2009 Table 1)"
    elif spread is UNKNOWN:
        text = "locoregional; whether it is in a second compartment (IDRF-01) needs the primary's compartment"
    else:
        text = "within the primary's own compartment: not a cross-compartment extension"
    return cited(f"{where}: {text}", extension.source or primary.source)


def _described(reading: ExtensionReading) -> str:
    if reading.distant is PRESENT:
        return "distant (M/MS)"
    if reading.distant is UNKNOWN:
        return "distant, or locoregional (IDRF-01)"
    return "locoregional, IDRF-01 (L2)" if reading.ipsilateral_spread is PRESENT else "within its compartment"


def read_unattributed_extension(primaries: tuple[PrimaryTumour, ...], extension: TumourExtension) -> ExtensionReading:
    """An extension no record ties to one of several primaries: read as each primary's, and merged, so the
    conclusion is unknown exactly when the primaries' readings disagree (Monclair 2009 Table 2; Brisse 2011:
    contiguous ipsilateral extension is IDRF-01, contralateral or non-contiguous is distant)."""
    readings = [read_extension(p, extension) for p in primaries]
    distant = _merged(world for r in readings for world in _possible(r.distant))
    locoregional = [r.ipsilateral_spread for r in readings if r.distant is not PRESENT]
    spread = _merged(world for value in locoregional for world in _possible(value)) if locoregional else ABSENT
    facts = [f for r in readings for f in r.undecided_by]
    if len({(r.distant, r.ipsilateral_spread) for r in readings}) > 1 or distant is UNKNOWN:
        facts.append(FactKey.ATTRIBUTION)  # tying it to its primary (focus, or its side) may decide it
    where = (f"tumour in the {extension.compartment.value} (side {extension.side.value}, contiguous "
             f"{extension.contiguous.value}), not tied to one primary")
    readings_text = "; ".join(f"as {p.label}'s: {_described(r)}" for p, r in zip(primaries, readings, strict=True))
    return ExtensionReading(extension, distant, spread, unique(facts),
                            cited(f"{where}: {readings_text}", extension.source))


def reach(case: Case, compartment: Compartment) -> tuple[Presence, tuple[FactKey, ...]]:
    """Whether locoregional tumour occupies the compartment: a primary's origin, or its contiguous
    ipsilateral extension (Brisse 2011); with the unknown facts that leave it undecided."""
    if not case.primaries:
        return UNKNOWN, (FactKey.PRIMARY_TUMOUR,)
    parts: list[tuple[Presence, FactKey]] = []
    for primary in case.primaries:
        parts.append((_origin_in(primary, compartment), FactKey.PRIMARY_TUMOUR))
        parts += [(_locoregional_in(primary, e), FactKey.EXTENSION)
                  for e in primary.extensions if e.compartment is compartment]
    for extension in case.unattributed.extensions:  # locoregional if so from every primary it may belong to
        if extension.compartment is compartment:
            merged = _merged(w for p in case.primaries for w in _possible(_locoregional_in(p, extension)))
            parts.append((merged, FactKey.ATTRIBUTION))
    presence = any_present(p for p, _ in parts)
    return presence, unique(f for p, f in parts if p is UNKNOWN) if presence is UNKNOWN else ()


def _locoregional_in(primary: PrimaryTumour, extension: TumourExtension) -> Presence:
    return all_present((extension.contiguous, negate(_opposite_side(primary, extension))))


def _origin_in(primary: PrimaryTumour, compartment: Compartment) -> Presence:
    return UNKNOWN if primary.compartment is None else Presence.of(primary.compartment is compartment)


def origin_anywhere(case: Case, compartment: Compartment) -> Presence:
    if not case.primaries:
        return UNKNOWN
    return any_present(_origin_in(p, compartment) for p in case.primaries)
