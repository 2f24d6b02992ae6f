"""Our CodeSystems for the biology and clinical facts: histology, MKI class, INPC, MYCN, ploidy, segmental
chromosome aberrations, MS symptoms and resection extent.

Product decision 11: each code names the call as the pathologist or laboratory reported it; the
service never derives a call from raw measurements. NCIt concepts seen in only one mapping
(clinical-rules.md §6.2 [1]) are named in definitions as candidates, not used as codes.
"""

from __future__ import annotations

from fhir_mappings.terminology.model import Concept, LocalCodeSystem, PropertyDef, PropertyType

SHIMADA = "Shimada et al., Cancer 1999 (INPC); PDQ Neuroblastoma Treatment, INPC table"
COHN = "Cohn et al., J Clin Oncol 2009;27:289-297"
IRWIN = "Irwin et al., J Clin Oncol 2021;39:3229-3241"
PDQ = "PDQ Neuroblastoma Treatment (Health Professional), 2025"
DECISION_11 = "reported call, never derived from measurements (product decision 11)"

HISTOLOGY = LocalCodeSystem(
    name="histology",
    title="Neuroblastic tumour histology: category and grade of differentiation",
    description=(
        f"INPC histologic categories and neuroblastic grades of differentiation ({SHIMADA}), as INRG 2009 uses "
        f"them ({COHN}). ICD-O-3 9500/3 (neuroblastoma) is accepted for the category; 9490/3 and 9490/0 name "
        "ganglioneuroblastoma and ganglioneuroma without the INPC subtype, so they do not decide a category. "
        "NCIt candidates (one mapping only, not used as codes) are named per concept."
    ),
    properties=(PropertyDef("axis", PropertyType.CODE, "category (histologic category) or grade (differentiation)."),),
    concepts=(
        Concept("neuroblastoma", "Neuroblastoma (Schwannian stroma-poor)",
                f"Neuroblastoma, Schwannian stroma-poor ({SHIMADA}). ICD-O-3 9500/3; NCIt candidate C3270.",
                (("axis", "category"),)),
        Concept("ganglioneuroblastoma-nodular", "Ganglioneuroblastoma, nodular",
                f"Ganglioneuroblastoma, nodular (composite; stroma-rich/stroma-dominant and stroma-poor) "
                f"({SHIMADA}). NCIt candidate C42058 (chicagopcdc nbl_v2.0 only).",
                (("axis", "category"),)),
        Concept("ganglioneuroblastoma-intermixed", "Ganglioneuroblastoma, intermixed",
                f"Ganglioneuroblastoma, intermixed (Schwannian stroma-rich) ({SHIMADA}); INRG group A when "
                f"L1/L2 ({COHN}). NCIt candidate C42057 (chicagopcdc nbl_v2.0 only).",
                (("axis", "category"),)),
        Concept("ganglioneuroma-maturing", "Ganglioneuroma, maturing",
                f"Ganglioneuroma, maturing subtype (Schwannian stroma-dominant) ({SHIMADA}); INRG group A when "
                f"L1/L2 ({COHN}). NCIt candidate C42064 (chicagopcdc nbl_v2.0 only).",
                (("axis", "category"),)),
        Concept("ganglioneuroma-mature", "Ganglioneuroma, mature",
                f"Ganglioneuroma, mature subtype (Schwannian stroma-dominant) ({SHIMADA}): benign and outside "
                "both risk schemas (product decision 3). ICD-O-3 9490/0 covers mature and maturing alike.",
                (("axis", "category"),)),
        Concept("undifferentiated", "Undifferentiated",
                f"Undifferentiated neuroblastic grade ({SHIMADA}); INRG 2009 L2 >= 18 months: group H ({COHN}). "
                "NCIt candidate C42046 (undifferentiated neuroblastoma; one class report only).",
                (("axis", "grade"),)),
        Concept("poorly-differentiated", "Poorly differentiated",
                f"Poorly differentiated neuroblastic grade ({SHIMADA}); INRG 2009 L2 >= 18 months: group H "
                f"({COHN}). NCIt candidate C42047 (one class report only).",
                (("axis", "grade"),)),
        Concept("differentiating", "Differentiating",
                f"Differentiating neuroblastic grade ({SHIMADA}); INRG 2009 L2 >= 18 months: group E or H by "
                f"11q ({COHN}). NCIt candidate C42048 (one class report only).",
                (("axis", "grade"),)),
    ),
)

