"""The case's facts as short readable values, for cards, the CLI and docs."""

from __future__ import annotations

from enum import Enum

from neuroblastoma.case import Case, FactKey


def _presence(value: object) -> str:
    return value.value if isinstance(value, Enum) else str(value)


def _imaging(case: Case) -> str:
    if not case.functional_imaging:
        return "not recorded"
    parts = [f"{scan.modality.value}: bone {scan.bone.value}, marrow {scan.bone_marrow.value}"
             + (" (equivocal)" if scan.equivocal else "") for scan in case.functional_imaging]
    return "; ".join(parts)


def _marrow(case: Case) -> str:
    marrow = case.bone_marrow
    text = f"involvement {marrow.involvement.value}"
    if marrow.tumour_cell_percent is not None:
        text += f", {marrow.tumour_cell_percent:g} % tumour cells"
    if marrow.method.value != "unknown":
        text += f" ({marrow.method.value})"
    return text


def _metastases(case: Case) -> str:
    if not case.metastases:
        return f"work-up conclusion: {case.metastatic_survey.value}"
    sites = [f"{m.site.value} {m.status.value}" + (" (equivocal)" if m.equivocal else "") for m in case.metastases]
    return ", ".join(sites)


def _ploidy(case: Case) -> str:
    if case.ploidy.dna_index is not None:
        return f"DNA index {case.ploidy.dna_index:g}"
    return case.ploidy.category.value if case.ploidy.category else "unknown"


def _age(case: Case) -> str:
    age = case.age
    return str(age) if age is not None else "unknown (birth or diagnosis date missing)"


def _primaries(case: Case) -> str:
    if not case.primaries:
        return "not recorded"
    return "; ".join(
        f"{p.label}: {p.compartment.value if p.compartment else 'compartment unknown'}, {p.side.value}"
        for p in case.primaries)


def _idrfs(case: Case) -> str:
    several = len(case.primaries) > 1
    findings = [f"{f.code.value} {f.status.value}" + (f" ({p.label})" if several else "")
                for p in case.primaries for f in p.idrfs]
    summary = ", ".join(f"summary {p.idrf_summary.value}" + (f" ({p.label})" if several else "")
                        for p in case.primaries)
    untied = case.unattributed
    loose = [*(f"{f.code.value} {f.status.value} (not tied to a primary)" for f in untied.idrfs),
             *(f"summary {c.presence.value} (not tied to a primary)" for c in untied.idrf_calls)]
    overall = case.idrf_all_primaries.presence
    every = [f"all primaries: {'no IDRF on any' if overall.value == 'absent' else 'an IDRF on one or more'}"
             ] if overall.known else []
    return "; ".join(filter(None, (", ".join(findings), summary, ", ".join(loose), *every))) or "not recorded"


DESCRIBERS = {
    FactKey.AGE: ("Age at diagnosis", _age),
    FactKey.PRIMARY_TUMOUR: ("Primary tumour", _primaries),
    FactKey.IDRF: ("Image-defined risk factors", _idrfs),
    FactKey.METASTASES: ("Distant metastases", _metastases),
    FactKey.BONE_MARROW: ("Bone marrow", _marrow),
    FactKey.FUNCTIONAL_IMAGING: ("MIBG / bone scan / FDG-PET", _imaging),
    FactKey.MIBG_AVIDITY: ("MIBG avidity of the primary", lambda c: _presence(c.primary_mibg_avid)),
    FactKey.HISTOLOGY: ("Histologic category", lambda c: _presence(c.histology)),
    FactKey.GRADE: ("Grade of differentiation", lambda c: _presence(c.grade)),
    FactKey.INPC: ("INPC histology", lambda c: _presence(c.inpc)),
    FactKey.MYCN: ("MYCN", lambda c: _presence(c.mycn)),
    FactKey.CHR_11Q: ("11q aberration", lambda c: _presence(c.chr11q_aberration)),
    FactKey.CHR_1P: ("1p aberration", lambda c: _presence(c.chr1p_aberration)),
    FactKey.PLOIDY: ("Ploidy", _ploidy),
    FactKey.SYMPTOMS: ("Symptoms (MS)", lambda c: _presence(c.ms_symptoms)),
    FactKey.RESECTION: ("Resection", lambda c: _presence(c.resection)),
}


# Rows that summarise several recorded facts cite the sources of all of them.
ROW_FACTS: dict[FactKey, tuple[FactKey, ...]] = {
    FactKey.METASTASES: (FactKey.METASTASES, FactKey.METASTATIC_SURVEY, FactKey.LYMPH_NODES, FactKey.EFFUSIONS),
    FactKey.PRIMARY_TUMOUR: (FactKey.PRIMARY_TUMOUR, FactKey.EXTENSION, FactKey.MULTIFOCALITY),
    FactKey.PLOIDY: (FactKey.PLOIDY,),
}


def describe_facts(case: Case) -> list[tuple[tuple[FactKey, ...], str, str]]:
    """(facts whose sources back the row, label, value) for every fact the rules read, in reading order."""
    return [(ROW_FACTS.get(fact, (fact,)), label, describe(case)) for fact, (label, describe) in DESCRIBERS.items()]
