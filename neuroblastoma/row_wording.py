"""A risk-table row named by its clinical content: "L2, under 18 months, MYCN not amplified, no 11q aberration".

Rows are identified internally by labels ("row D", "H5 M/MS 12-18 mo SCA"); a clinician never reads those.
Every renderer (card, app, text summary) names a row by what it says, in the words below, generated from the
row's own conditions so the words can never disagree with the rule. A factor or value without words here
(a new schema's) is named ``factor: value``, so a new schema is still described without a line here.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from enum import Enum

from neuroblastoma.ages import AgeBand
from neuroblastoma.biology import (
    DifferentiationGrade,
    HistologicCategory,
    InpcClass,
    MkiClass,
    MycnStatus,
    PloidyCategory,
    ResectionExtent,
)
from neuroblastoma.case import FactKey
from neuroblastoma.facts import Presence
from neuroblastoma.results import RiskLevel, Stage
from neuroblastoma.risk_table import Factor, Row

RISK_WORDS: Mapping[RiskLevel, str] = {RiskLevel.VERY_LOW: "very low", RiskLevel.LOW: "low",
                                       RiskLevel.INTERMEDIATE: "intermediate", RiskLevel.HIGH: "high"}

_AGE_WORDS: Mapping[frozenset[AgeBand], str] = {
    frozenset({AgeBand.UNDER_12_MONTHS}): "under 12 months",
    frozenset({AgeBand.FROM_12_TO_18_MONTHS}): "12 to 18 months",
    frozenset({AgeBand.FROM_18_MONTHS}): "18 months or older",
    frozenset({AgeBand.UNDER_12_MONTHS, AgeBand.FROM_12_TO_18_MONTHS}): "under 18 months",
    frozenset({AgeBand.FROM_12_TO_18_MONTHS, AgeBand.FROM_18_MONTHS}): "12 months or older",
}

_H, _G = HistologicCategory, DifferentiationGrade
# Words for one value of a fact, as a clinician says it (the value alone, or with its subject).
VALUE_WORDS: Mapping[FactKey, Mapping[Hashable, str]] = {
    FactKey.MYCN: {MycnStatus.AMPLIFIED: "MYCN amplified", MycnStatus.NOT_AMPLIFIED: "MYCN not amplified"},
    FactKey.CHR_11Q: {Presence.PRESENT: "11q aberration", Presence.ABSENT: "no 11q aberration"},
    FactKey.SCA: {Presence.PRESENT: "1p or 11q aberration", Presence.ABSENT: "no 1p or 11q aberration"},
    FactKey.INPC: {InpcClass.FAVOURABLE: "favourable histology", InpcClass.UNFAVOURABLE: "unfavourable histology"},
    FactKey.SYMPTOMS: {Presence.PRESENT: "symptomatic", Presence.ABSENT: "asymptomatic"},
    FactKey.RESECTION: {ResectionExtent.COMPLETE: "completely resected",
                        ResectionExtent.INCOMPLETE: "residual tumour after resection"},
    FactKey.GRADE: {_G.DIFFERENTIATING: "differentiating", _G.POORLY_DIFFERENTIATED: "poorly differentiated",
                    _G.UNDIFFERENTIATED: "undifferentiated"},
    FactKey.MKI: {MkiClass.LOW: "low MKI", MkiClass.INTERMEDIATE: "intermediate MKI", MkiClass.HIGH: "high MKI"},
    FactKey.HISTOLOGY: {_H.NEUROBLASTOMA: "neuroblastoma", _H.GANGLIONEUROBLASTOMA_NODULAR: "nodular GNB",
                        _H.GANGLIONEUROBLASTOMA_INTERMIXED: "intermixed GNB",
                        _H.GANGLIONEUROMA_MATURING: "maturing ganglioneuroma"},
    FactKey.NODES_IPSILATERAL: {Presence.PRESENT: "ipsilateral non-adherent nodes positive",
                                Presence.ABSENT: "ipsilateral non-adherent nodes negative"},
    FactKey.NODES_CONTRALATERAL: {Presence.PRESENT: "contralateral regional nodes positive",
                                  Presence.ABSENT: "contralateral nodes negative"},
    FactKey.MIDLINE: {Presence.PRESENT: "infiltrating across the midline",
                      Presence.ABSENT: "not infiltrating across the midline"},
    FactKey.PLOIDY: {PloidyCategory.HYPERDIPLOID: "hyperdiploid (DNA index above 1)",
                     PloidyCategory.DIPLOID: "diploid (DNA index 1 or below)",
                     PloidyCategory.HYPODIPLOID: "hypodiploid (DNA index below 1)"},
}


def _value_name(value: Hashable) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _ploidy_words(values: frozenset[Hashable]) -> str | None:
    """COG 2021 names its ploidy values by their meaning: favourable or diploid (its own enum)."""
    names = {_value_name(v) for v in values}
    if len(names) == 1:
        name = names.pop()
        if name.startswith("favourable"):
            return "favourable ploidy (DNA index not 1)"
        if name.startswith("unfavourable"):
            return "diploid (DNA index 1)"
    return None


def describe_values(factor: Factor, values: frozenset[Hashable]) -> str:
    """A condition of a row (or the values still possible) in a clinician's words."""
    if factor.fact is FactKey.STAGE:
        return " or ".join(sorted(v.value for v in values if isinstance(v, Stage)))
    if factor.fact is FactKey.AGE:
        bands = frozenset(v for v in values if isinstance(v, AgeBand))
        return _AGE_WORDS.get(bands, "any age")
    if factor.fact is FactKey.PLOIDY and (words := _ploidy_words(values)):
        return words
    known = VALUE_WORDS.get(factor.fact, {})
    names = [known.get(value) for value in values]
    if all(names):
        return " or ".join(sorted(name for name in names if name))
    return f"{factor.name}: " + " or ".join(sorted(_value_name(v) for v in values))


# The order a clinician reads a row in: stage, age, histology, then biology, then the clinical facts.
_READING_ORDER = (FactKey.STAGE, FactKey.AGE, FactKey.HISTOLOGY, FactKey.GRADE, FactKey.MKI, FactKey.INPC,
                  FactKey.MYCN, FactKey.CHR_11Q, FactKey.SCA, FactKey.PLOIDY, FactKey.SYMPTOMS, FactKey.RESECTION,
                  FactKey.MIDLINE, FactKey.NODES_IPSILATERAL, FactKey.NODES_CONTRALATERAL)


def _position(factor: Factor) -> int:
    return _READING_ORDER.index(factor.fact) if factor.fact in _READING_ORDER else len(_READING_ORDER)


def describe_row(row: Row[object]) -> str:
    """The row's conditions in reading order: ``L2, under 18 months, MYCN not amplified, no 11q aberration``."""
    factors = sorted(row.when, key=_position)
    return ", ".join(describe_values(factor, row.when[factor]) for factor in factors)
