"""The published sources the rules implement, and the rule-set version reported with every result."""

from __future__ import annotations

from dataclasses import dataclass

# Bump on any change to a rule, threshold or table row; it is written into every result and audit record.
RULESET_VERSION = "2026.12.2"


@dataclass(frozen=True)
class Source:
    key: str
    citation: str
    url: str


MONCLAIR_2009 = Source(
    "Monclair 2009",
    "Monclair T, et al. The International Neuroblastoma Risk Group (INRG) staging system: an INRG Task "
    "Force report. J Clin Oncol. 2009;27(2):298-303.",
    "https://doi.org/10.1200/JCO.2008.16.6876",
)
COHN_2009 = Source(
    "Cohn 2009",
    "Cohn SL, et al. The International Neuroblastoma Risk Group (INRG) classification system: an INRG "
    "Task Force report. J Clin Oncol. 2009;27(2):289-297.",
    "https://doi.org/10.1200/JCO.2008.16.6785",
)
IRWIN_2021 = Source(
    "Irwin 2021",
    "Irwin MS, et al. Revised Neuroblastoma Risk Classification System: A Report From the Children's "
    "Oncology Group. J Clin Oncol. 2021;39(29):3229-3241.",
    "https://doi.org/10.1200/JCO.21.00278",
)
BRISSE_2011 = Source(
    "Brisse 2011",
    "Brisse HJ, et al. Guidelines for imaging and staging of neuroblastic tumors: consensus report from "
    "the International Neuroblastoma Risk Group Project. Radiology. 2011;261(1):243-257.",
    "https://doi.org/10.1148/radiol.11101352",
)
BRODEUR_1993 = Source(
    "Brodeur 1993",
    "Brodeur GM, Pritchard J, Berthold F, et al. Revisions of the international criteria for neuroblastoma "
    "diagnosis, staging, and response to treatment. J Clin Oncol. 1993;11(8):1466-1477 (the INSS table as "
    "reproduced in Cochrane CD010685 Table 3 and the CAP neuroblastoma checklist).",
    "https://doi.org/10.1200/JCO.1993.11.8.1466",
)
PDQ_NEUROBLASTOMA = Source(
    "PDQ",
    "PDQ Pediatric Treatment Editorial Board. Neuroblastoma Treatment (PDQ®) – Health Professional "
    "Version. National Cancer Institute (Table 2 INRGSS, Table 3 COG risk groups, Table 4 INRG schema).",
    "https://www.cancer.gov/types/neuroblastoma/hp/neuroblastoma-treatment-pdq",
)

SHIMADA_1999 = Source(
    "Shimada 1999",
    "Shimada H, Ambros IM, Dehner LP, et al. The International Neuroblastoma Pathology Classification (the Shimada "
    "system). Cancer. 1999;86(2):364-372 (the table as reprinted in PDQ Table 1).",
    "https://pubmed.ncbi.nlm.nih.gov/10421273/",
)
PEUCHMAUR_2003 = Source(
    "Peuchmaur 2003",
    "Peuchmaur M, d'Amore ES, Joshi VV, et al. Revision of the International Neuroblastoma Pathology Classification: "
    "confirmation of favorable and unfavorable prognostic subsets in ganglioneuroblastoma, nodular. Cancer. "
    "2003;98(10):2274-2281.",
    "https://pubmed.ncbi.nlm.nih.gov/14601099/",
)
# Where the sources disagree (issue 18; docs/clinical-rules.md, "Where the sources disagree").
NCCN_2026 = Source(
    "NCCN v2.2026",
    "NCCN Clinical Practice Guidelines in Oncology: Neuroblastoma, Version 2.2026, page NEUROB-2 (risk "
    "classification adapted from Irwin 2021), as transcribed; not read from NCCN directly.",
    "https://www.nccn.org/guidelines",
)
ANBL1232 = Source(
    "ANBL1232",
    "Children's Oncology Group ANBL1232 (NCT02176967), eligibility as registered: '< 18 months (< 547 days)'; "
    "segmental chromosome aberrations: loss of 1p, 3p, 4p or 11q, gain of 1q, 2p or 17q.",
    "https://clinicaltrials.gov/study/NCT02176967",
)
SCHLEIERMACHER_2012 = Source(
    "Schleiermacher 2012",
    "Schleiermacher G, et al. Segmental chromosomal alterations have prognostic impact in neuroblastoma: a report "
    "from the INRG project. Br J Cancer. 2012;107:1418 (segmental profile: 1p deletion, 11q deletion and/or "
    "17q gain).",
    "https://doi.org/10.1038/bjc.2012.375",
)

ALL_SOURCES: tuple[Source, ...] = (MONCLAIR_2009, COHN_2009, IRWIN_2021, BRISSE_2011, BRODEUR_1993,
                                   PDQ_NEUROBLASTOMA, SHIMADA_1999, PEUCHMAUR_2003, NCCN_2026, ANBL1232,
                                   SCHLEIERMACHER_2012)
