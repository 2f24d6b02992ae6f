"""Small builders for risk-table tests: a case with every risk fact known unless overridden."""

from __future__ import annotations

from dataclasses import replace

from neuroblastoma.biology import (
    DifferentiationGrade,
    HistologicCategory,
    InpcClass,
    MycnStatus,
    Ploidy,
    PloidyCategory,
    ResectionExtent,
)
from neuroblastoma.case import Case
from neuroblastoma.facts import Presence

FAVOURABLE_BASE = Case(
    patient="test",
    age_days=200,
    histology=HistologicCategory.NEUROBLASTOMA,
    grade=DifferentiationGrade.DIFFERENTIATING,
    inpc=InpcClass.FAVOURABLE,
    mycn=MycnStatus.NOT_AMPLIFIED,
    chr11q_aberration=Presence.ABSENT,
    chr1p_aberration=Presence.ABSENT,
    ploidy=Ploidy(dna_index=1.4),
    ms_symptoms=Presence.ABSENT,
    resection=ResectionExtent.NOT_RESECTED,
)

AMP = MycnStatus.AMPLIFIED
NA = MycnStatus.NOT_AMPLIFIED
DIPLOID = Ploidy(category=PloidyCategory.DIPLOID)
HYPERDIPLOID = Ploidy(category=PloidyCategory.HYPERDIPLOID)


def case(**changes: object) -> Case:
    return replace(FAVOURABLE_BASE, **changes)
