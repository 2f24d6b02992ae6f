"""The IDRF catalogue (Monclair 2009, Table 1) and the relation rules (Brisse 2011; clinical-rules §2.2–2.3)."""

from __future__ import annotations

import pytest

from neuroblastoma.facts import Presence
from neuroblastoma.idrf import (
    IDRF_BY_CODE,
    IDRF_CATALOGUE,
    IdrfCode,
    IdrfFinding,
    SpinalCanalFinding,
    StructureKind,
    StructureRelation,
    assess_idrf,
    relation_counts,
    spinal_canal_counts,
)

P, A, U = Presence.PRESENT, Presence.ABSENT, Presence.UNKNOWN
K, R = StructureKind, StructureRelation


# --- The catalogue -------------------------------------------------------------------------------------

def test_catalogue_has_twenty_rows_numbered_one_to_twenty() -> None:
    assert [d.number for d in IDRF_CATALOGUE] == list(range(1, 21))


def test_catalogue_codes_are_unique_and_cover_the_code_list() -> None:
    codes = [d.code for d in IDRF_CATALOGUE]
    assert len(set(codes)) == 20
    assert set(codes) == set(IdrfCode)
    assert set(IDRF_BY_CODE) == set(IdrfCode)


@pytest.mark.parametrize("definition", IDRF_CATALOGUE, ids=lambda d: d.code.value)
def test_code_value_matches_row_number(definition) -> None:
    assert definition.code.value == f"IDRF-{definition.number:02d}"
    assert definition.wording


# --- Every relation × structure kind -----------------------------------------------------------------
# Expected values written from clinical-rules.md §2.2–2.3 (Brisse 2011), not from the code.
# Columns: ARTERY, VEIN, RENAL_VESSEL, INFERIOR_MESENTERIC_ARTERY, AIRWAY, NERVE, ORGAN.
KINDS = (K.ARTERY, K.VEIN, K.RENAL_VESSEL, K.INFERIOR_MESENTERIC_ARTERY, K.AIRWAY, K.NERVE, K.ORGAN)
EXPECTED: dict[StructureRelation, tuple[Presence, ...]] = {
    # A visible separating layer is never an IDRF.
    R.SEPARATION: (A, A, A, A, A, A, A),
    # Contact (< 50 %) is not an IDRF, except with the renal vessels.
    R.CONTACT: (A, A, P, A, A, A, A),
    # "Flattened" describes veins; a flattened renal vein is at least contact, which counts.
    R.FLATTENED_LUMEN_VISIBLE: (U, A, P, A, U, U, U),
    # A flattened vein without visible lumen counts as encased.
    R.FLATTENED_NO_LUMEN: (U, P, P, A, U, U, U),
    # Encasement of a vital structure is an IDRF; for airways only compression is defined; the IMA is
    # not a vital structure.
    R.ENCASEMENT: (P, P, P, A, U, P, P),
    # Compression applies to airways only.
    R.COMPRESSION: (U, U, U, A, P, U, U),
    # Infiltration is the term for structures other than vessels (organs, airways, nerves) and counts;
    # the renal pedicle counts; vessel-wall infiltration cannot be judged on imaging.
    R.INFILTRATION: (U, U, P, A, P, P, P),
    # Extension into a structure (skull base, sciatic notch, another organ).
    R.EXTENSION: (U, U, U, A, U, U, P),
}
RELATION_TABLE = [
    pytest.param(kind, relation, expected, id=f"{relation.value}-{kind.value}")
    for relation, row in EXPECTED.items()
    for kind, expected in zip(KINDS, row, strict=True)
]


def test_table_covers_every_relation_and_kind() -> None:
    assert set(EXPECTED) == set(StructureRelation)
    assert set(KINDS) == set(StructureKind)


@pytest.mark.parametrize(("kind", "relation", "expected"), RELATION_TABLE)
def test_relation_counts(kind: StructureKind, relation: StructureRelation, expected: Presence) -> None:
    presence, reason = relation_counts(kind, relation)
    assert presence is expected
    assert reason


@pytest.mark.parametrize(
    ("kind", "relation", "expected"),
    [
        pytest.param(K.RENAL_VESSEL, R.CONTACT, P, id="renal-contact-counts"),
        pytest.param(K.ARTERY, R.CONTACT, A, id="artery-contact-does-not"),
        pytest.param(K.VEIN, R.FLATTENED_NO_LUMEN, P, id="flattened-vein-without-lumen-counts"),
        pytest.param(K.VEIN, R.FLATTENED_LUMEN_VISIBLE, A, id="flattened-vein-with-lumen-does-not"),
        pytest.param(K.INFERIOR_MESENTERIC_ARTERY, R.ENCASEMENT, A, id="ima-encasement-does-not"),
        pytest.param(K.ARTERY, R.COMPRESSION, U, id="compression-of-a-vessel-is-unknown"),
        pytest.param(K.AIRWAY, R.COMPRESSION, P, id="airway-compression-counts"),
    ],
)
def test_named_relation_rules(kind: StructureKind, relation: StructureRelation, expected: Presence) -> None:
    assert relation_counts(kind, relation)[0] is expected


