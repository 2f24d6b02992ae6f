"""Standard codes (SNOMED CT, LOINC, NCIt, ICD-10-CM, ICD-O-3, HGNC, UCUM, HL7) we read or write.

Every constant records where its existence and meaning were checked (``VERIFIED_IN``). A code
whose existence is uncertain (clinical-rules.md §6 marks it ⚠ or [1]) is **not** defined here:
our own CodeSystems carry the concept instead and name the candidate in the concept's definition.
A test checks that every standard coding our ValueSets and lookup tables use is one of these.
"""

from __future__ import annotations

from types import MappingProxyType

from fhir_mappings.terminology.model import Code, CodingKey
from fhir_mappings.terminology.systems import (
    DATA_ABSENT_REASON,
    HGNC,
    HGNC_THO,
    ICD10CM,
    ICDO3,
    LOINC,
    NCIT,
    OBSERVATION_CATEGORY,
    SNOMED,
    UCUM,
)

# Where each code was verified (repo/path@commit of the public source, as read with the search tool).
MCODE_STAGING_OTHER = "HL7/fhir-mCODE-ig input/fsh/SD_Staging_Other.fsh@10345274"
MCODE_VS_STAGING_OTHER = "HL7/fhir-mCODE-ig input/fsh/VS_Staging_Other.fsh@314e9ee0"
MCODE_VS_RISK = "HL7/fhir-mCODE-ig input/fsh/VS_RiskGroup.fsh@57985866"
MCODE_VS_CONDITION = "HL7/fhir-mCODE-ig input/fsh/VS_CancerCondition.fsh@022e878c"
MCODE_VS_RADIOTHERAPY = "HL7/fhir-mCODE-ig input/fsh/VS_Radiotherapy.fsh@03892921 (RadiotherapyTreatmentLocationVS)"
MCODE_EX_STAGING = "HL7/fhir-mCODE-ig input/fsh/EX_Staging_Other.fsh@10345274"
MCODE_TUMOR_MARKER = "mcode/biomarker input/fsh/VS_TumorMarker.fsh@e794446c (mCODE TumorMarkerTestVS)"
MCODE_MYCN_EXAMPLE = (
    "HL7/fhir-mCODE-ig CI build Observation-gx-genomic-variant-somatic-mycn (branch ped-cancer-clean-up)"
)
GENREP_FINDINGS = "HL7/genomics-reporting input/fsh/CGFindings.fsh@0075a157"
GENREP_ALIASES = "HL7/genomics-reporting input/fsh/Aliases.fsh@08a993f1; mCODE input/fsh/AL_CodeSystems.fsh"

_VERIFIED: dict[CodingKey, str] = {}


def _std(system: str, code: str, display: str, verified_in: str) -> Code:
    """Declare a standard code together with where it was verified."""
    c = Code(system, code, display)
    _VERIFIED[c.key] = verified_in
    return c


# ---- Disease -----------------------------------------------------------------------------------

SCT_NEUROBLASTOMA = _std(
    SNOMED, "432328008", "Neuroblastoma (disorder)",
    "several independent GitHub code lists: a MONDO-style xref list (sctid:432328008, icdo:9500/3, "
    "oncotree:NBL), disease-to-SNOMED maps, a BioPortal-based pediatric tumour list; clinical-rules §6.2 [V]",
)
ICDO3_NEUROBLASTOMA = _std(
    ICDO3, "9500/3", "Neuroblastoma, NOS",
    "chicagopcdc/d4cg-modeling schemas/pcdc/pcdc_v2.0.json; MONDO-style xref list; ICD-O-3 code lists",
)
ICDO3_GANGLIONEUROBLASTOMA = _std(
    ICDO3, "9490/3", "Ganglioneuroblastoma",
    "chicagopcdc/d4cg-modeling pcdc_v2.0.json; ICD-O-3 morphology code lists (9490/0, 9490/3, 9500/3)",
)
ICDO3_GANGLIONEUROMA = _std(
    ICDO3, "9490/0", "Ganglioneuroma",
    "chicagopcdc/d4cg-modeling pcdc_v2.0.json; ICD-O-3 morphology code lists (9490/0, 9490/3, 9500/3)",
)
SCT_SECONDARY_MALIGNANT_NEOPLASM = _std(
    SNOMED, "128462008", "Secondary malignant neoplastic disease (disorder)", MCODE_VS_CONDITION,
)

