"""The INPC favourable/unfavourable class from its parts, when the pathologist's call is not reported.

Why: COG 2021 reads the INPC class (Irwin 2021), and records often carry the histologic category, the grade
of differentiation and the MKI class without the call. Those parts and the age decide it, row for row, in
the INPC table (Shimada 1999, Cancer 86:364, as reprinted in PDQ Neuroblastoma Treatment Table 1):

- neuroblastoma < 1.5 y: favourable if poorly differentiated or differentiating with low or intermediate
  MKI; unfavourable if undifferentiated or high MKI;
- 1.5-5 y: favourable if differentiating with low MKI; unfavourable if undifferentiated or poorly
  differentiated, or intermediate or high MKI;
- >= 5 y: all neuroblastomas unfavourable;
- ganglioneuroblastoma intermixed, ganglioneuroma maturing: favourable at any age (footnote d).

Nodular ganglioneuroblastoma: PDQ Table 1 still prints the 1999 "unfavourable"; the revised INPC (Peuchmaur
2003, Cancer 98:2274; Umehara 2000, Cancer 89:1150: "the same histopathologic criteria (patient age, grade of
neuroblastic differentiation, mitosis-karyorrhexis index) that are used for neuroblastomas") splits it into a
favourable and an unfavourable subset by its nodule, the least favourable nodule when there are several (CAP
checklist). The grade and MKI recorded for a nodular ganglioneuroblastoma are read as the nodule's.

Ages: "1.5 y" and "5 y" are 18 and 60 months (Sano 2006, Teshiba 2014). 18 months is day 547 as everywhere in
the service (ages.py); the fifth birthday is day 1,826 or 1,827 (one or two 29 Februaries), so without exact
dates day 1,826 leaves it open. A reported class always wins; a report that contradicts its parts is kept and
named (``annotate_inpc``), never corrected.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum

from neuroblastoma.ages import AgeBand
from neuroblastoma.biology import DifferentiationGrade, HistologicCategory, InpcClass, MkiClass
from neuroblastoma.case import Case, FactKey
from neuroblastoma.results import MissingInput, RuleWarning, Trace
from neuroblastoma.risk_table import Factor, Row, known, match_table
from neuroblastoma.row_wording import VALUE_WORDS

H, G, K = HistologicCategory, DifferentiationGrade, MkiClass
FH, UH = InpcClass.FAVOURABLE, InpcClass.UNFAVOURABLE
FIFTH_BIRTHDAY_DAYS = 1826  # day 1,826 or 1,827: a day count of 1,826 alone may fall either side


class InpcAge(Enum):
    """The INPC age bands (Shimada 1999: < 1.5 y, 1.5-5 y, >= 5 y)."""

    UNDER_18_MONTHS = "under 18 months"
    FROM_18_MONTHS_TO_5_YEARS = "18 months to under 5 years"
    FROM_5_YEARS = "5 years or older"


CATEGORY = Factor("histologic category", FactKey.HISTOLOGY,
                  frozenset({H.NEUROBLASTOMA, H.GANGLIONEUROBLASTOMA_NODULAR, H.GANGLIONEUROBLASTOMA_INTERMIXED,
                             H.GANGLIONEUROMA_MATURING}),
                  "the histologic category decides the INPC class when the pathologist's call is not reported")
GRADE = Factor("grade of differentiation", FactKey.GRADE, frozenset({G.UNDIFFERENTIATED, G.POORLY_DIFFERENTIATED,
                                                                     G.DIFFERENTIATING}),
               "with the MKI and the age, the grade decides the INPC class when the call is not reported")
MKI = Factor("mitosis-karyorrhexis index", FactKey.MKI, frozenset({K.LOW, K.INTERMEDIATE, K.HIGH}),
             "with the grade and the age, the MKI class decides the INPC class when the call is not reported")
AGE = Factor("age at diagnosis (INPC bands)", FactKey.AGE, frozenset(InpcAge),
             "the INPC judges a neuroblastoma by age (< 18 months, 18 months to < 5 years, >= 5 years)")

NB = frozenset({H.NEUROBLASTOMA, H.GANGLIONEUROBLASTOMA_NODULAR})  # a nodular GNB by its nodule (Peuchmaur 2003)
UNDER_18 = frozenset({InpcAge.UNDER_18_MONTHS})
TO_5 = frozenset({InpcAge.FROM_18_MONTHS_TO_5_YEARS})
FROM_5 = frozenset({InpcAge.FROM_5_YEARS})
T1 = "Shimada 1999, PDQ Table 1"


def _row(label: str, inpc: InpcClass, printed: str, **when: frozenset[Hashable]) -> Row[InpcClass]:
    factors = {"category": CATEGORY, "age": AGE, "grade": GRADE, "mki": MKI}
    return Row(label, inpc, {factors[name]: values for name, values in when.items()}, f"{T1}, {printed}")


# PDQ Table 1 (Shimada 1999), top to bottom; the neuroblastoma rows also judge a nodular GNB's nodule.
ROWS: tuple[Row[InpcClass], ...] = (
    _row("NB <1.5 y FH", FH, "favourable: < 1.5 y, poorly differentiated or differentiating & low or intermediate MKI",
         category=NB, age=UNDER_18, grade=frozenset({G.POORLY_DIFFERENTIATED, G.DIFFERENTIATING}),
         mki=frozenset({K.LOW, K.INTERMEDIATE})),
    _row("NB 1.5-5 y FH", FH, "favourable: 1.5-5 y, differentiating & low MKI",
         category=NB, age=TO_5, grade=frozenset({G.DIFFERENTIATING}), mki=frozenset({K.LOW})),
    _row("NB <1.5 y UH undifferentiated", UH, "unfavourable: < 1.5 y, a) undifferentiated",
         category=NB, age=UNDER_18, grade=frozenset({G.UNDIFFERENTIATED})),
    _row("NB <1.5 y UH high MKI", UH, "unfavourable: < 1.5 y, b) high MKI",
         category=NB, age=UNDER_18, grade=frozenset({G.POORLY_DIFFERENTIATED, G.DIFFERENTIATING}),
         mki=frozenset({K.HIGH})),
    _row("NB 1.5-5 y UH grade", UH, "unfavourable: 1.5-5 y, a) undifferentiated or poorly differentiated",
         category=NB, age=TO_5, grade=frozenset({G.UNDIFFERENTIATED, G.POORLY_DIFFERENTIATED})),
    _row("NB 1.5-5 y UH MKI", UH, "unfavourable: 1.5-5 y, b) intermediate or high MKI",
         category=NB, age=TO_5, grade=frozenset({G.DIFFERENTIATING}), mki=frozenset({K.INTERMEDIATE, K.HIGH})),
    _row("NB >=5 y UH", UH, "unfavourable: >= 5 y, all tumours", category=NB, age=FROM_5),
    _row("GNB intermixed FH", FH, "ganglioneuroblastoma, intermixed: favourable (not related to age)",
         category=frozenset({H.GANGLIONEUROBLASTOMA_INTERMIXED})),
    _row("GN maturing FH", FH, "ganglioneuroma, maturing: favourable (not related to age)",
         category=frozenset({H.GANGLIONEUROMA_MATURING})),
)


def _fifth_birthday(birth: date) -> date | None:
    """None for a 29 February birth: no single calendar answer."""
    try:
        return birth.replace(year=birth.year + 5)
    except ValueError:
        return None


def five_years_possible(case: Case) -> frozenset[bool]:
    """Whether the child may be under 5 (False) and/or 5 years or older (True) at diagnosis."""
    age = case.age
    if age is None:
        return frozenset({False, True})
    birth, diagnosis = case.birth_date, case.diagnosis_date
    if birth and diagnosis and birth.is_exact and diagnosis.is_exact and age.is_exact \
            and age.min_days == (diagnosis.earliest - birth.earliest).days:
        fifth = _fifth_birthday(birth.earliest)
        if fifth is not None:
            return frozenset({diagnosis.earliest >= fifth})
    return frozenset({flag for flag, possible in ((False, age.min_days <= FIFTH_BIRTHDAY_DAYS),
                                                  (True, age.max_days >= FIFTH_BIRTHDAY_DAYS)) if possible})


def inpc_ages(case: Case) -> frozenset[Hashable]:
    """The INPC age bands the recorded age (or its interval) allows."""
    if case.age is None:
        return AGE.domain
    bands = case.age.possible_bands()
    ages: set[Hashable] = {InpcAge.UNDER_18_MONTHS} if bands - {AgeBand.FROM_18_MONTHS} else set()
    if AgeBand.FROM_18_MONTHS in bands:
        fives = five_years_possible(case)
        ages |= {InpcAge.FROM_5_YEARS} if True in fives else set()
        ages |= {InpcAge.FROM_18_MONTHS_TO_5_YEARS} if False in fives else set()
    return frozenset(ages)


@dataclass(frozen=True)
class InpcDerivation:
    """What the parts say: the classes still possible (one when they decide), the parts that decided or would."""

    classes: frozenset[InpcClass]
    decided_by: tuple[FactKey, ...]
    missing: tuple[FactKey, ...]
    basis: str  # "poorly differentiated neuroblastoma, aged 18 months to under 5 years"

    @property
    def inpc(self) -> InpcClass | None:
        return next(iter(self.classes)) if len(self.classes) == 1 else None


_CATEGORY_WORDS = {H.NEUROBLASTOMA: "neuroblastoma", H.GANGLIONEUROBLASTOMA_NODULAR: "nodular ganglioneuroblastoma",
                   H.GANGLIONEUROBLASTOMA_INTERMIXED: "intermixed ganglioneuroblastoma",
                   H.GANGLIONEUROMA_MATURING: "maturing ganglioneuroma"}
_AGE_WORDS: dict[frozenset[Hashable], str] = {
    UNDER_18: "under 18 months", TO_5: "18 months to under 5 years", FROM_5: "5 years or older",
    TO_5 | FROM_5: "18 months or older", UNDER_18 | TO_5: "under 5 years"}


def _basis(case: Case, decided: frozenset[FactKey], ages: frozenset[Hashable]) -> str:
    """``poorly differentiated neuroblastoma, aged 18 months to under 5 years``; a nodule's grade and MKI say so."""
    nodule = case.histology is H.GANGLIONEUROBLASTOMA_NODULAR
    grade = case.grade.value.replace("-", " ") if FactKey.GRADE in decided else ""
    mki = f"MKI {case.mki.value}" if FactKey.MKI in decided else ""
    category = _CATEGORY_WORDS.get(case.histology, "neuroblastic tumour")
    if nodule:
        parts = ", ".join(p for p in (grade, mki) if p)
        words = f"{category}, nodule {parts}" if parts else category
    else:
        words = " ".join(p for p in (grade, category) if p) + (f", {mki}" if mki else "")
    if FactKey.AGE in decided:
        words += f", aged {_AGE_WORDS.get(ages, 'any age')}"
    return words


