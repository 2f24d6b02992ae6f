"""Our CodeSystems for the staging facts: IDRFs, tumour–structure relations, geography, metastases,
bone marrow and functional imaging.

No standard terminology codes an individual IDRF, a Brisse 2011 relation term, an INRGSS body
compartment or the marrow and scan findings INRGSS MS needs (clinical-rules.md §2.4, §6.4), so
these are ours. Where a standard code is a plausible candidate its definition names it.
"""

from __future__ import annotations

from fhir_mappings.terminology.model import Concept, LocalCodeSystem, PropertyDef, PropertyType
from neuroblastoma.idrf import IDRF_CATALOGUE, RECORDED_CONDITION_WORDING, RecordedCondition

MONCLAIR = "Monclair et al., J Clin Oncol 2009;27:298-303"
BRISSE = "Brisse et al., Radiology 2011;261:243-257 (INRG imaging consensus)"

# ---- idrf --------------------------------------------------------------------------------------

_RECORDED_DEFINITION = {
    RecordedCondition.MULTIFOCAL_PRIMARY: (
        "Synchronous multifocal primary tumours. Recorded, not an IDRF ({m}, Table 1 footnote). "
        "Each primary is staged and the greatest extent reported (product decision 9)."
    ),
    RecordedCondition.PLEURAL_EFFUSION: (
        "Pleural effusion, with or without malignant cells. Recorded, not an IDRF ({m}, Table 1 footnote); "
        "metastatic only when remote from the primary's body compartment ({b})."
    ),
    RecordedCondition.ASCITES: (
        "Ascites, with or without malignant cells. Recorded, not an IDRF ({m}, Table 1 footnote); "
        "metastatic only when remote from the primary's body compartment ({b})."
    ),
}

IDRF = LocalCodeSystem(
    name="idrf",
    title="Image-defined risk factors (INRGSS)",
    description=(
        f"The 20 image-defined risk factors of the INRG staging system ({MONCLAIR}, Table 1, as reproduced "
        "verbatim in Pediatr Blood Cancer 2021;68 Suppl 2:e28473, Egypt J Radiol Nucl Med 2020 and Cancer "
        "Imaging 2015;15:5), numbered in the table's order, plus the three conditions the table says to "
        "record but not to count as IDRFs. No SNOMED CT, LOINC or NCIt code exists for an individual IDRF. "
        "Used as Observation.code of one Observation per assessed IDRF (value present/absent)."
    ),
    properties=(
        PropertyDef("number", PropertyType.INTEGER, "Row number in Monclair 2009 Table 1 (1-20)."),
        PropertyDef("region", PropertyType.STRING, "Anatomical region heading of the row in Table 1."),
        PropertyDef(
            "recordedNotIdrf", PropertyType.BOOLEAN,
            "True for conditions that are recorded but are not IDRFs (Table 1 footnote).",
        ),
    ),
    concepts=(
        *(
            Concept(
                code=d.code.value,
                display=f"{d.region.value[:1].upper()}{d.region.value[1:]}: {d.wording}",
                definition=(
                    f"{d.wording}. Region: {d.region.value}. Image-defined risk factor {d.number} of 20, "
                    f"{MONCLAIR}, Table 1."
                ),
                properties=(("number", d.number), ("region", d.region.value), ("recordedNotIdrf", False)),
            )
            for d in IDRF_CATALOGUE
        ),
        *(
            Concept(
                code=condition.value,
                display=f"{RECORDED_CONDITION_WORDING[condition]} (recorded, not an IDRF)",
                definition=_RECORDED_DEFINITION[condition].format(m=MONCLAIR, b=BRISSE),
                properties=(("recordedNotIdrf", True),),
            )
            for condition in RecordedCondition
        ),
    ),
)

# ---- structure-relation, structure-kind ------------------------------------------------------

STRUCTURE_RELATION = LocalCodeSystem(
    name="structure-relation",
    title="Tumour-structure relation (Brisse 2011)",
    description=(
        f"The terms the INRG imaging consensus ({BRISSE}) uses for how a tumour relates to a vessel, airway, "
        "nerve or organ; they decide whether an IDRF is present. Used as a component of an IDRF Observation."
    ),
    concepts=(
        Concept("separation", "Separation",
                f"A visible layer (usually fat) lies between tumour and structure: not an IDRF ({BRISSE})."),
        Concept("contact", "Contact",
                "No visible separating layer; for an artery the tumour touches less than 50 % of the "
                f"circumference: not an IDRF, except at the renal pedicle, where contact counts ({BRISSE})."),
        Concept("flattened-lumen-visible", "Flattened vein, lumen visible",
                f"A vein of reduced calibre whose lumen is still partly visible: not an IDRF ({BRISSE})."),
        Concept("flattened-no-lumen", "Flattened vein, no visible lumen",
                f"A flattened vein with no visible lumen counts as encased: an IDRF ({BRISSE})."),
        Concept("encasement", "Encasement",
                "The structure is surrounded by tumour; for a vessel, tumour contacts more than 50 % of the "
                f"circumference: an IDRF ({BRISSE}). Exactly 50 % is not defined by the source."),
        Concept("compression", "Compression",
                "Applies to airways only: contact that reduces the airway's short axis is an IDRF "
                f"({BRISSE})."),
        Concept("infiltration", "Infiltration",
                "For structures other than vessels: margins between tumour and organ are absent or "
                f"ill-defined; an IDRF. Vessel-wall infiltration cannot be judged on imaging ({BRISSE})."),
        Concept("extension", "Extension",
                "Tumour extends into a named structure or space, such as the skull base, the sciatic notch "
                f"or another compartment ({MONCLAIR}, Table 1, IDRFs 1, 3 and 18)."),
    ),
)

