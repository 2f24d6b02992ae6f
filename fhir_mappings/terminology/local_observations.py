"""Our Observation.code (and component.code) values for facts that have no standard LOINC code.

Where LOINC has a code it is preferred and accepted (e.g. 93796-1 MYCN amplification by FISH,
82244-5 1p36 deletion by FISH); these codes cover the same facts when reported by other methods
and every fact LOINC does not name (clinical-rules.md §6.4). The marrow and functional-imaging
observation codes live in their own CodeSystems (``marrow``, ``functional-imaging``), the IDRFs
and recorded conditions in ``idrf``.
"""

from __future__ import annotations

from fhir_mappings.terminology.model import Concept, LocalCodeSystem, PropertyDef, PropertyType

MONCLAIR = "Monclair et al., J Clin Oncol 2009;27:298-303"
BRISSE = "Brisse et al., Radiology 2011;261:243-257"
COHN = "Cohn et al., J Clin Oncol 2009;27:289-297"
IRWIN = "Irwin et al., J Clin Oncol 2021;39:3229-3241"
BRODEUR = "Brodeur et al., J Clin Oncol 1993;11:1466-1477 (INSS)"
PDQ = "PDQ Neuroblastoma Treatment (Health Professional), 2025"
PRESENCE_VALUE = "Value: present/absent (SNOMED CT 52101004/2667000 or LOINC LA9633-4/LA9634-2)."


def _obs(code: str, display: str, definition: str, use: str = "observation-code") -> Concept:
    return Concept(code, display, definition, (("use", use),))