# ---- Staging (INRGSS) --------------------------------------------------------------------------

SCT_INRGSS_METHOD = _std(
    SNOMED, "1287643004", "International Neuroblastoma Risk Group staging system (tumor staging)",
    "mCODE STU4 CancerStagingMethodVS as copied with $SCT into MII onko ValueSet mii-vs-onko-weitere-klassifikationen "
    "(medizininformatik-initiative); clinical-rules §6.1 [V] (mCODE STU3 tag 3.0.0 and STU4). Requested as "
    "USCRS-34952 in June 2023 and listed as SCT_TBD in the 2023 pediatric draft: check your SNOMED edition",
)
NCIT_INRGSS = _std(NCIT, "C133427", "International Neuroblastoma Risk Group Staging System", MCODE_STAGING_OTHER)
NCIT_INRG_STAGE_L1 = _std(NCIT, "C133428", "INRG Stage L1", MCODE_VS_STAGING_OTHER)
NCIT_INRG_STAGE_L2 = _std(NCIT, "C133429", "INRG Stage L2", MCODE_VS_STAGING_OTHER)
NCIT_INRG_STAGE_M = _std(NCIT, "C133430", "INRG Stage M", MCODE_VS_STAGING_OTHER)
NCIT_INRG_STAGE_MS = _std(NCIT, "C133431", "INRG Stage MS", f"{MCODE_VS_STAGING_OTHER}; {MCODE_EX_STAGING}")

# ---- Staging (INSS, Brodeur 1993; written in parallel with INRGSS) ------------------------------------
# Only the SNOMED CT INSS codes seen in stored public material are defined: the observable (mCODE's INSS stage
# profile fixes Observation.code to it) and the stage 2B and stage 3 findings of mCODE's examples. SNOMED CT
# children of 409721000 for stages 1, 2A, 4 and 4S were not found, and NCIt C85417-C85422 appear only in one
# LinkML value-set file: our inss-stage CodeSystem carries every stage (docs/implementation-guide.md 8.4).

SCT_INSS_STAGE = _std(
    SNOMED, "409720004", "International neuroblastoma staging system stage (observable entity)",
    "HL7/fhir-mCODE-ig input/fsh/SD_Staging_Other.fsh (profile NeuroblastomaINSStage: code = SCT#409720004) and "
    "the mCODE CancerStageTypeVS listing; standardhealth/ped-cancer-ig profile pedcan-neuroblastoma-inss-stage",
)
SCT_INSS_STAGE_2B = _std(
    SNOMED, "409724008", "International neuroblastoma staging system stage 2B (finding)",
    "HL7/fhir-mCODE-ig input/fsh/EX_Staging_Other.fsh instance neuroblastoma-inss-stage-2B (two file versions) "
    "and the ped-cancer-ig example of the same lineage",
)
SCT_INSS_STAGE_3 = _std(
    SNOMED, "409725009", "International neuroblastoma staging system stage 3 (finding)",
    f"{MCODE_EX_STAGING} instance neuroblastoma-inss-stage-III (one source: an HL7 IG example)",
)

# ---- Generic risk values (mCODE RiskAssessmentValueVS mixes SNOMED and NCIt) --------------------

SCT_VERY_LOW = _std(SNOMED, "260362008", "Very low (qualifier value)", MCODE_VS_RISK)
SCT_LOW_RISK = _std(SNOMED, "723505004", "Low risk (qualifier value)", MCODE_VS_RISK)
NCIT_INTERMEDIATE_RISK = _std(NCIT, "C102402", "Intermediate Risk", MCODE_VS_RISK)
SCT_HIGH_RISK = _std(SNOMED, "723509005", "High risk (qualifier value)", MCODE_VS_RISK)

