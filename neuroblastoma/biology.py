"""Histology, grade, MKI, INPC class, MYCN, chromosome aberrations and ploidy, as the lab reports them.

Product decision 11: the service consumes the reported call (amplified, FH/UH, MKI class, ...); it never
re-derives a call from copy numbers or cell counts. The one refinement (issue 18): when the pathologist's
INPC class is not reported, its reported parts (category, grade, MKI class) and the age decide it (inpc.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class HistologicCategory(Enum):
    """INPC histologic categories (Shimada 1999; PDQ INPC table)."""

    NEUROBLASTOMA = "neuroblastoma"
    GANGLIONEUROBLASTOMA_NODULAR = "ganglioneuroblastoma-nodular"
    GANGLIONEUROBLASTOMA_INTERMIXED = "ganglioneuroblastoma-intermixed"
    GANGLIONEUROMA_MATURING = "ganglioneuroma-maturing"
    GANGLIONEUROMA_MATURE = "ganglioneuroma-mature"
    UNKNOWN = "unknown"


class DifferentiationGrade(Enum):
    """Grade of neuroblastic differentiation (neuroblastoma and nodular GNB only)."""

    UNDIFFERENTIATED = "undifferentiated"
    POORLY_DIFFERENTIATED = "poorly-differentiated"
    DIFFERENTIATING = "differentiating"
    UNKNOWN = "unknown"


class MkiClass(Enum):
    """The pathologist's mitosis-karyorrhexis index class of the neuroblastic cells (Shimada 1999; PDQ Table 1):
    mitotic or karyorrhectic cells per 5,000, low < 100 (< 2 %), intermediate 100-200 (2-4 %), high > 200
    (> 4 %). The reproductions disagree on a count of exactly 200 (PathologyOutlines: intermediate 100-199,
    high 200 or more), so the class is read as reported and never computed from a count."""

    LOW = "low"
    INTERMEDIATE = "intermediate"
    HIGH = "high"
    UNKNOWN = "unknown"


class InpcClass(Enum):
    """The pathologist's INPC prognostic call, used by COG 2021."""

    FAVOURABLE = "favourable"
    UNFAVOURABLE = "unfavourable"
    UNKNOWN = "unknown"


class AlkStatus(Enum):
    """ALK alteration in the tumour. Not an input of INRG 2009 or COG 2021: COG determines it for high-risk
    trial and targeted-therapy eligibility (ANBL1531), so it is shown and asked for in the work-up only."""

    MUTATION = "mutation"
    AMPLIFICATION = "amplification"
    NOT_ALTERED = "not-altered"
    UNKNOWN = "unknown"


class MycnStatus(Enum):
    """The lab's categorical MYCN call. Gain counts as not amplified for risk (clinical-rules §3.2)."""

    AMPLIFIED = "amplified"
    GAIN = "gain"
    NOT_AMPLIFIED = "not-amplified"
    UNKNOWN = "unknown"


class PloidyCategory(Enum):
    """A lab's ploidy category when no DNA index is reported."""

    HYPERDIPLOID = "hyperdiploid"
    DIPLOID = "diploid"
    HYPODIPLOID = "hypodiploid"


@dataclass(frozen=True)
class Ploidy:
    """Tumour DNA content: a DNA index when one is given, else the lab's category (decision 5)."""

    dna_index: float | None = None
    category: PloidyCategory | None = None

    def __post_init__(self) -> None:
        if self.dna_index is not None and not 0 < self.dna_index < 10:
            raise ValueError(f"implausible DNA index {self.dna_index}")

    @property
    def effective_category(self) -> PloidyCategory | None:
        """DNA index > 1 hyperdiploid, = 1 diploid, < 1 hypodiploid; else the reported category."""
        if self.dna_index is not None:
            if self.dna_index > 1:
                return PloidyCategory.HYPERDIPLOID
            if self.dna_index < 1:
                return PloidyCategory.HYPODIPLOID
            return PloidyCategory.DIPLOID
        return self.category


class ResectionExtent(Enum):
    """Extent of resection of the primary, needed only for COG 2021 L1 MYCN-amplified tumours."""

    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    NOT_RESECTED = "not-resected"
    UNKNOWN = "unknown"