OBSERVATION_CODES = LocalCodeSystem(
    name="observation-codes",
    title="Neuroblastoma staging and risk observation codes",
    description=(
        "Observation.code and Observation.component.code values for the facts the INRGSS, INRG 2009 and COG "
        "2021 rules read, where LOINC has no code (or only a method-specific one), and for the results this "
        "service writes. Each value is the call as the radiologist, pathologist or laboratory reported it "
        "(product decision 11)."
    ),
    properties=(PropertyDef("use", PropertyType.CODE, "observation-code, component-code or result-code."),),
    concepts=(
        # -- primary tumour, IDRFs, extension
        _obs("primary-tumour-site", "Primary tumour body compartment",
             f"The INRGSS body compartment of a primary tumour ({MONCLAIR}); value from body-compartment, side in a "
             "laterality component. Used when Condition.bodySite does not map to a compartment."),
        _obs("idrf-summary-all-primaries", "Image-defined risk factors: overall call for every primary",
             f"The radiologist's overall IDRF call over all synchronous primaries: absent is 'no IDRF on any "
             f"primary' (it stands for each primary's call), present is 'an IDRF on at least one primary' "
             f"({MONCLAIR}: multifocal primaries are each staged, the greatest extent reported). {PRESENCE_VALUE}"),
        _obs("idrf-summary", "Image-defined risk factors: overall call",
             f"The radiologist's overall IDRF call for one primary: present when at least one of the 20 IDRFs "
             f"is present, absent when the report states that none is ({MONCLAIR}). {PRESENCE_VALUE}"),
        _obs("idrf-structure-kind", "Kind of structure concerned by the IDRF", "Component of an IDRF Observation: "
             f"the kind of structure (structure-kind) the reported relation concerns ({BRISSE}).", "component-code"),
        _obs("idrf-structure-relation", "Tumour-structure relation", "Component of an IDRF Observation: the "
             f"Brisse 2011 relation term (structure-relation) the call rests on ({BRISSE}).", "component-code"),
        _obs("idrf-spinal-canal-fraction", "Fraction of the spinal canal invaded (axial plane)",
             "Component of the IDRF-19 Observation: fraction (0-1, UCUM '1') of the spinal canal invaded in the "
             f"axial plane; more than one third is an IDRF ({MONCLAIR}).", "component-code"),
        _obs("idrf-spinal-canal-over-one-third", "More than one third of the spinal canal invaded",
             f"Component of the IDRF-19 Observation ({MONCLAIR}). {PRESENCE_VALUE}", "component-code"),
        _obs("idrf-leptomeningeal-spaces-obliterated", "Perimedullary leptomeningeal spaces not visible",
             f"Component of the IDRF-19 Observation ({MONCLAIR}). {PRESENCE_VALUE}", "component-code"),
        _obs("idrf-cord-signal-abnormal", "Abnormal spinal cord signal",
             f"Component of the IDRF-19 Observation ({MONCLAIR}). {PRESENCE_VALUE}", "component-code"),
        _obs("tumour-extension", "Extension of the primary into another compartment",
             "Extension of a primary tumour into another body compartment: ipsilateral contiguous extension is "
             f"locoregional (IDRF 1), contralateral non-contiguous extension metastatic ({BRISSE}). Components: "
             "compartment, laterality, contiguous."),
        _obs("compartment", "Body compartment", "Component: the body compartment (body-compartment) concerned.",
             "component-code"),
        _obs("laterality", "Side", "Component: the side (laterality) of the primary, extension or node.",
             "component-code"),
        _obs("contiguous", "Contiguous with the primary",
             f"Component of tumour-extension: whether the extension is contiguous with the primary. {PRESENCE_VALUE}",
             "component-code"),
        # -- nodes, metastases, effusions
        _obs("nodal-involvement", "Lymph node involvement",
             "Involvement of a lymph node group; the region is in bodySite or a nodal-region component, the side "
             f"in a laterality component. Regional versus distant is computed ({BRISSE}). {PRESENCE_VALUE}"),
        _obs("nodal-region", "Lymph node region", "Component: the nodal-region of an involved node group.",
             "component-code"),
        _obs("metastatic-site", "Distant metastasis at a site",
             "Distant metastatic disease at one site (bodySite, or a metastatic-site component); "
             f"interpretation 'equivocal-focus' marks an unconfirmed focus ({BRISSE}). {PRESENCE_VALUE}"),
        _obs("metastatic-site-code", "Metastatic site", "Component: the metastatic-site concerned.",
             "component-code"),
        _obs("metastatic-work-up", "Metastatic work-up conclusion",
             "Conclusion of the complete metastatic work-up (functional imaging, bilateral marrow aspirates and "
             "trephines): present when distant metastatic disease was found, absent when the work-up found none "
             f"(PDQ; {BRISSE}). {PRESENCE_VALUE}"),
        _obs("effusion-malignant-cells", "Malignant cells in the effusion",
             "Component of a pleural-effusion or ascites Observation (idrf REC-PLEURAL-EFFUSION, REC-ASCITES): "
             f"whether malignant cells were found; not by itself metastatic ({BRISSE}). {PRESENCE_VALUE}",
             "component-code"),
        # -- pathology
        _obs("histologic-category", "Neuroblastic tumour histologic category (INPC)",
             f"INPC histologic category as the pathologist reported it (histology, axis category) ({COHN})."),
        _obs("differentiation-grade", "Grade of neuroblastic differentiation",
             f"Grade of differentiation of neuroblastoma or nodular ganglioneuroblastoma (histology, axis grade) "
             f"({COHN})."),
        _obs("mki-class", "Mitosis-karyorrhexis index (MKI) class",
             "The pathologist's MKI class (mki-class) of a neuroblastoma, or of the least favourable nodule of a "
             "nodular ganglioneuroblastoma (CAP checklist); with the category, grade and age it decides the INPC "
             "class when the call is not reported (Shimada 1999). No LOINC code found."),
        _obs("inpc-class", "INPC prognostic group (favourable/unfavourable histology)",
             f"The pathologist's INPC favourable/unfavourable call (inpc) ({IRWIN}). No LOINC code found."),
        # -- genomics
        _obs("mycn-status", "MYCN status",
             "The laboratory's categorical MYCN call (mycn-status) by any method. LOINC 93796-1 is preferred for "
             "FISH results; this code covers other methods and the 'gain' category."),
        _obs("11q-aberration", "11q aberration",
             f"Unbalanced 11q loss as the laboratory reported it ({COHN}; INRG Biology Committee). LOINC 84915-8 "
             f"(11q22.3 deletion cell count, the CLL ATM panel) is not a neuroblastoma 11q call and is not used. "
             f"{PRESENCE_VALUE}"),
        _obs("1p-aberration", "1p aberration",
             f"1p deletion/LOH as the laboratory reported it, by any method ({IRWIN}). LOINC 82244-5 (1p36 deletion "
             f"by FISH) is accepted for FISH results. {PRESENCE_VALUE}"),
        _obs("other-sca", "Other segmental chromosome aberration",
             "Another segmental aberration (segmental-aberration: 3p, 4p loss; 1q, 2p, 17q gain); recorded and "
             "shown, decides nothing (product decision 6); the card says when a wider SCA definition would change "
             "the COG result."),
        _obs("dna-index", "Tumour DNA index",
             "Tumour DNA index (DNA content relative to diploid), valueQuantity UCUM '1'; > 1 hyperdiploid, = 1 "
             "diploid, < 1 hypodiploid (product decision 5). No LOINC code found (clinical-rules §6.4)."),
        _obs("ploidy-category", "Tumour ploidy category",
             "The laboratory's ploidy category (ploidy), used when no DNA index is reported (product decision 5)."),
        # -- clinical
        _obs("ms-symptoms", "Life-threatening symptoms (MS infant)",
             "Whether an MS infant has life-threatening symptoms (symptoms lists them); absent means documented "
             f"asymptomatic, required for COG low risk ({IRWIN}; product decision 7). {PRESENCE_VALUE}"),
        _obs("resection-extent", "Extent of resection of the primary",
             f"Extent of resection of the primary (resection-extent) ({IRWIN}; product decision 4)."),
        # -- INSS (after surgery)
        _obs("microscopic-residual", "Microscopic residual tumour after complete gross excision",
             f"Microscopic residual disease at the margins after a complete gross excision; INSS stage 1 allows it "
             f"({BRODEUR}). Recorded and shown; decides nothing. {PRESENCE_VALUE}"),
        _obs("ipsilateral-nodes-histology", "Ipsilateral non-adherent lymph nodes positive on histology",
             f"Representative ipsilateral lymph nodes not attached to the primary, examined microscopically: "
             f"present (positive) makes INSS 2B, absent (negative) allows 1 or 2A ({BRODEUR}). Nodes removed with "
             f"the primary do not count. {PRESENCE_VALUE}"),
        _obs("contralateral-nodes-histology", "Contralateral regional lymph nodes positive on histology",
             f"Contralateral regional lymph nodes, examined microscopically: present makes INSS 3; absent when "
             f"negative, or when no contralateral node is enlarged (only enlarged ones must be examined) "
             f"({BRODEUR}). {PRESENCE_VALUE}"),
        _obs("midline-infiltration", "Tumour infiltrating across the midline",
             f"The tumour infiltrates to or beyond the opposite side of the vertebral column (a midline tumour: "
             f"bilateral extension by infiltration), from imaging or the operative findings; with an incomplete "
             f"gross excision it is INSS 3 ({BRODEUR}). {PRESENCE_VALUE}"),
        # -- the pretreatment work-up
        _obs("primary-longest-diameter", "Longest diameter of the primary tumour",
             f"Longest diameter of the primary, valueQuantity in cm or mm (UCUM). LOINC 33728-7 is accepted for the "
             f"same fact. With the cystic fraction and age it decides whether the COG criteria for observation "
             f"without biopsy of a small adrenal mass in an infant under 6 months are met ({PDQ}; Nuchtern 2012)."),
        _obs("primary-cystic-fraction", "Cystic fraction of the primary tumour",
             f"Percentage of the primary's volume that is cystic, valueQuantity in % (0-100): 25 % or more is the "
             f"'cystic' arm of the small-adrenal-mass criteria ({PDQ}; Nuchtern 2012)."),
        _obs("paraspinal-primary", "Paraspinal primary tumour",
             f"The primary lies next to the spine (paraspinal, or in the neural foramina): MRI of the adjacent spine "
             f"is part of the staging evaluation ({PDQ}). {PRESENCE_VALUE}"),
        _obs("cord-compression-signs", "Signs of spinal cord or nerve-root compression",
             f"Clinical signs or symptoms of spinal cord or nerve-root compression: spine MRI is required, and cord "
             f"compression is an emergency ({PDQ}). {PRESENCE_VALUE}"),
        _obs("alk-status", "ALK alteration in the tumour",
             f"ALK status (alk-status: mutation, amplification, not altered). Not an input of INRG 2009 or COG "
             f"2021; COG determines it for high-risk trial and targeted-therapy eligibility (ANBL1531; {PDQ})."),
        _obs("mibg-curie-score", "MIBG Curie score at diagnosis",
             f"Semi-quantitative MIBG score by the (modified) Curie method: 9 skeletal segments and one soft-tissue "
             f"segment scored 0-3, total 0-30 (valueQuantity, UCUM '1') ({PDQ}; Brisse 2011 recommends a "
             f"semi-quantitative score). Recorded and shown; decides nothing."),
        _obs("mibg-siopen-score", "MIBG SIOPEN score at diagnosis",
             f"Semi-quantitative MIBG score by the SIOPEN method: 12 skeletal segments scored 0-6, total 0-72, bone "
             f"only (valueQuantity, UCUM '1') ({PDQ}; Ladenstein 2018). Recorded and shown; decides nothing."),
        # -- results written by this service
        _obs("inrg-2009-risk-group", "INRG 2009 pretreatment risk group",
             f"Result: the INRG 2009 pretreatment group (inrg-pretreatment-group) and risk level ({COHN}). mCODE "
             "has no neuroblastoma risk profile or code; NCIt C192760 was seen paired with stage values in one "
             "draft and is not used (clinical-rules §6.1 ⚠).", "result-code"),
        _obs("inrg-2009-risk-level", "INRG 2009 risk level of the pretreatment group",
             f"Component of the INRG 2009 result: the group's risk level (inrg-2009-risk, with the generic "
             f"mCODE risk code alongside) ({COHN}).", "component-code"),
        _obs("cog-2021-risk-group", "COG 2021 risk group",
             f"Result: the COG 2021 risk group (cog-2021-risk) ({IRWIN}).", "result-code"),
        _obs("risk-group", "Neuroblastoma pretreatment risk group (another schema)",
             "Result: the risk level under a risk schema that has no code of its own; Observation.method names "
             "the schema and the value carries the generic risk-level code.", "result-code"),
    ),
)