# ---- MYCN and chromosome aberrations (LOINC, Genomics Reporting) --------------------------------

LOINC_MYCN_AMPLIFICATION_FISH = _std(
    LOINC, "93796-1", "MYCN gene amplification in Blood or Tissue by FISH", MCODE_TUMOR_MARKER,
)
LOINC_MYCN_CHR2_RATIO_FISH = _std(
    LOINC, "93797-9", "MYCN gene copy number/Chromosome 2 copy number in Tissue by FISH", MCODE_TUMOR_MARKER,
)
LOINC_MYCN_COPIES_PER_NUCLEUS_FISH = _std(
    LOINC, "93798-7", "MYCN gene copy number/nucleus in Tissue by FISH", MCODE_TUMOR_MARKER,
)
LOINC_CHR2_COPIES_PER_NUCLEUS_FISH = _std(
    LOINC, "93799-5", "Chromosome 2 copy number/nucleus in Tissue by FISH", MCODE_TUMOR_MARKER,
)
LOINC_1P36_DELETION_FISH = _std(
    LOINC, "82244-5", "Chromosome region 1p36 deletion in Blood or Tissue by FISH", MCODE_TUMOR_MARKER,
)
LOINC_GENETIC_VARIANT_ASSESSMENT = _std(
    LOINC, "69548-6", "Genetic variant assessment", f"{GENREP_FINDINGS} (Variant.code); {MCODE_MYCN_EXAMPLE}",
)
LOINC_GENE_STUDIED = _std(LOINC, "48018-6", "Gene studied [ID]", f"{GENREP_FINDINGS}; {MCODE_MYCN_EXAMPLE}")
LOINC_GENOMIC_SOURCE_CLASS = _std(LOINC, "48002-0", "Genomic source class [Type]", GENREP_FINDINGS)
LOINC_CYTOGENETIC_LOCATION = _std(LOINC, "48001-2", "Cytogenetic (chromosome) location", GENREP_FINDINGS)
LOINC_DNA_CHANGE_TYPE = _std(LOINC, "48019-4", "DNA change type", GENREP_FINDINGS)
LOINC_COPY_NUMBER = _std(LOINC, "82155-3", "Genomic structural variant copy number", GENREP_FINDINGS)
LOINC_ANSWER_SOMATIC = _std(LOINC, "LA6684-0", "Somatic", MCODE_MYCN_EXAMPLE)
LOINC_ANSWER_PRESENT = _std(LOINC, "LA9633-4", "Present", f"{MCODE_MYCN_EXAMPLE}; GENREP Variant value (LL1971-2)")
LOINC_ANSWER_ABSENT = _std(
    LOINC, "LA9634-2", "Absent", "LOINC answer list LL1971-2 as used in several Genomics Reporting feeds on GitHub",
)
HGNC_MYCN = _std(HGNC, "HGNC:7559", "MYCN", MCODE_MYCN_EXAMPLE)
HGNC_THO_MYCN = _std(HGNC_THO, "HGNC:7559", "MYCN", f"{MCODE_MYCN_EXAMPLE}; {GENREP_ALIASES}")
NCIT_MYCN_AMPLIFICATION = _std(
    NCIT, "C36673", "NMYC Gene Amplification",
    "NCIt class report (yy20716/mondo-hpo-learner ncit_report) and chicagopcdc/d4cg-modeling; "
    "clinical-rules §6.2 [V]",
)

# ---- Tumour size (mCODE TumorSize) ------------------------------------------------------------------

MCODE_TUMOR_SIZE = ("HL7/fhir-mCODE-ig input/fsh/SD_TumorSize.fsh (TumorSize: code 21889-1, "
                    "component[tumorLongestDimension])")
LOINC_TUMOR_SIZE = _std(LOINC, "21889-1", "Size Tumor", f"{MCODE_TUMOR_SIZE}; mCODE example1 tumour size instance")
LOINC_TUMOR_LONGEST_DIMENSION = _std(
    LOINC, "33728-7", "Size.maximum dimension in Tumor",
    f"{MCODE_TUMOR_SIZE}; an mCODE coverage checker; a German oncology FHIR map; DICOM SR examples ('Size')",
)