def derive_inpc(case: Case) -> InpcDerivation:
    """The INPC class the reported parts and the age allow (both classes when they do not decide)."""
    if case.histology is H.GANGLIONEUROMA_MATURE:  # no INPC prognostic group (PDQ Table 1); outside both schemas
        return InpcDerivation(frozenset({FH, UH}), (), (), "")
    possible = {
        CATEGORY: known(CATEGORY, None if case.histology is H.UNKNOWN else case.histology),
        AGE: inpc_ages(case),
        GRADE: known(GRADE, None if case.grade is G.UNKNOWN else case.grade),
        MKI: known(MKI, None if case.mki is K.UNKNOWN else case.mki),
    }
    match = match_table(ROWS, possible)
    named = {factor for row in match.rows for factor in row.when}
    decided = frozenset(f.fact for f in possible if f in named and possible[f] != f.domain)
    ordered = tuple(f.fact for f in (CATEGORY, GRADE, MKI, AGE) if f.fact in decided)
    classes = frozenset(match.outcomes) or frozenset({FH, UH})
    if len(classes) > 1:
        return InpcDerivation(classes, (), tuple(f.fact for f in match.missing), "")
    ages = possible[AGE] & frozenset().union(*(row.when.get(AGE, AGE.domain) for row in match.rows))
    return InpcDerivation(classes, ordered, (), _basis(case, decided, ages))


