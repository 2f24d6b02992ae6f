"""The published sources the rules implement, and the rule-set version reported with every result."""

from __future__ import annotations

from dataclasses import dataclass

# Bump on any change to a rule, threshold or table row; it is written into every result and audit record.
RULESET_VERSION = "2026.12.1"


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

ALL_SOURCES: tuple[Source, ...] = (MONCLAIR_2009, COHN_2009, IRWIN_2021, BRISSE_2011, BRODEUR_1993,
                                   PDQ_NEUROBLASTOMA)