# ---- Presence / qualitative result values -------------------------------------------------------

SCT_PRESENT = _std(SNOMED, "52101004", "Present (qualifier value)", f"{MCODE_EX_STAGING} (bulky-modifier)")
SCT_ABSENT = _std(
    SNOMED, "2667000", "Absent (qualifier value)",
    "HL7 Lithuania prostate IG (present/absent/unknown VS); HL7 Europe laboratory IG examples",
)
SCT_UNKNOWN = _std(
    SNOMED, "261665006", "Unknown (qualifier value)",
    "HL7 Lithuania prostate IG (present/absent/unknown VS); hl7-eu/idea4rc site-of-metastasis VS",
)
SCT_DETECTED = _std(
    SNOMED, "260373001", "Detected (qualifier value)",
    "EU Digital COVID Certificate test-result value set (260373001/260415000) and lab result VSs on GitHub",
)
SCT_NOT_DETECTED = _std(
    SNOMED, "260415000", "Not detected (qualifier value)",
    "EU Digital COVID Certificate test-result value set (260373001/260415000) and lab result VSs on GitHub",
)
SCT_POSITIVE = _std(
    SNOMED, "10828004", "Positive (qualifier value)", "lab result qualifier maps on GitHub (positive/negative)",
)
SCT_NEGATIVE = _std(
    SNOMED, "260385009", "Negative (qualifier value)", "lab result qualifier value sets on GitHub",
)

# ---- Body structures: metastatic sites, lymph nodes, compartments, laterality --------------------

SCT_BONE_STRUCTURE = _std(
    SNOMED, "272673000", "Bone structure (body structure)",
    "DICOM/3D Slicer anatomic code list (SCT^272673000^Bone); SNOMED ECL examples "
    "(<< 272673000 |Bone structure|); a French body-site VS. clinical-rules §6.3 had it [1] ⚠: now seen in "
    "three independent sources",
)
SCT_BONE_PART = _std(SNOMED, "119186007", "Bone part (body structure)", MCODE_VS_RADIOTHERAPY)
SCT_BONE_MARROW_STRUCTURE = _std(SNOMED, "14016003", "Bone marrow structure (body structure)", MCODE_VS_RADIOTHERAPY)
SCT_LIVER_STRUCTURE = _std(SNOMED, "10200004", "Liver structure (body structure)", MCODE_VS_RADIOTHERAPY)
SCT_SKIN_STRUCTURE = _std(SNOMED, "39937001", "Skin structure (body structure)", MCODE_VS_RADIOTHERAPY)
SCT_LUNG_STRUCTURE = _std(SNOMED, "39607008", "Lung structure (body structure)", MCODE_VS_RADIOTHERAPY)
SCT_BRAIN_STRUCTURE = _std(SNOMED, "12738006", "Brain structure (body structure)", MCODE_VS_RADIOTHERAPY)
SCT_LYMPH_NODE_STRUCTURE = _std(SNOMED, "59441001", "Structure of lymph node (body structure)", MCODE_VS_RADIOTHERAPY)
SCT_CERVICAL_LYMPH_NODE = _std(
    SNOMED, "81105003", "Cervical lymph node structure (body structure)", MCODE_VS_RADIOTHERAPY,
)
SCT_MEDIASTINAL_LYMPH_NODE = _std(
    SNOMED, "62683002", "Mediastinal lymph node structure (body structure)", MCODE_VS_RADIOTHERAPY,
)
SCT_AORTIC_LYMPH_NODE = _std(
    SNOMED, "35783009", "Structure of aortic lymph node (body structure)", MCODE_VS_RADIOTHERAPY,
)
SCT_PELVIC_LYMPH_NODE_GROUP = _std(
    SNOMED, "245294005", "Pelvic lymph node group (body structure)", MCODE_VS_RADIOTHERAPY,
)
SCT_INGUINOFEMORAL_LYMPH_NODE_GROUP = _std(
    SNOMED, "279763008", "Inguinofemoral lymph node group (body structure)", MCODE_VS_RADIOTHERAPY,
)
SCT_AXILLARY_LYMPH_NODE = _std(
    SNOMED, "68171009", "Axillary lymph node structure (body structure)", MCODE_VS_RADIOTHERAPY,
)
SCT_ADRENAL_STRUCTURE = _std(SNOMED, "23451007", "Adrenal structure (body structure)", MCODE_VS_RADIOTHERAPY)
SCT_MEDIASTINAL_STRUCTURE = _std(SNOMED, "72410000", "Mediastinal structure (body structure)", MCODE_VS_RADIOTHERAPY)
SCT_LEFT = _std(SNOMED, "7771000", "Left (qualifier value)", f"{MCODE_VS_RADIOTHERAPY}, laterality qualifiers")
SCT_RIGHT = _std(SNOMED, "24028007", "Right (qualifier value)", f"{MCODE_VS_RADIOTHERAPY}, laterality qualifiers")
SCT_RIGHT_AND_LEFT = _std(
    SNOMED, "51440002", "Right and left (qualifier value)", f"{MCODE_VS_RADIOTHERAPY}, laterality qualifiers",
)