STRUCTURE_KIND = LocalCodeSystem(
    name="structure-kind",
    title="Kind of structure an IDRF relation concerns",
    description=(
        f"The kind of structure a reported tumour-structure relation concerns; the relation rules of {BRISSE} "
        "depend on it (e.g. 'flattened' applies to veins, 'compression' to airways)."
    ),
    concepts=(
        Concept("artery", "Artery", f"An artery other than the renal and inferior mesenteric arteries ({BRISSE})."),
        Concept("vein", "Vein", f"A vein other than the renal veins; 'flattened' applies to veins ({BRISSE})."),
        Concept("renal-vessel", "Renal pedicle vessel",
                f"Renal artery or vein: contact alone is an IDRF ({BRISSE}; {MONCLAIR} IDRF 15)."),
        Concept("inferior-mesenteric-artery", "Inferior mesenteric artery",
                f"Not a vital structure: encasing it is not an IDRF ({BRISSE})."),
        Concept("airway", "Airway", f"Trachea or principal bronchus; only compression is defined ({BRISSE})."),
        Concept("nerve", "Nerve", f"Nerve or plexus, e.g. brachial plexus roots ({MONCLAIR} IDRF 5)."),
        Concept("organ", "Organ or named structure",
                "An adjacent organ or named structure (pericardium, diaphragm, kidney, liver, "
                f"duodeno-pancreatic block, mesentery, skull base, sciatic notch) ({MONCLAIR} IDRFs 3, 18, 20)."),
    ),
)

# ---- geography --------------------------------------------------------------------------------

BODY_COMPARTMENT = LocalCodeSystem(
    name="body-compartment",
    title="INRGSS body compartment",
    description=(
        f"The four body compartments of INRGSS stage L1 ('confined to one body compartment', {MONCLAIR}). "
        "No standard code names the compartment itself; organ body-site codes (e.g. SNOMED CT 23451007 "
        "adrenal structure) are mapped to a compartment in the body-compartment ValueSet."
    ),
    concepts=(
        Concept("neck", "Neck", f"Neck compartment ({MONCLAIR}; IDRF-T neck-chest boundary)."),
        Concept("chest", "Chest", f"Thoracic compartment, including the mediastinum ({MONCLAIR})."),
        Concept("abdomen", "Abdomen", f"Abdominal compartment, including the retroperitoneum ({MONCLAIR})."),
        Concept("pelvis", "Pelvis", f"Pelvic compartment ({MONCLAIR})."),
    ),
)

LATERALITY = LocalCodeSystem(
    name="laterality",
    title="Side of a tumour or extension",
    description=(
        "Side of a primary tumour, extension or node, as INRGSS needs it: ipsilateral extension is "
        f"locoregional, contralateral non-contiguous extension is metastatic ({BRISSE}). SNOMED CT 7771000 "
        "(left), 24028007 (right) and 51440002 (right and left) are accepted for the same meanings; no "
        "verified SNOMED CT code for 'midline' was found, so 'midline' is coded here."
    ),
    concepts=(
        Concept("left", "Left", "Left side (SNOMED CT 7771000 accepted as equivalent)."),
        Concept("right", "Right", "Right side (SNOMED CT 24028007 accepted as equivalent)."),
        Concept("midline", "Midline",
                f"A midline tumour, which has no opposite side; INRGSS does not use the midline ({MONCLAIR})."),
        Concept("bilateral", "Bilateral", "Both sides (SNOMED CT 51440002 accepted as equivalent)."),
    ),
)

