"""``Finding``: one fact one resource reports, with its source — the unit of provenance and of conflict.

Every finding has a ``FindingKey``: what it is about (MYCN; the liver as a metastatic site; IDRF-15; the
MIBG scan of bone ...). Findings with equal keys report the same fact and compete (``conflicts.py``);
the winners are then grouped by ``key.kind`` to build the ``Case`` (``case_assembly.py``). The readers
that make findings are in ``observation_readers.py`` and ``conditions.py``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from neuroblastoma.anatomy import Compartment, Laterality
from neuroblastoma.case import FactKey, MarrowMethod
from neuroblastoma.facts import Presence

PRELIMINARY_STATUSES = frozenset({"preliminary", "unknown"})  # final, amended, corrected beat these
IGNORED_STATUSES = frozenset({"entered-in-error", "cancelled", "registered"})


class UnreadableValueError(Exception):
    """The resource's value is in no form or code this service accepts (it is reported, never guessed)."""


class FindingKind(Enum):
    """What a finding is about, before saying which one (which site, which IDRF, which scan)."""

    PRIMARY = "primary"  # item: (Compartment, Laterality)
    IDRF = "idrf"  # item: (IdrfCode, PrimaryTarget)
    IDRF_SUMMARY = "idrf-summary"  # item: PrimaryTarget
    IDRF_ALL_PRIMARIES = "idrf-all-primaries"
    EXTENSION = "extension"  # item: (Compartment, Laterality, PrimaryTarget)
    NODE = "node"  # item: (NodalRegion, Laterality)
    SITE = "site"  # item: MetastaticSite
    EFFUSION = "effusion"  # item: EffusionKind
    IMAGING = "imaging"  # item: (ImagingModality, ImagingTarget)
    MARROW_INVOLVEMENT = "marrow-involvement"
    MARROW_PERCENT = "marrow-percent"
    WORK_UP = "work-up"
    MIBG_AVIDITY = "mibg-avidity"
    HISTOLOGY = "histology"
    GRADE = "grade"
    MKI = "mki"
    INPC = "inpc"
    MYCN = "mycn"
    CHR_11Q = "11q"
    CHR_1P = "1p"
    OTHER_SCA = "other-sca"  # item: the aberration's label ("17q gain")
    DNA_INDEX = "dna-index"
    PLOIDY_CATEGORY = "ploidy-category"
    SYMPTOMS = "symptoms"
    RESECTION = "resection"
    MULTIFOCAL = "multifocal"
    MICROSCOPIC_RESIDUAL = "microscopic-residual"
    NODES_IPSILATERAL = "ipsilateral-nodes"
    NODES_CONTRALATERAL = "contralateral-nodes"
    MIDLINE = "midline"
    PRIMARY_DIAMETER = "primary-diameter"
    PRIMARY_CYSTIC = "primary-cystic"
    PARASPINAL = "paraspinal"
    CORD_COMPRESSION = "cord-compression"
    ALK = "alk"
    MIBG_SCORE = "mibg-score"  # item: MibgScoreMethod

    @property
    def fact(self) -> FactKey:
        """The case fact findings of this kind feed (provenance: ``Case.evidence``)."""
        return _FACT[self]