# ---- Site-specific secondary neoplasm disorders (SNOMED) ----------------------------------------

SCT_SECONDARY_BONE = _std(
    SNOMED, "94222008", "Secondary malignant neoplasm of bone (disorder)",
    "HL7 Lithuania prostate IG; a Dutch lung-cancer metastasis-location VS; mCODE-style CQL/FSH examples "
    "(one unrelated repo mislabels it as liver)",
)
SCT_SECONDARY_LIVER = _std(
    SNOMED, "94381002", "Secondary malignant neoplasm of liver (disorder)",
    "a Dutch lung-cancer metastasis-location VS (94381002 'lever'); FHIR examples on GitHub; "
    "clinical-rules §6.3 [V]",
)
SCT_SECONDARY_LUNG = _std(
    SNOMED, "94391008", "Secondary malignant neoplasm of lung (disorder)",
    "a Dutch lung-cancer metastasis-location VS (94391008 'long'); UZ Leuven IG list (clinical-rules §6.3)",
)
SCT_SECONDARY_BRAIN = _std(
    SNOMED, "94225005", "Secondary malignant neoplasm of brain (disorder)",
    "HL7/fhir-mCODE-ig secondary cancer condition example (SCT#94225005); Dutch lung-cancer VS",
)

# ---- ICD-10-CM secondary neoplasms (mCODE SecondaryCancerDisorderVS) ----------------------------


def _icd(code: str, display: str) -> Code:
    return _std(ICD10CM, code, display, MCODE_VS_CONDITION)


ICD_C77_0 = _icd("C77.0", "Secondary and unspecified malignant neoplasm of lymph nodes of head, face and neck")
ICD_C77_1 = _icd("C77.1", "Secondary and unspecified malignant neoplasm of intrathoracic lymph nodes")
ICD_C77_2 = _icd("C77.2", "Secondary and unspecified malignant neoplasm of intra-abdominal lymph nodes")
ICD_C77_3 = _icd("C77.3", "Secondary and unspecified malignant neoplasm of axilla and upper limb lymph nodes")
ICD_C77_4 = _icd("C77.4", "Secondary and unspecified malignant neoplasm of inguinal and lower limb lymph nodes")
ICD_C77_5 = _icd("C77.5", "Secondary and unspecified malignant neoplasm of intrapelvic lymph nodes")
ICD_C77_8 = _icd("C77.8", "Secondary and unspecified malignant neoplasm of lymph nodes of multiple regions")
ICD_C77_9 = _icd("C77.9", "Secondary and unspecified malignant neoplasm of lymph node, unspecified")
ICD_C78_00 = _icd("C78.00", "Secondary malignant neoplasm of unspecified lung")
ICD_C78_01 = _icd("C78.01", "Secondary malignant neoplasm of right lung")
ICD_C78_02 = _icd("C78.02", "Secondary malignant neoplasm of left lung")
ICD_C78_2 = _icd("C78.2", "Secondary malignant neoplasm of pleura")
ICD_C78_7 = _icd("C78.7", "Secondary malignant neoplasm of liver and intrahepatic bile duct")
ICD_C79_2 = _icd("C79.2", "Secondary malignant neoplasm of skin")
ICD_C79_31 = _icd("C79.31", "Secondary malignant neoplasm of brain")
ICD_C79_32 = _icd("C79.32", "Secondary malignant neoplasm of cerebral meninges")
ICD_C79_51 = _icd("C79.51", "Secondary malignant neoplasm of bone")
ICD_C79_52 = _icd("C79.52", "Secondary malignant neoplasm of bone marrow")
ICD_C79_89 = _icd("C79.89", "Secondary malignant neoplasm of other specified sites")