MKI_CLASS = LocalCodeSystem(
    name="mki-class",
    title="Mitosis-karyorrhexis index (MKI) class",
    description=(
        f"The pathologist's mitosis-karyorrhexis index class of the neuroblastic cells ({SHIMADA}): mitotic or "
        "karyorrhectic cells per 5,000, for a neuroblastoma or the least favourable nodule of a nodular "
        "ganglioneuroblastoma (CAP neuroblastoma checklist); not assessable on bone marrow. With the histologic "
        "category, grade and age it decides the INPC class when the pathologist's call is not reported. The class is "
        "read as reported: reproductions disagree on a count of exactly 200 (100-200 intermediate, or 100-199 with "
        "200 or more high, PathologyOutlines). No LOINC code was found; NCIt C106317 'Mitosis-Karyorrhexis Index' "
        "(seen in two GitHub files) names the index, not its classes, and is not used."
    ),
    concepts=(
        Concept("low", "Low MKI", f"Fewer than 100 of 5,000 neuroblastic cells (< 2 %) ({SHIMADA})."),
        Concept("intermediate", "Intermediate MKI", f"100 to 200 of 5,000 neuroblastic cells (2-4 %) ({SHIMADA})."),
        Concept("high", "High MKI", f"More than 200 of 5,000 neuroblastic cells (> 4 %) ({SHIMADA})."),
    ),
)

INPC = LocalCodeSystem(
    name="inpc",
    title="International Neuroblastoma Pathology Classification prognostic group",
    description=(
        f"The pathologist's INPC favourable/unfavourable call ({SHIMADA}), used by COG 2021 ({IRWIN}). A reported "
        "call is always used; when none is reported, the service derives it from the histologic category, grade, "
        "MKI class and age (the INPC table; the nodule of a nodular ganglioneuroblastoma per Peuchmaur 2003) and "
        "says so, and a reported call that contradicts those parts is kept and named."
    ),
    concepts=(
        Concept("favourable", "Favourable histology (FH)",
                f"INPC favourable histology ({SHIMADA}; {IRWIN}). NCIt candidate C102560 (as mapped by "
                "chicagopcdc; label not seen, clinical-rules §6.2 ⚠)."),
        Concept("unfavourable", "Unfavourable histology (UH)",
                f"INPC unfavourable histology ({SHIMADA}; {IRWIN}). NCIt candidate C102561 (as mapped by "
                "chicagopcdc; label not seen, clinical-rules §6.2 ⚠)."),
    ),
)

MYCN_STATUS = LocalCodeSystem(
    name="mycn-status",
    title="MYCN status as the laboratory reported it",
    description=(
        f"The laboratory's categorical MYCN call ({DECISION_11}). LOINC 93796-1 (by FISH) reports amplification "
        "as present/absent and cannot say 'gain'; these codes can. MYCN copy numbers (LOINC 93797-9, 93798-7, "
        "Genomics Reporting 82155-3) are recorded, never used to decide amplification."
    ),
    concepts=(
        Concept("amplified", "MYCN amplified",
                f"MYCN amplification as reported by the laboratory; decides INRG groups K, N, O, R ({COHN}) and "
                f"COG high-risk rules ({IRWIN}). NCIt C36673 'NMYC Gene Amplification' is accepted as equivalent."),
        Concept("gain", "MYCN gain (not amplified)",
                "MYCN gain below the laboratory's amplification threshold. Counts as not amplified for staging and "
                "risk (clinical-rules §3.2)."),
        Concept("not-amplified", "MYCN not amplified",
                f"No MYCN amplification (NA in {COHN} Table and PDQ Table 3)."),
    ),
)