_FACT: Mapping[FindingKind, FactKey] = {
    FindingKind.PRIMARY: FactKey.PRIMARY_TUMOUR,
    FindingKind.IDRF: FactKey.IDRF,
    FindingKind.IDRF_SUMMARY: FactKey.IDRF,
    FindingKind.IDRF_ALL_PRIMARIES: FactKey.IDRF,
    FindingKind.EXTENSION: FactKey.EXTENSION,
    FindingKind.NODE: FactKey.LYMPH_NODES,
    FindingKind.SITE: FactKey.METASTASES,
    FindingKind.EFFUSION: FactKey.EFFUSIONS,
    FindingKind.IMAGING: FactKey.FUNCTIONAL_IMAGING,
    FindingKind.MARROW_INVOLVEMENT: FactKey.BONE_MARROW,
    FindingKind.MARROW_PERCENT: FactKey.BONE_MARROW,
    FindingKind.WORK_UP: FactKey.METASTATIC_SURVEY,
    FindingKind.MIBG_AVIDITY: FactKey.MIBG_AVIDITY,
    FindingKind.HISTOLOGY: FactKey.HISTOLOGY,
    FindingKind.GRADE: FactKey.GRADE,
    FindingKind.MKI: FactKey.MKI,
    FindingKind.INPC: FactKey.INPC,
    FindingKind.MYCN: FactKey.MYCN,
    FindingKind.CHR_11Q: FactKey.CHR_11Q,
    FindingKind.CHR_1P: FactKey.CHR_1P,
    FindingKind.OTHER_SCA: FactKey.OTHER_SCA,
    FindingKind.DNA_INDEX: FactKey.PLOIDY,
    FindingKind.PLOIDY_CATEGORY: FactKey.PLOIDY,
    FindingKind.SYMPTOMS: FactKey.SYMPTOMS,
    FindingKind.RESECTION: FactKey.RESECTION,
    FindingKind.MULTIFOCAL: FactKey.MULTIFOCALITY,
    FindingKind.MICROSCOPIC_RESIDUAL: FactKey.MICROSCOPIC_RESIDUAL,
    FindingKind.NODES_IPSILATERAL: FactKey.NODES_IPSILATERAL,
    FindingKind.NODES_CONTRALATERAL: FactKey.NODES_CONTRALATERAL,
    FindingKind.MIDLINE: FactKey.MIDLINE,
    FindingKind.PRIMARY_DIAMETER: FactKey.PRIMARY_SIZE,
    FindingKind.PRIMARY_CYSTIC: FactKey.PRIMARY_SIZE,
    FindingKind.PARASPINAL: FactKey.PARASPINAL,
    FindingKind.CORD_COMPRESSION: FactKey.CORD_COMPRESSION,
    FindingKind.ALK: FactKey.ALK,
    FindingKind.MIBG_SCORE: FactKey.MIBG_SCORE,
}


@dataclass(frozen=True)
class FindingKey:
    """What a finding is about: its kind and, for kinds with several members, which one (``item``)."""

    kind: FindingKind
    item: Hashable = None

    def __str__(self) -> str:
        """The key as shown in a discordance: ``mycn``, ``site:liver``, ``imaging:mibg:bone``."""
        items = self.item if isinstance(self.item, tuple) else () if self.item is None else (self.item,)
        return ":".join([self.kind.value, *(item.value if isinstance(item, Enum) else str(item) for item in items)])


@dataclass(frozen=True)
class Finding:
    """One fact one resource reports."""

    key: FindingKey
    value: Any  # of one type for every finding of a key, so competing values compare with ==
    source: str  # ``Type/id`` of the resource
    at: datetime | None  # when it applies (effective[x], else issued): decides between competitors
    preliminary: bool
    position: int  # the resource's place in reading order: how validation finds it (validation.py)

    @property
    def fact(self) -> FactKey:
        return self.key.kind.fact


# Which primary a finding is about (an IDRF, an overall IDRF call, an extension).

@dataclass(frozen=True)
class Attribution:
    """What an Observation says about the primary it concerns: ``Observation.focus`` (the primary's
    Observation or Condition), and its body site (compartment) and side."""

    focus: tuple[str, ...] = ()
    compartment: Compartment | None = None
    side: Laterality = Laterality.UNKNOWN

    def __str__(self) -> str:
        parts = [*self.focus, *((self.compartment.value,) if self.compartment else ()),
                 *((self.side.value,) if self.side is not Laterality.UNKNOWN else ())]
        return "/".join(parts) or "no primary named"


@dataclass(frozen=True)
class PrimaryTarget:
    """The primary a finding belongs to: its index among the case's primaries, or None when no record ties
    it to one of several (``hint`` then keeps what the Observation said, so different reports stay apart)."""

    index: int | None
    hint: Attribution | None = None

    def __str__(self) -> str:
        return f"primary {self.index + 1}" if self.index is not None else f"untied ({self.hint})"


# The values of some findings, before they become parts of the Case.


@dataclass(frozen=True)
class PrimarySite:
    compartment: Compartment | None
    side: Laterality
    adrenal: Presence = Presence.UNKNOWN  # SNOMED CT 23451007 on the report (value or bodySite)

    @property
    def place(self) -> tuple[Compartment | None, Laterality]:
        """Where the primary is, for matching reports of the same primary (the adrenal flag is a detail)."""
        return self.compartment, self.side


@dataclass(frozen=True)
class SiteStatus:
    """A metastatic site or a scanned tissue: present/absent/unknown, and whether the focus is equivocal."""

    presence: Presence
    equivocal: bool
    resolves: bool = False  # an explicit "focus ruled out/confirmed" value (guide 6.8)


@dataclass(frozen=True)
class MarrowReading:
    """One bone-marrow Observation: the involvement call or the tumour-cell percentage, and the method."""

    presence: Presence | None
    percent: float | None
    method: MarrowMethod
