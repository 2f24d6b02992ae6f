"""The date of diagnosis, or the age at it, from one or several neuroblastoma Conditions.

EHRs often return several Conditions for one neuroblastoma (a problem-list entry with an onset date and an
encounter diagnosis with only a later ``recordedDate``), in an order that FHIR search leaves undefined. The
age at diagnosis (Cohn 2009; Monclair 2009: the 365- and 547-day thresholds) must not depend on which comes
first, so the rule reads them all (docs/clinical-rules.md, "Several diagnoses on record"):

1. Conditions refuted or entered in error are not read (the reader drops them before).
2. **The onsets** (``onsetDateTime``, ``onsetPeriod.start``, ``onsetAge``, ``onsetRange``) are the diagnosis.
   One onset, or several that agree: that age. Several that disagree: the age is every age they span, so a
   threshold between them leaves the age-dependent results undetermined, naming the conflict (never a
   silent choice). The diagnosis date shown is the earliest onset.
3. **Only when no Condition has an onset**, the earliest ``recordedDate`` (the diagnosis was made by then).
   A Condition with only a ``recordedDate`` beside one with an onset is set aside: it is when the diagnosis
   was entered, not made; the classification warns if using it instead would change a result.
4. **Implausible dates** are a data-quality problem, never a guess and never an error: a diagnosis before
   birth, a diagnosis or birth after today, an onset age that is not a possible age (negative, over
   ``MAX_PLAUSIBLE_AGE_DAYS``, or too large to compute). The age is then unknown and the problem is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fhir_mappings.reading.conditions import diagnosis_date, onset_age_days, onset_date, partial_date
from fhir_mappings.reading.resources import Resource, reference_of
from neuroblastoma.ages import AgeAtDiagnosis, PartialDate
from neuroblastoma.case import SetAsideAge

# No one is diagnosed at more than 120 years of age: an onset age beyond it is a data error.
MAX_PLAUSIBLE_AGE_DAYS = 120 * 366
MAX_SET_ASIDE = 4  # set-aside records each cost one more classification; a chart has one or two


@dataclass(frozen=True)
class DiagnosisDating:
    """What the Case is given about the age: a diagnosis date, or an age interval, and why it is not known."""

    diagnosis_date: PartialDate | None = None
    age: tuple[int, int] | None = None
    problem: str | None = None
    conflict: str | None = None
    set_aside: tuple[SetAsideAge, ...] = ()
    sources: tuple[str, ...] = ()
    chosen: Resource | None = None  # the Condition that stands for the diagnosis (results' focus)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Onset:
    condition: Resource
    ref: str
    date: PartialDate | None
    age: tuple[int, int] | None

    @property
    def text(self) -> str:
        if self.date is not None:
            return f"{self.ref} onset {self.date}"
        low, high = self.age or (0, 0)
        return f"{self.ref} onset age {low} days" if low == high else f"{self.ref} onset age {low}–{high} days"


def _onset_age_problem(condition: Resource) -> str | None:
    """An onsetAge/onsetRange that is there but is not a possible age."""
    for member in ("onsetAge",):
        value = condition.get(member)
        if isinstance(value, dict) and isinstance(value.get("value"), int | float):
            number, unit = value["value"], value.get("code") or value.get("unit")
            interval = onset_age_days(condition)
            if number < 0 or (interval is None and unit in ("d", "wk", "mo", "a")) or (
                    interval is not None and interval[1] > MAX_PLAUSIBLE_AGE_DAYS):
                shown = f"{number:.3g}" if isinstance(number, float) else str(number)[:12]
                return f"{reference_of(condition)} gives an onset age of {shown} {unit}, which is not a possible age"
    return None


def _dated_problem(what: str, day: PartialDate, today: date | None, birth: PartialDate | None) -> str | None:
    if today is not None and day.earliest > today:
        return f"{what} {day} is after today ({today.isoformat()})"
    if birth is not None and day.latest < birth.earliest:
        return f"{what} {day} is before the birth date {birth}"
    if birth is not None and (day.earliest - birth.latest).days > MAX_PLAUSIBLE_AGE_DAYS:
        return f"{what} {day} is more than 120 years after the birth date {birth}"
    return None


def _age_between(birth: PartialDate, day: PartialDate) -> tuple[int, int]:
    age = AgeAtDiagnosis.between(birth, day)
    return age.min_days, age.max_days


def date_the_diagnosis(conditions: list[Resource], birth_date: Any, today: date | None) -> DiagnosisDating:
    """The diagnosis date or age from the usable neuroblastoma Conditions (module docstring)."""
    birth = partial_date(birth_date)
    if not conditions:
        return DiagnosisDating()
    if birth is not None and today is not None and birth.earliest > today:
        return DiagnosisDating(problem=f"the birth date {birth} is after today ({today.isoformat()})",
                               chosen=conditions[0], sources=(reference_of(conditions[0]),))
    onsets = [_Onset(c, reference_of(c), onset_date(c), onset_age_days(c)) for c in conditions]
    onsets = [o for o in onsets if o.date is not None or o.age is not None]
    problems = [p for p in map(_onset_age_problem, conditions) if p]
    for onset in onsets:
        if onset.date is not None and (problem := _dated_problem(f"the onset of {onset.ref}", onset.date,
                                                                  today, birth)):
            problems.append(problem)
    if not onsets:
        return _by_recorded_date(conditions, birth, today, problems)
    first = min(onsets, key=lambda o: (o.date is None, o.date.earliest if o.date else date.max,
                                       o.age or (0, 0)))
    sources = tuple(o.ref for o in onsets)
    notes = (f"{len(conditions)} neuroblastoma Conditions: the age at diagnosis is read from the onsets on record "
             f"({', '.join(o.text for o in onsets)}), never from a later recorded date",) if len(conditions) > 1 else ()
    if problems:
        return DiagnosisDating(problem="; ".join(problems), chosen=first.condition, sources=sources, notes=notes)
    set_aside = _set_aside(conditions, {o.ref for o in onsets}, birth, first)
    if len({(o.date, o.age) for o in onsets}) == 1:  # one onset, or several that say the same
        return DiagnosisDating(diagnosis_date(first.condition), first.age, None, None, set_aside, sources,
                               first.condition, notes)
    ages = [o.age if o.age is not None else _age_between(birth, o.date) if birth and o.date else None
            for o in onsets]
    if any(age is None for age in ages):  # an onset date without a birth date: the Case says the age is unknown
        return DiagnosisDating(diagnosis_date=first.date, chosen=first.condition, sources=sources, notes=notes)
    known = [age for age in ages if age is not None]
    low, high = min(a[0] for a in known), max(a[1] for a in known)
    conflict = "the neuroblastoma Conditions give different onsets (" + ", ".join(o.text for o in onsets) + ")"
    return DiagnosisDating(first.date, (low, high), None, conflict, set_aside, sources, first.condition, notes)


def _by_recorded_date(conditions: list[Resource], birth: PartialDate | None, today: date | None,
                      problems: list[str]) -> DiagnosisDating:
    """No onset anywhere: the earliest recordedDate is the diagnosis date (product decision 1)."""
    recorded = [(d, c) for c in conditions if (d := partial_date(c.get("recordedDate"))) is not None]
    if not recorded:
        return DiagnosisDating(problem="; ".join(problems) or None, chosen=conditions[0],
                               sources=(reference_of(conditions[0]),))
    day, condition = min(recorded, key=lambda item: item[0].earliest)
    if problem := _dated_problem(f"the diagnosis recorded by {reference_of(condition)}", day, today, birth):
        problems.append(problem)
    notes = (f"{len(conditions)} neuroblastoma Conditions, none with an onset: the earliest recorded date is the "
             f"diagnosis date ({reference_of(condition)}, {day})",) if len(conditions) > 1 else ()
    if problems:
        return DiagnosisDating(problem="; ".join(problems), chosen=condition, sources=(reference_of(condition),),
                               notes=notes)
    return DiagnosisDating(day, chosen=condition, sources=(reference_of(condition),), notes=notes)


def _set_aside(conditions: list[Resource], with_onset: set[str], birth: PartialDate | None,
               first: _Onset) -> tuple[SetAsideAge, ...]:
    """Conditions with only a recordedDate, beside onsets: the age each would give, if different."""
    if birth is None or len(conditions) == len(with_onset):
        return ()
    used = first.age or (_age_between(birth, first.date) if first.date else None)
    found = []
    for condition in conditions:
        ref = reference_of(condition)
        day = diagnosis_date(condition)
        if ref in with_onset or day is None or day.latest < birth.earliest:
            continue
        low, high = _age_between(birth, day)
        if (low, high) != used:
            found.append(SetAsideAge(ref, f"recorded {day}, no onset", low, high))
    return tuple(found[:MAX_SET_ASIDE])