NODAL_REGION = LocalCodeSystem(
    name="nodal-region",
    title="Lymph node region",
    description=(
        "Where an involved lymph node lies, as far as INRGSS needs it to decide regional (locoregional) versus "
        f"distant (metastatic) nodal disease ({BRISSE}). Regional versus distant is computed from this region "
        "and the primary's compartment; no code carries 'distant' itself."
    ),
    concepts=(
        Concept("cervical", "Cervical lymph nodes", "Neck nodes (compartment: neck)."),
        Concept("mediastinal", "Mediastinal lymph nodes", "Mediastinal or other intrathoracic nodes (chest)."),
        Concept("lower-mediastinal", "Lower mediastinal lymph nodes",
                "Lower mediastinal nodes: with an upper abdominal primary they are locoregional, not "
                f"metastatic ({BRISSE})."),
        Concept("abdominal", "Abdominal lymph nodes", "Intra-abdominal or retroperitoneal nodes (abdomen)."),
        Concept("pelvic", "Pelvic lymph nodes", "Intrapelvic nodes (pelvis)."),
        Concept("inguinal", "Inguinal lymph nodes",
                f"Inguinal nodes: with a pelvic primary they are locoregional ({BRISSE}); otherwise outside "
                "the body cavities."),
        Concept("axillary", "Axillary lymph nodes", "Axillary nodes, outside the four compartments."),
        Concept("other", "Other lymph nodes",
                "Nodes outside the four body cavities not listed above; metastatic when outside the primary's "
                f"body cavity ({BRISSE})."),
    ),
)

METASTATIC_SITE = LocalCodeSystem(
    name="metastatic-site",
    title="Distant metastatic site",
    description=(
        f"Distant metastatic sites as INRGSS distinguishes them: MS allows only skin, liver and bone marrow "
        f"({MONCLAIR}). Standard body-structure, secondary-neoplasm (SNOMED CT) and ICD-10-CM C78-C79 codes "
        "are accepted for the same sites in the metastatic-site ValueSet."
    ),
    concepts=(
        Concept("bone", "Bone (cortical)",
                f"Cortical bone metastasis; excludes MS ({MONCLAIR}). SNOMED CT 272673000/119186007, 94222008; "
                "ICD-10-CM C79.51."),
        Concept("bone-marrow", "Bone marrow",
                "Bone marrow involvement; allowed in MS when < 10 % of nucleated cells "
                f"({MONCLAIR}; {BRISSE}). SNOMED CT 14016003; ICD-10-CM C79.52. SNOMED CT 94217008 is a "
                "candidate for the disorder but was seen in only one source and is not accepted."),
        Concept("liver", "Liver", f"Liver metastasis; allowed in MS ({MONCLAIR}). SNOMED CT 10200004, 94381002."),
        Concept("skin", "Skin",
                f"Skin (subcutaneous) metastasis; allowed in MS ({MONCLAIR}). SNOMED CT 39937001; ICD-10-CM "
                "C79.2. SNOMED CT 94579000 is a candidate disorder code seen in one source only."),
        Concept("distant-lymph-node", "Distant lymph node",
                "Lymph-node involvement reported as distant (non-regional): metastatic disease "
                f"({BRISSE}). When the report gives only a nodal region, distance is computed instead."),
        Concept("lung", "Lung", f"Pulmonary metastasis; excludes MS ({MONCLAIR}). SNOMED CT 39607008, 94391008."),
        Concept("cns", "Central nervous system",
                f"Brain or meningeal metastasis; excludes MS ({MONCLAIR}). SNOMED CT 12738006, 94225005."),
        Concept("pleura", "Pleura",
                f"Pleural metastasis remote from the primary's compartment; excludes MS ({BRISSE}). "
                "ICD-10-CM C78.2."),
        Concept("other", "Other distant site", "Any other distant site; excludes MS."),
    ),
)

# ---- marrow, functional imaging ----------------------------------------------------------------

MARROW = LocalCodeSystem(
    name="marrow",
    title="Bone marrow assessment",
    description=(
        "Observation codes and methods for the bone-marrow assessment INRGSS MS needs: involvement must be "
        f"< 10 % of nucleated cells ({MONCLAIR}; {BRISSE}). No LOINC code for 'tumour cells % in marrow' was "
        "found (clinical-rules §6.4)."
    ),
    properties=(PropertyDef("use", PropertyType.CODE, "observation-code or method."),),
    concepts=(
        Concept("tumour-cell-percent", "Neuroblastoma cells in bone marrow (% of nucleated cells)",
                "Percentage of nucleated marrow cells that are tumour cells, on aspirate smears or trephine "
                f"biopsy, by morphology (PDQ; {BRISSE}). valueQuantity in UCUM '%'.",
                (("use", "observation-code"),)),
        Concept("involvement", "Bone marrow involvement by neuroblastoma",
                "Whether the bone marrow is involved by tumour (bilateral aspirates and trephines, PDQ); value "
                "present/absent.",
                (("use", "observation-code"),)),
        Concept("morphology", "Morphology (smears or trephine histology)",
                f"Marrow assessed by cytomorphology or histology: the method the MS 10 % rule refers to ({BRISSE}).",
                (("use", "method"),)),
        Concept("immunocytology", "Immunocytology",
                "Marrow assessed by immunocytology (e.g. GD2). No source says how INRGSS treats involvement "
                "seen only by this method (clinical-rules §1.2 ⚠); flagged.",
                (("use", "method"),)),
        Concept("rt-pcr", "RT-PCR",
                "Marrow assessed by RT-PCR for neuroblastoma mRNA. No source says how INRGSS treats involvement "
                "seen only by this method (clinical-rules §1.2 ⚠); flagged.",
                (("use", "method"),)),
    ),
)