PLOIDY = LocalCodeSystem(
    name="ploidy",
    title="Tumour DNA ploidy category",
    description=(
        "The laboratory's ploidy category, used when no DNA index is reported (product decision 5). The two "
        f"schemas read it differently: INRG 2009 counts DNA index <= 1 (hypodiploid included) as diploid "
        f"({COHN}; INRG Data Commons dictionary), while COG treats hypodiploid (DI < 1) as favourable and only "
        f"DI = 1 as unfavourable ({PDQ} archived tables; ⚠ convention). No LOINC code for DNA index or ploidy "
        "was found."
    ),
    concepts=(
        Concept("hyperdiploid", "Hyperdiploid (DNA index > 1)",
                f"DNA index greater than 1. Favourable in INRG 2009 group F ({COHN}) and in COG 2021 ({IRWIN})."),
        Concept("diploid", "Diploid (DNA index = 1)",
                f"DNA index of 1. Unfavourable in both schemas (INRG groups I/J, {COHN}; COG, {IRWIN})."),
        Concept("hypodiploid", "Hypodiploid (DNA index < 1)",
                f"DNA index below 1. INRG 2009 counts it as diploid ({COHN}); COG treats it as favourable (archived "
                "PDQ COG tables; ⚠ convention, product decision 5)."),
    ),
)

SEGMENTAL_ABERRATION = LocalCodeSystem(
    name="segmental-aberration",
    title="Segmental chromosome aberration",
    description=(
        f"Segmental chromosome aberrations (SCA) in neuroblastoma, the panel PDQ lists ({PDQ}): losses of 1p, "
        f"3p, 4p and 11q, gains of 1q, 2p and 17q. INRG 2009 uses 11q only ({COHN}); COG 2021 uses 1p and/or "
        f"11q ({IRWIN}); the others are recorded and shown but decide nothing (product decision 6). Where counting "
        "them (ANBL1232; PDQ citing NCCN 2024; Schleiermacher 2012 for 17q) would change the COG result, the card "
        "says what it would give."
    ),
    concepts=(
        Concept("1p-loss", "1p loss", f"Loss (deletion/LOH) of chromosome arm 1p ({PDQ}). NCIt candidate C36501."),
        Concept("11q-loss", "11q loss",
                f"Unbalanced loss of chromosome arm 11q, as defined by the INRG Biology Committee ({COHN}). NCIt "
                "candidates C37312 and C36646 are different concepts (clinical-rules §6.2 ⚠); neither is used."),
        Concept("3p-loss", "3p loss", f"Loss of chromosome arm 3p ({PDQ})."),
        Concept("4p-loss", "4p loss", f"Loss of chromosome arm 4p ({PDQ})."),
        Concept("1q-gain", "1q gain", f"Gain of chromosome arm 1q ({PDQ})."),
        Concept("2p-gain", "2p gain", f"Gain of chromosome arm 2p ({PDQ})."),
        Concept("17q-gain", "17q gain", f"Gain of chromosome arm 17q ({PDQ}). NCIt candidate C36484 (one source)."),
    ),
)