# --- Intraspinal extension (IDRF-19) -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("finding", "expected"),
    [
        pytest.param(SpinalCanalFinding(0.34, U, A, A), P, id="fraction-0.34-over-a-third"),
        pytest.param(SpinalCanalFinding(0.33, U, A, A), A, id="fraction-0.33-not-over-a-third"),
        pytest.param(SpinalCanalFinding(1 / 3, U, A, A), A, id="exactly-a-third-is-not-more"),
        pytest.param(SpinalCanalFinding(0.33, A, A, A), A, id="fraction-and-call-agree"),
        pytest.param(SpinalCanalFinding(0.33, P, A, A), U, id="fraction-contradicts-call-undecided"),
        pytest.param(SpinalCanalFinding(None, P, A, A), P, id="canal-call-over-a-third"),
        pytest.param(SpinalCanalFinding(0.1, U, P, A), P, id="leptomeninges-obliterated"),
        pytest.param(SpinalCanalFinding(0.1, U, A, P), P, id="cord-signal-abnormal"),
        pytest.param(SpinalCanalFinding(0.1, U, U, A), U, id="leptomeninges-unknown"),
        pytest.param(SpinalCanalFinding(), U, id="nothing-reported"),
    ],
)
def test_spinal_canal_counts(finding: SpinalCanalFinding, expected: Presence) -> None:
    assert spinal_canal_counts(finding)[0] is expected


def test_spinal_fraction_outside_zero_to_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="fraction"):
        SpinalCanalFinding(axial_canal_fraction=34)


# --- The call and the relation together ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("finding", "presence", "conflict"),
    [
        pytest.param(IdrfFinding(IdrfCode.ABDOMEN_AORTA_CAVA, P), P, False, id="call-only-present"),
        pytest.param(IdrfFinding(IdrfCode.ABDOMEN_AORTA_CAVA, A), A, False, id="call-only-absent"),
        pytest.param(IdrfFinding(IdrfCode.ABDOMEN_AORTA_CAVA), U, False, id="not-assessed"),
        pytest.param(IdrfFinding(IdrfCode.ABDOMEN_AORTA_CAVA, U, K.ARTERY, R.ENCASEMENT), P, False,
                     id="relation-decides-without-call"),
        pytest.param(IdrfFinding(IdrfCode.ABDOMEN_AORTA_CAVA, P, K.ARTERY, R.ENCASEMENT), P, False,
                     id="call-and-relation-agree"),
        pytest.param(IdrfFinding(IdrfCode.ABDOMEN_AORTA_CAVA, P, K.ARTERY, R.CONTACT), U, True,
                     id="present-call-contradicts-contact"),
        pytest.param(IdrfFinding(IdrfCode.ABDOMEN_RENAL_PEDICLE, A, K.RENAL_VESSEL, R.CONTACT), U, True,
                     id="absent-call-contradicts-renal-contact"),
        pytest.param(IdrfFinding(IdrfCode.ABDOMEN_AORTA_CAVA, P, K.ARTERY, R.COMPRESSION), P, False,
                     id="call-stands-when-relation-term-does-not-apply"),
        pytest.param(IdrfFinding(IdrfCode.INTRASPINAL, A, spinal_canal=SpinalCanalFinding(0.5)), U, True,
                     id="spinal-criteria-contradict-call"),
        pytest.param(IdrfFinding(IdrfCode.INTRASPINAL, spinal_canal=SpinalCanalFinding(0.2, U, A, A)), A, False,
                     id="intraspinal-extension-below-criteria-is-not-an-idrf"),
        pytest.param(IdrfFinding(IdrfCode.INTRASPINAL, P, spinal_canal=SpinalCanalFinding(0.2, P, A, A)), U, True,
                     id="measured-fraction-contradicts-canal-call"),
        pytest.param(IdrfFinding(IdrfCode.INTRASPINAL, spinal_canal=SpinalCanalFinding(0.2, P, P, A)), P, False,
                     id="contradiction-irrelevant-when-another-criterion-holds"),
    ],
)
def test_assess_idrf(finding: IdrfFinding, presence: Presence, conflict: bool) -> None:
    assessment = assess_idrf(finding)
    assert assessment.presence is presence
    assert assessment.conflict is conflict
    assert assessment.code is finding.code
    assert assessment.reason


def test_assessment_keeps_the_source() -> None:
    finding = IdrfFinding(IdrfCode.ABDOMEN_RENAL_PEDICLE, P, source="Observation/idrf-15")
    assert assess_idrf(finding).source == "Observation/idrf-15"
