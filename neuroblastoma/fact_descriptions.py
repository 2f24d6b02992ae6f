"""The case's facts in a clinician's words, the same in the card, the app and the CLI.

``fact_label(fact)`` names an input ("MYCN", "Bone marrow"); ``fact_value(case, fact)`` says what the record
holds for it ("not amplified", "5 % tumour cells by morphology", "renal vessel: contact (IDRF 15)"), and "not
recorded" when it holds nothing. Values come from the domain's own enumerations and assessments (an IDRF is
named by what the rules made of the reported relation, ``assess_idrf``), never from free text.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

from neuroblastoma.ages import PartialDate, add_months
from neuroblastoma.biology import AlkStatus, HistologicCategory, MycnStatus, PloidyCategory, ResectionExtent
from neuroblastoma.case import FACT_COMPONENTS, Case, FactKey, MarrowMethod
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import IDRF_BY_CODE, IdrfAssessment, StructureKind, StructureRelation, assess_idrf
from neuroblastoma.inpc import derive_inpc
from neuroblastoma.row_wording import VALUE_WORDS

NOT_RECORDED = "not recorded"

_STRUCTURE = {StructureKind.ARTERY: "artery", StructureKind.VEIN: "vein", StructureKind.RENAL_VESSEL: "renal vessel",
              StructureKind.INFERIOR_MESENTERIC_ARTERY: "inferior mesenteric artery",
              StructureKind.AIRWAY: "airway", StructureKind.NERVE: "nerve", StructureKind.ORGAN: "organ"}
_RELATION = {StructureRelation.SEPARATION: "separation", StructureRelation.CONTACT: "contact",
             StructureRelation.FLATTENED_LUMEN_VISIBLE: "flattened, lumen visible",
             StructureRelation.FLATTENED_NO_LUMEN: "flattened, no lumen", StructureRelation.ENCASEMENT: "encasement",
             StructureRelation.COMPRESSION: "compression", StructureRelation.INFILTRATION: "infiltration",
             StructureRelation.EXTENSION: "extension"}
_PRESENCE = {Presence.PRESENT: "present", Presence.ABSENT: "absent", Presence.UNKNOWN: NOT_RECORDED}


def _words(fact: FactKey, value: Hashable, default: str = NOT_RECORDED) -> str:
    return VALUE_WORDS.get(fact, {}).get(value, default)


def _age(case: Case) -> str:
    age = case.age
    if age is None:
        missing = [name for name, value in (("birth date", case.birth_date), ("diagnosis date", case.diagnosis_date))
                   if value is None]
        return f"{' and '.join(missing)} not recorded" if missing else NOT_RECORDED
    if not age.is_exact:
        return f"{age.min_days}–{age.max_days} days (dates not exact)"
    months = _months_old(case.birth_date, case.diagnosis_date, age.min_days)
    return f"{age.min_days} days ({months} month{'' if months == 1 else 's'})"


def _months_old(birth: PartialDate | None, diagnosis: PartialDate | None, days: int) -> int:
    """Completed calendar months from the dates (what a clinician counts: born 1 January, 18 months on 1 July of
    the next year, day 547), else from the day count with an average month."""
    if birth is None or diagnosis is None or not (birth.is_exact and diagnosis.is_exact):
        return int(days / 30.4375)
    start, end = birth.earliest, diagnosis.earliest
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if add_months(start, months) > end else months


def _primary(case: Case) -> str:
    if not case.primaries:
        return NOT_RECORDED
    parts = []
    for primary in case.primaries:
        where = primary.compartment.value if primary.compartment else "compartment not recorded"
        where += " (adrenal)" if primary.adrenal is Presence.PRESENT else ""
        side = f", {primary.side.value}" if primary.side.value != "unknown" else ""
        parts.append(f"{where}{side}")
    prefix = f"{len(parts)} primaries: " if len(parts) > 1 else ""
    return prefix + "; ".join(parts)


def idrf_words(assessment: IdrfAssessment, structure: StructureKind | None,
               relation: StructureRelation | None) -> str:
    """``renal vessel contact (IDRF 15)``; ``IDRF 19`` when no relation was reported."""
    number = IDRF_BY_CODE[assessment.code].number
    if structure is not None and relation is not None:
        return f"{_STRUCTURE[structure]} {_RELATION[relation]} (IDRF {number})"
    return f"IDRF {number}"


def _idrfs(case: Case) -> str:
    several = len(case.primaries) > 1
    present, undecided = [], []
    tied = [(f, f" ({p.label})" if several else "") for p in case.primaries for f in p.idrfs]
    loose = [(f, " (not tied to a primary)") for f in case.unattributed.idrfs]
    for finding, where in (*tied, *loose):
        assessment = assess_idrf(finding)
        words = idrf_words(assessment, finding.structure, finding.relation) + where
        if assessment.presence is Presence.PRESENT:
            present.append(words)
        elif assessment.presence is Presence.UNKNOWN:
            undecided.append(words)
    extension = any(e.contiguous is Presence.PRESENT for p in case.primaries for e in p.extensions)
    if present or extension:
        return "; ".join(present or ["extension into a second compartment (IDRF 1)"])
    if undecided:
        return "undecided: " + ", ".join(undecided)
    every_primary_clear = bool(case.primaries) and {p.idrf_summary for p in case.primaries} == {Presence.ABSENT}
    if every_primary_clear or case.idrf_all_primaries.presence is Presence.ABSENT:
        return "none" + (" on any primary" if several else "")
    return NOT_RECORDED


def _metastases(case: Case) -> str:
    present = [m.site.value.replace("-", " ") + (" (equivocal focus)" if m.equivocal else "")
               for m in case.metastases if m.status is Presence.PRESENT]
    if present:
        return ", ".join(present)
    if case.metastatic_survey is Presence.ABSENT:
        return "none (work-up negative)"
    if case.metastases and all(m.status is Presence.ABSENT for m in case.metastases):
        return "none reported"
    return NOT_RECORDED


def _marrow(case: Case) -> str:
    marrow = case.bone_marrow
    method = f" by {marrow.method.value.replace('-', ' ')}" if marrow.method is not MarrowMethod.UNKNOWN else ""
    if marrow.tumour_cell_percent is not None and marrow.involvement is not Presence.ABSENT:
        return f"{marrow.tumour_cell_percent:g} % tumour cells{method}"
    if marrow.involvement is Presence.PRESENT:
        return f"involved{method}, % not recorded"
    if marrow.involvement is Presence.ABSENT:
        return f"not involved{method}"
    return NOT_RECORDED


def _imaging(case: Case) -> str:
    if not case.functional_imaging:
        return NOT_RECORDED
    names = {"mibg": "MIBG", "mdp-bone-scan": "bone scan", "fdg-pet": "FDG-PET"}
    parts = []
    for scan in case.functional_imaging:
        name = names.get(scan.modality.value, scan.modality.value)
        if scan.bone is Presence.ABSENT and scan.bone_marrow is Presence.ABSENT:
            result = "negative in bone and marrow"
        else:
            result = f"bone {_PRESENCE[scan.bone]}, marrow {_PRESENCE[scan.bone_marrow]}"
        parts.append(f"{name} {result}" + (" (equivocal)" if scan.equivocal else ""))
    return "; ".join(parts)


def _mycn(case: Case) -> str:
    if case.mycn is MycnStatus.GAIN:
        return "gain (counted as not amplified)"
    return {MycnStatus.AMPLIFIED: "amplified", MycnStatus.NOT_AMPLIFIED: "not amplified"}.get(case.mycn, NOT_RECORDED)


def _aberration(value: Presence) -> str:
    return {Presence.PRESENT: "aberration present", Presence.ABSENT: "no aberration"}.get(value, NOT_RECORDED)


def _ploidy(case: Case) -> str:
    category = case.ploidy.effective_category
    names = {PloidyCategory.HYPERDIPLOID: "hyperdiploid", PloidyCategory.DIPLOID: "diploid",
             PloidyCategory.HYPODIPLOID: "hypodiploid"}
    if case.ploidy.dna_index is not None:
        return f"DNA index {case.ploidy.dna_index:g} ({names[category] if category else ''})".replace(" ()", "")
    return names[category] if category else NOT_RECORDED


def _inpc(case: Case, default: str = NOT_RECORDED) -> str:
    """The reported class; unreported, what its parts decide: ``not reported (derived: unfavourable histology)``."""
    if case.inpc.value != "unknown":
        return _words(FactKey.INPC, case.inpc)
    derived = derive_inpc(case).inpc
    return f"not reported (derived: {_words(FactKey.INPC, derived)})" if derived else default


def _resection(case: Case) -> str:
    return {ResectionExtent.COMPLETE: "complete", ResectionExtent.INCOMPLETE: "incomplete (residual tumour)",
            ResectionExtent.NOT_RESECTED: "not resected"}.get(case.resection, NOT_RECORDED)


def _nodes(case: Case) -> str:
    involved = [n.region.value.replace("-", " ") for n in case.lymph_nodes if n.status is Presence.PRESENT]
    return ", ".join(involved) if involved else ("none involved" if case.lymph_nodes else NOT_RECORDED)


def _extension(case: Case) -> str:
    parts = [f"into the {e.compartment.value}" + (f" ({e.side.value} side)" if e.side.value != "unknown" else "")
             + {Presence.PRESENT: ", contiguous", Presence.ABSENT: ", not contiguous"}.get(e.contiguous, "")
             for p in case.primaries for e in p.extensions]
    return "; ".join(parts) or NOT_RECORDED


def _size(case: Case) -> str:
    if case.primary_diameter_cm is None:
        return NOT_RECORDED if case.primary_cystic_percent is None else (
            f"diameter not recorded, {case.primary_cystic_percent:g} % cystic")
    cystic = (f", {case.primary_cystic_percent:g} % cystic" if case.primary_cystic_percent is not None
              else ", cystic fraction not recorded")
    return f"{case.primary_diameter_cm:g} cm longest diameter{cystic}"


def _mibg_scores(case: Case) -> str:
    names = {"curie": "Curie", "siopen": "SIOPEN"}
    return "; ".join(f"{names[s.method.value]} {s.value:g}" for s in case.mibg_scores) or NOT_RECORDED


_NODE_WORDS = {Presence.PRESENT: "positive", Presence.ABSENT: "negative"}
_ALK_WORDS = {AlkStatus.MUTATION: "mutation", AlkStatus.AMPLIFICATION: "amplification",
              AlkStatus.NOT_ALTERED: "not altered"}


Describer = Callable[[Case], str]

# Every input the rules read, in the order a clinician reads a case: who, where, how far, what it is, biology.
DESCRIBERS: dict[FactKey, tuple[str, Describer]] = {
    FactKey.AGE: ("Age at diagnosis", _age),
    FactKey.PRIMARY_TUMOUR: ("Primary tumour", _primary),
    FactKey.PRIMARY_SIZE: ("Primary size", _size),
    FactKey.PARASPINAL: ("Paraspinal primary", lambda c: _PRESENCE[c.paraspinal]),
    FactKey.IDRF: ("Image-defined risk factors", _idrfs),
    FactKey.EXTENSION: ("Extension", _extension),
    FactKey.LYMPH_NODES: ("Involved nodes", _nodes),
    FactKey.MULTIFOCALITY: ("Multifocal primaries", lambda c: _PRESENCE[c.multifocal]),
    FactKey.METASTASES: ("Distant metastases", _metastases),
    FactKey.METASTATIC_SURVEY: ("Metastatic work-up", lambda c: {Presence.ABSENT: "negative",
                                                                 Presence.PRESENT: "distant disease found"}.get(
                                                                     c.metastatic_survey, NOT_RECORDED)),
    FactKey.BONE_MARROW: ("Bone marrow", _marrow),
    FactKey.FUNCTIONAL_IMAGING: ("MIBG / bone scan / PET", _imaging),
    FactKey.MIBG_SCORE: ("MIBG score", _mibg_scores),
    FactKey.MIBG_AVIDITY: ("MIBG avidity of the primary", lambda c: {Presence.PRESENT: "avid",
                                                                   Presence.ABSENT: "not avid"}.get(
                                                                       c.primary_mibg_avid, NOT_RECORDED)),
    FactKey.EFFUSIONS: ("Effusions", lambda c: ", ".join(e.kind.value for e in c.effusions) or NOT_RECORDED),
    FactKey.HISTOLOGY: ("Histology", lambda c: NOT_RECORDED if c.histology is HistologicCategory.UNKNOWN
                        else _words(FactKey.HISTOLOGY, c.histology, c.histology.value.replace("-", ", "))),
    FactKey.GRADE: ("Grade", lambda c: _words(FactKey.GRADE, c.grade)),
    FactKey.MKI: ("MKI", lambda c: _words(FactKey.MKI, c.mki)),
    FactKey.INPC: ("INPC", _inpc),
    FactKey.MYCN: ("MYCN", _mycn),
    FactKey.CHR_11Q: ("11q", lambda c: _aberration(c.chr11q_aberration)),
    FactKey.CHR_1P: ("1p", lambda c: _aberration(c.chr1p_aberration)),
    FactKey.PLOIDY: ("Ploidy", _ploidy),
    FactKey.ALK: ("ALK", lambda c: _ALK_WORDS.get(c.alk, NOT_RECORDED)),
    FactKey.SYMPTOMS: ("MS symptoms", lambda c: _words(FactKey.SYMPTOMS, c.ms_symptoms)),
    FactKey.CORD_COMPRESSION: ("Cord or nerve-root compression", lambda c: _PRESENCE[c.cord_compression]),
    FactKey.RESECTION: ("Resection", _resection),
    FactKey.MICROSCOPIC_RESIDUAL: ("Microscopic residual", lambda c: _PRESENCE[c.microscopic_residual]),
    FactKey.NODES_IPSILATERAL: ("Ipsilateral nodes (histology)",
                                lambda c: _NODE_WORDS.get(c.nodes_ipsilateral, NOT_RECORDED)),
    FactKey.NODES_CONTRALATERAL: ("Contralateral nodes (histology)",
                                  lambda c: _NODE_WORDS.get(c.nodes_contralateral, NOT_RECORDED)),
    FactKey.MIDLINE: ("Midline infiltration", lambda c: {Presence.PRESENT: "across the midline",
                                                         Presence.ABSENT: "not across the midline"}.get(
                                                             c.midline_infiltration, NOT_RECORDED)),
}


def fact_label(fact: FactKey) -> str:
    return DESCRIBERS[fact][0] if fact in DESCRIBERS else fact.value.replace("-", " ")


def fact_value(case: Case, fact: FactKey) -> str:
    """What the record holds for ``fact``, in words; ``not recorded`` when nothing."""
    return DESCRIBERS[fact][1](case) if fact in DESCRIBERS else NOT_RECORDED


def recorded_inputs(facts: Iterable[FactKey]) -> tuple[FactKey, ...]:
    """The facts as the record holds them (the SCA is 1p and 11q; age is its own row), in reading order."""
    wanted = {part for fact in facts for part in FACT_COMPONENTS.get(fact, (fact,))}
    wanted |= {FactKey.AGE} if wanted & {FactKey.BIRTH_DATE, FactKey.DIAGNOSIS_DATE} else set()
    return tuple(fact for fact in DESCRIBERS if fact in wanted)


def describe_facts(case: Case) -> list[tuple[FactKey, str, str]]:
    """(fact, label, value) for every input the rules read, in reading order."""
    return [(fact, label, describe(case)) for fact, (label, describe) in DESCRIBERS.items()]


_ADJECTIVE = {"neck": "cervical", "chest": "thoracic", "abdomen": "abdominal", "pelvis": "pelvic"}


def _primary_phrase(case: Case) -> str:
    """``left abdominal primary``; ``2 primaries: …``."""
    compartment = case.primaries[0].compartment if len(case.primaries) == 1 else None
    if compartment is None:
        return f"primary: {_primary(case)}"
    side = case.primaries[0].side.value
    return f"{side + ' ' if side in ('left', 'right') else ''}{_ADJECTIVE[compartment.value]} primary"


def lower_first(label: str) -> str:
    """``Age at diagnosis`` → ``age at diagnosis``; ``MS symptoms`` and ``MYCN`` stay as they are."""
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label


def _phrase_metastases(case: Case) -> str:
    value = _metastases(case)
    if value.startswith("none"):
        return "no distant metastases"
    return f"{value} metastases" if value != NOT_RECORDED else "distant sites not recorded"


_PHRASES: dict[FactKey, Describer] = {
    FactKey.AGE: lambda c: f"age {_age(c)}" if c.age is not None else "age not recorded",
    FactKey.PRIMARY_TUMOUR: lambda c: _primary_phrase(c),
    FactKey.IDRF: lambda c: {"none": "no IDRF"}.get(_idrfs(c), f"IDRF: {_idrfs(c)}"),
    FactKey.EXTENSION: lambda c: f"extension {_extension(c)}",
    FactKey.LYMPH_NODES: lambda c: f"involved nodes: {_nodes(c)}",
    FactKey.METASTASES: _phrase_metastases,
    FactKey.METASTATIC_SURVEY: lambda c: f"metastatic work-up {DESCRIBERS[FactKey.METASTATIC_SURVEY][1](c)}",
    FactKey.BONE_MARROW: lambda c: f"marrow {_marrow(c)}",
    FactKey.FUNCTIONAL_IMAGING: _imaging,
    FactKey.MIBG_AVIDITY: lambda c: {Presence.PRESENT: "MIBG-avid primary",
                                     Presence.ABSENT: "primary not MIBG-avid"}.get(c.primary_mibg_avid,
                                                                                  "MIBG avidity not recorded"),
    FactKey.MYCN: lambda c: f"MYCN {_mycn(c)}",
    FactKey.CHR_11Q: lambda c: _words(FactKey.CHR_11Q, c.chr11q_aberration, "11q not recorded"),
    FactKey.CHR_1P: lambda c: {Presence.PRESENT: "1p aberration", Presence.ABSENT: "no 1p aberration"}.get(
        c.chr1p_aberration, "1p not recorded"),
    FactKey.PLOIDY: _ploidy,
    FactKey.INPC: lambda c: _inpc(c, "INPC class not recorded"),
    FactKey.MKI: lambda c: _words(FactKey.MKI, c.mki, "MKI not recorded"),
    FactKey.HISTOLOGY: lambda c: DESCRIBERS[FactKey.HISTOLOGY][1](c),
    FactKey.GRADE: lambda c: _words(FactKey.GRADE, c.grade, "grade not recorded"),
    FactKey.SYMPTOMS: lambda c: _words(FactKey.SYMPTOMS, c.ms_symptoms, "MS symptoms not recorded"),
    FactKey.RESECTION: lambda c: f"resection {_resection(c)}",
    FactKey.NODES_IPSILATERAL: lambda c: _words(FactKey.NODES_IPSILATERAL, c.nodes_ipsilateral,
                                                "ipsilateral nodes not recorded"),
    FactKey.NODES_CONTRALATERAL: lambda c: _words(FactKey.NODES_CONTRALATERAL, c.nodes_contralateral,
                                                  "contralateral nodes not recorded"),
    FactKey.MIDLINE: lambda c: _words(FactKey.MIDLINE, c.midline_infiltration, "midline infiltration not recorded"),
}


def fact_phrase(case: Case, fact: FactKey) -> str:
    """The fact as a phrase of a sentence: ``liver metastases``, ``marrow 5 % tumour cells by morphology``."""
    if fact in _PHRASES:
        return _PHRASES[fact](case)
    return f"{lower_first(fact_label(fact))}: {fact_value(case, fact)}"