SYMPTOMS = LocalCodeSystem(
    name="symptoms",
    title="Life-threatening symptoms in MS infants",
    description=(
        f"Symptoms that make an MS (4S) infant 'symptomatic'. COG 2021 low risk requires a documented "
        f"asymptomatic MS infant ({IRWIN}; product decision 7). The list is the legacy COG definition for 4S "
        "infants (archived PDQ COG table, footnote e); whether COG 2021 keeps it unchanged could not be "
        "confirmed (clinical-rules §4.3 ⚠)."
    ),
    properties=(PropertyDef("source", PropertyType.STRING, "Where the symptom is listed."),),
    concepts=(
        Concept("respiratory-distress", "Respiratory distress with or without hepatomegaly",
                "Respiratory distress, with or without hepatomegaly (legacy COG 4S symptom list).",
                (("source", "legacy COG 4S symptom list (archived PDQ, footnote e)"),)),
        Concept("cord-compression", "Cord compression with neurological deficit",
                "Spinal cord compression with neurological deficit (legacy COG 4S symptom list).",
                (("source", "legacy COG 4S symptom list (archived PDQ, footnote e)"),)),
        Concept("ivc-compression", "Inferior vena cava compression with renal ischaemia",
                "Inferior vena cava compression with renal ischaemia (legacy COG 4S symptom list).",
                (("source", "legacy COG 4S symptom list (archived PDQ, footnote e)"),)),
        Concept("genitourinary-obstruction", "Genitourinary obstruction",
                "Genitourinary obstruction (legacy COG 4S symptom list).",
                (("source", "legacy COG 4S symptom list (archived PDQ, footnote e)"),)),
        Concept("gastrointestinal-obstruction", "Gastrointestinal obstruction with vomiting",
                "Gastrointestinal obstruction and vomiting (legacy COG 4S symptom list).",
                (("source", "legacy COG 4S symptom list (archived PDQ, footnote e)"),)),
        Concept("coagulopathy", "Coagulopathy with significant bleeding",
                "Coagulopathy with significant clinical bleeding unresponsive to replacement therapy (legacy COG "
                "4S symptom list).",
                (("source", "legacy COG 4S symptom list (archived PDQ, footnote e)"),)),
        Concept("evolving-hepatomegaly-under-3-months", "Evolving hepatomegaly in an infant under 3 months",
                f"Evolving hepatomegaly in an infant younger than 3 months at diagnosis. COG 2021 ({IRWIN}, in the "
                f"{PDQ} intermediate-risk list: 'younger than 3 months with evolving hepatomegaly or symptomatic with "
                "all favorable biology') makes such an MS infant intermediate risk even with favourable biology; "
                "recorded as this symptom it makes the infant symptomatic, which gives the same result. For an "
                "infant under 3 months only (no day count is published; ANBL0531's amendment used 2 months).",
                (("source", "PDQ 2025 intermediate-risk list (Irwin 2021)"),)),
    ),
)

ALK_STATUS = LocalCodeSystem(
    name="alk-status",
    title="ALK alteration in the tumour",
    description=(
        f"ALK status as the laboratory reported it. Not an input of INRG 2009 ({COHN}) or COG 2021 ({IRWIN}): COG "
        "determines it for high-risk trial and targeted-therapy eligibility (ANBL1531: activating mutation with a "
        "variant allele frequency of 5 % or more, or amplification). LOINC 100019-9 was seen in one generated "
        "file only and is not used; the gene is HGNC:427."
    ),
    concepts=(
        Concept("mutation", "ALK activating mutation", "An activating ALK point mutation (ANBL1531)."),
        Concept("amplification", "ALK amplification", "ALK amplification (ANBL1531, St Jude arm E)."),
        Concept("not-altered", "No ALK alteration", "No ALK mutation or amplification found."),
    ),
)

RESECTION_EXTENT = LocalCodeSystem(
    name="resection-extent",
    title="Extent of resection of the primary tumour",
    description=(
        f"Extent of resection of the primary, needed only for COG 2021 L1 MYCN-amplified tumours: low risk if "
        f"completely resected, high if residual tumour ({IRWIN}; {PDQ} Table 3; product decision 4)."
    ),
    concepts=(
        Concept("complete", "Complete resection",
                f"The primary was completely resected with no residual tumour ({IRWIN}; PDQ Table 3)."),
        Concept("incomplete", "Incomplete resection (residual tumour)",
                f"The primary was resected but residual tumour remains ({IRWIN}; PDQ Table 3)."),
        Concept("not-resected", "Not resected",
                "The primary has not been resected (biopsy only or no surgery yet); for COG 2021 L1 "
                "MYCN-amplified the risk stays indeterminate until resection (product decision 4)."),
    ),
)

BIOLOGY_CODE_SYSTEMS: tuple[LocalCodeSystem, ...] = (
    HISTOLOGY, INPC, MYCN_STATUS, PLOIDY, SEGMENTAL_ABERRATION, SYMPTOMS, RESECTION_EXTENT, ALK_STATUS, MKI_CLASS,
)