FUNCTIONAL_IMAGING = LocalCodeSystem(
    name="functional-imaging",
    title="Functional imaging findings",
    description=(
        "Observation codes for whole-body functional imaging results that INRGSS MS depends on: if the "
        "primary is MIBG-avid, MIBG must be negative in bone and bone marrow; otherwise a 99mTc-MDP bone scan "
        f"(or FDG-PET, PDQ 2025) must be ({BRISSE}). A LOINC 'MIBG scan' code (72231-4) was seen only in one "
        "non-authoritative source and is not used (clinical-rules §6.4)."
    ),
    properties=(PropertyDef("use", PropertyType.CODE, "observation-code, method or interpretation."),),
    concepts=(
        Concept("mibg-bone", "MIBG uptake in bone",
                f"123I-MIBG scintigraphy: abnormal uptake in (cortical) bone; value present/absent ({BRISSE}).",
                (("use", "observation-code"),)),
        Concept("mibg-bone-marrow", "MIBG uptake in bone marrow",
                f"123I-MIBG scintigraphy: abnormal uptake in bone marrow; value present/absent ({BRISSE}).",
                (("use", "observation-code"),)),
        Concept("mdp-bone", "99mTc-MDP bone scan uptake in bone",
                "99mTc-MDP bone scintigraphy: abnormal uptake in bone; required negative for MS when the "
                f"primary is not MIBG-avid ({BRISSE}).",
                (("use", "observation-code"),)),
        Concept("mdp-bone-marrow", "99mTc-MDP bone scan: bone marrow involvement",
                f"99mTc-MDP bone scintigraphy read as showing bone-marrow involvement ({BRISSE}).",
                (("use", "observation-code"),)),
        Concept("fdg-pet-bone", "FDG-PET uptake in bone",
                "18F-FDG PET: abnormal uptake in bone; used for MIBG-non-avid tumours (PDQ 2025; "
                "clinical-rules §1.2 ⚠ modality drift).",
                (("use", "observation-code"),)),
        Concept("fdg-pet-bone-marrow", "FDG-PET uptake in bone marrow",
                "18F-FDG PET: abnormal uptake in bone marrow; used for MIBG-non-avid tumours (PDQ 2025).",
                (("use", "observation-code"),)),
        Concept("mibg-avidity-primary", "MIBG avidity of the primary tumour",
                f"Whether the primary tumour takes up MIBG; decides which scan MS requires ({BRISSE}). Value "
                "present (avid) / absent (not avid).",
                (("use", "observation-code"),)),
        Concept("mibg-scan", "123I-MIBG scintigraphy", "Whole-body 123I-MIBG scintigraphy (Observation.method).",
                (("use", "method"),)),
        Concept("mdp-bone-scan", "99mTc-MDP bone scintigraphy", "Whole-body 99mTc-MDP bone scan (Observation.method).",
                (("use", "method"),)),
        Concept("fdg-pet", "18F-FDG PET", "18F-FDG positron emission tomography (Observation.method).",
                (("use", "method"),)),
        Concept("equivocal-focus", "Equivocal focus",
                "A single focus whose nature is uncertain: one unequivocal distant MIBG-avid site suffices for "
                f"M/MS, but a single equivocal focus must be confirmed by other imaging or biopsy ({BRISSE}). "
                "Used as Observation.interpretation.",
                (("use", "interpretation"),)),
        Concept("focus-ruled-out", "Equivocal focus ruled out",
                "Value of a metastatic-site Observation: the equivocal focus at this site was ruled out by "
                f"cross-sectional imaging or biopsy ({BRISSE}); means absent, whatever the dates.",
                (("use", "value"),)),
        Concept("focus-confirmed", "Equivocal focus confirmed",
                "Value of a metastatic-site Observation: the equivocal focus at this site was confirmed as "
                f"metastatic by cross-sectional imaging or biopsy ({BRISSE}); means present, whatever the dates.",
                (("use", "value"),)),
    ),
)

STAGING_CODE_SYSTEMS: tuple[LocalCodeSystem, ...] = (
    IDRF, STRUCTURE_RELATION, STRUCTURE_KIND, BODY_COMPARTMENT, LATERALITY, NODAL_REGION, METASTATIC_SITE,
    MARROW, FUNCTIONAL_IMAGING,
)