def possible_inpc(case: Case) -> frozenset[Hashable]:
    """The pathologist's call when reported, else what its parts decide (both classes when they do not)."""
    if case.inpc is not InpcClass.UNKNOWN:
        return frozenset({case.inpc})
    return frozenset(derive_inpc(case).classes)


_WORDS = {FH: "favourable", UH: "unfavourable"}
_PARTS_WHY = ("with the histologic category, grade and age, decides the INPC class when the pathologist's call is "
              "not reported (Shimada 1999)")


def _source(case: Case) -> str:
    return f"{T1}; Peuchmaur 2003" if case.histology is H.GANGLIONEUROBLASTOMA_NODULAR else T1


def annotate_inpc(trace: Trace, case: Case) -> Trace:
    """A risk trace, with what the parts say about the INPC class.

    Not reported, decided by its parts and read by the result: the derivation is a step and a note ("INPC
    unfavourable, derived: ..."), the matched row says "unfavourable histology (derived)", and the parts join the
    class among the deciding inputs (the card's input table and the FHIR derivedFrom then cite the pathology
    records that decided it). Not reported and undecided:
    the parts that would decide it are missing too. Reported but contradicted by its parts: the reported class
    is kept and the contradiction named, as a conflicting report when the class decides the result."""
    derived = derive_inpc(case)
    if case.inpc is not InpcClass.UNKNOWN:
        if derived.inpc is None or derived.inpc is case.inpc:
            return trace
        decides = FactKey.INPC in trace.decided_by or any(m.fact is FactKey.INPC for m in trace.missing)
        warning = RuleWarning(
            "conflict-inpc-components" if decides else "inpc-components-disagree",
            f"INPC reported {_WORDS[case.inpc]}, but its parts give {_WORDS[derived.inpc]}: {derived.basis} "
            f"({_source(case)}). The reported class is used: check it with the pathologist.")
        return replace(trace, warnings=(*trace.warnings, warning))
    if derived.inpc is not None and FactKey.INPC in trace.decided_by:
        text = f"INPC {_WORDS[derived.inpc]}, derived: {derived.basis} (not reported; {_source(case)})"
        decided = tuple(dict.fromkeys(part for fact in trace.decided_by
                                      for part in ((fact, *derived.decided_by) if fact is FactKey.INPC else (fact,))))
        words = VALUE_WORDS[FactKey.INPC][derived.inpc]
        basis = tuple(row.replace(words, f"{words} (derived)") for row in trace.basis)
        return replace(trace, decided_by=decided, basis=basis, steps=(text, *trace.steps),
                       warnings=(*trace.warnings, RuleWarning("inpc-derived", text + ".")))
    if not any(m.fact is FactKey.INPC for m in trace.missing):
        return trace
    known_missing = {m.fact for m in trace.missing}
    extra = tuple(MissingInput(fact, _PARTS_WHY) for fact in derived.missing if fact not in known_missing)
    return replace(trace, missing=(*trace.missing, *extra)) if extra else trace