# ---- Procedures (orders the resection check recognises) ----------------------------------------
# No SNOMED CT code for adrenalectomy, excision of an adrenal lesion or excision of a retroperitoneal tumour could
# be verified from stored public material (searched: mCODE and pediatric-cancer IG value sets, the FHIR
# procedure-code expansions, OHDSI/order-catalogue dumps); only the generic excision below was. The resection
# check therefore reads it together with the order's body site or reason (cds_service/services/resection.py).

SCT_EXCISION_OF_NEOPLASM = _std(
    SNOMED, "370612006", "Excision of neoplasm (procedure)",
    "standardhealth/ped-cancer-ig input/fsh/SD_Procedure.fsh@70d308b1 (SurgicalResection codes: 370612006 | "
    "Excision of neoplasm (procedure) |); an FSH Questionnaire answerOption 370612006 'Excision of neoplasm "
    "(procedure)'; a HAPI FHIR genomics example (Specimen.type 370612006 'Excision of neoplasm'); a German "
    "procedure ConceptMap (370612006 'Excision of neoplasm (procedure)')",
)

# ---- Units, HL7 code systems --------------------------------------------------------------------

UCUM_PERCENT = _std(UCUM, "%", "percent", "UCUM (mCODE alias UCUM); unit of marrow tumour-cell percentage")
UCUM_UNITY = _std(UCUM, "1", "1", f"UCUM unity; {GENREP_FINDINGS} (copy number is unit-less)")
UCUM_CM = _std(UCUM, "cm", "centimeter", f"UCUM; {MCODE_TUMOR_SIZE} (TumorSizeUnitsVS: cm or mm)")
UCUM_MM = _std(UCUM, "mm", "millimeter", f"UCUM; {MCODE_TUMOR_SIZE} (TumorSizeUnitsVS: cm or mm)")


def _dar(code: str, display: str) -> Code:
    return _std(
        DATA_ABSENT_REASON, code, display,
        "terminology.hl7.org CodeSystem data-absent-reason (UTG comparison pages, docs corpus)",
    )


DAR_UNKNOWN = _dar("unknown", "Unknown")
DAR_ASKED_UNKNOWN = _dar("asked-unknown", "Asked But Unknown")
DAR_TEMP_UNKNOWN = _dar("temp-unknown", "Temporarily Unknown")
DAR_NOT_ASKED = _dar("not-asked", "Not Asked")
DAR_NOT_APPLICABLE = _dar("not-applicable", "Not Applicable")

OBS_CATEGORY_LABORATORY = _std(OBSERVATION_CATEGORY, "laboratory", "Laboratory", MCODE_MYCN_EXAMPLE)
OBS_CATEGORY_IMAGING = _std(OBSERVATION_CATEGORY, "imaging", "Imaging", "HL7 observation-category (R4 core)")
OBS_CATEGORY_EXAM = _std(OBSERVATION_CATEGORY, "exam", "Exam", "HL7 observation-category (R4 core)")

#: ``(system, code) -> where it was verified`` for every standard code above.
VERIFIED_IN = MappingProxyType(_VERIFIED)
