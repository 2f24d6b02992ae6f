"""The test, report or record that supplies each input the rules may miss: what a clinician orders or documents.

A missing input is a request to someone: the radiologist (IDRFs, extension, nodes), nuclear medicine (MIBG),
the laboratory (MYCN, 11q/1p, DNA index), the pathologist (histology), or the treating team (age, symptoms,
resection). Several inputs can come from one test (1p and 11q from one genomic profile; category, grade,
MKI and INPC class from one histology review), so each test is requested once. Sources: Brisse 2011 (imaging and
IDRFs), PDQ (marrow aspirates and trephines), Cohn 2009 and Irwin 2021 (the biological factors).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from neuroblastoma.case import FACT_COMPONENTS, FactKey


@dataclass(frozen=True)
class DecidingTest:
    """``name`` is what to order or document, ``short`` the same in a few words; ``who`` does it;
    ``idrf_worksheet`` when the app's IDRF and staging worksheet records it; ``parts`` the words for each input
    the test supplies, when it is named by the inputs asked for (``name_for``)."""

    key: str
    short: str
    name: str
    who: str
    idrf_worksheet: bool = False
    parts: tuple[tuple[FactKey, str], ...] = ()

    def name_for(self, facts: Iterable[FactKey]) -> str:
        """The name, with only the inputs asked for: a histology review wanted for the INPC class alone does not
        ask for the grade, which decides only L2 at 18 months or older (issue 14)."""
        wanted = set(facts)
        named = [words for fact, words in self.parts if fact in wanted]
        if not named:
            return self.name
        listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
        return f"{self.name}: {listed}"


def _test(key: str, short: str, name: str, who: str, idrf_worksheet: bool = False) -> DecidingTest:
    return DecidingTest(key, short, name, who, idrf_worksheet)


_DATES = _test("dates", "dates of birth and diagnosis", "Record the date of birth and the date of diagnosis",
               "treating team")
_IMAGING_REVIEW = _test("imaging-review", "IDRF radiology review",
                        "Radiology review of the primary: compartment, side, extension and each IDRF in INRG terms",
                        "radiology", idrf_worksheet=True)
_GENOMIC_PROFILE = _test("genomic-profile", "11q/1p status",
                         "Tumour genomic profile: 11q and 1p status (SNP array, aCGH or FISH)", "laboratory")
_HISTOLOGY = DecidingTest("histology-review", "histology review", "Histology review", "pathology",
                          parts=((FactKey.HISTOLOGY, "INPC category"), (FactKey.GRADE, "grade of differentiation"),
                                 (FactKey.MKI, "MKI class"), (FactKey.INPC, "favourable/unfavourable class")))
_SURGICAL_PATHOLOGY = _test("surgical-pathology", "operative and node pathology",
                            "Operative and pathology reports: extent of gross excision, margins, and the lymph nodes "
                            "sampled (ipsilateral non-adherent, contralateral) (known after surgery)", "surgery")

DECIDING_TESTS: dict[FactKey, DecidingTest] = {
    FactKey.AGE: _DATES,
    FactKey.BIRTH_DATE: _DATES,
    FactKey.DIAGNOSIS_DATE: _DATES,
    FactKey.PRIMARY_TUMOUR: _IMAGING_REVIEW,
    FactKey.IDRF: _IMAGING_REVIEW,
    FactKey.EXTENSION: _IMAGING_REVIEW,
    FactKey.MULTIFOCALITY: _IMAGING_REVIEW,
    FactKey.LYMPH_NODES: _test("nodes", "node report", "Radiology report of the involved lymph node regions",
                               "radiology", idrf_worksheet=True),
    FactKey.EFFUSIONS: _test("effusion-cytology", "effusion cytology", "Cytology of the pleural effusion or ascites",
                             "pathology"),
    FactKey.METASTASES: _test("confirm-focus", "confirmation of the distant site",
                              "Confirm or exclude the distant site: further imaging or biopsy", "radiology",
                              idrf_worksheet=True),
    FactKey.EQUIVOCAL_FOCUS: _test("confirm-equivocal-focus",
                                   "confirmation of the focus by cross-sectional imaging or biopsy",
                                   "Confirmation of the equivocal focus by cross-sectional imaging (MRI or CT) or "
                                   "biopsy of that site (Brisse 2011)", "radiology", idrf_worksheet=True),
    FactKey.ATTRIBUTION: _test("primary-attribution", "which primary",
                               "Radiology: say which primary each finding belongs to (Observation.focus, or body "
                               "site and side)", "radiology", idrf_worksheet=True),
    FactKey.METASTATIC_SURVEY: _test("metastatic-work-up", "metastatic work-up",
                                     "Complete the metastatic work-up (MIBG and bilateral marrow)", "oncology"),
    FactKey.BONE_MARROW: _test("bone-marrow", "bone marrow aspirates",
                               "Bilateral bone marrow aspirates and trephine biopsies, with the % of tumour cells "
                               "by morphology", "oncology"),
    FactKey.FUNCTIONAL_IMAGING: _test("mibg", "MIBG scan",
                                      "123I-MIBG scintigraphy (bone and bone marrow); MDP bone scan or FDG-PET if "
                                      "the tumour is not MIBG-avid", "nuclear medicine", idrf_worksheet=True),
    FactKey.MIBG_AVIDITY: _test("mibg-avidity", "MIBG avidity", "MIBG avidity of the primary (on the MIBG scan)",
                                "nuclear medicine", idrf_worksheet=True),
    FactKey.HISTOLOGY: _HISTOLOGY,
    FactKey.GRADE: _HISTOLOGY,
    FactKey.MKI: _HISTOLOGY,
    FactKey.INPC: _HISTOLOGY,
    FactKey.MYCN: _test("mycn", "MYCN status", "MYCN status (FISH) on tumour tissue", "laboratory"),
    FactKey.CHR_11Q: _GENOMIC_PROFILE,
    FactKey.CHR_1P: _GENOMIC_PROFILE,
    FactKey.SCA: _GENOMIC_PROFILE,
    FactKey.PLOIDY: _test("dna-index", "DNA index", "Tumour DNA index (flow or image cytometry)", "laboratory"),
    FactKey.SYMPTOMS: _test("ms-symptoms", "MS symptom status",
                            "Document whether the infant has MS symptoms (respiratory distress, cord or IVC "
                            "compression, obstruction, coagulopathy)", "treating team"),
    FactKey.RESECTION: _test("resection", "extent of resection",
                             "Extent of resection, from the operative and pathology reports (known only after "
                             "surgery)", "surgery"),
    FactKey.MICROSCOPIC_RESIDUAL: _SURGICAL_PATHOLOGY,
    FactKey.NODES_IPSILATERAL: _SURGICAL_PATHOLOGY,
    FactKey.NODES_CONTRALATERAL: _SURGICAL_PATHOLOGY,
    FactKey.MIDLINE: _test("midline", "midline infiltration",
                           "Radiology or operative report: does the tumour infiltrate to or beyond the opposite side "
                           "of the vertebral column (Brodeur 1993)", "radiology", idrf_worksheet=True),
    FactKey.PRIMARY_SIZE: _test("primary-size", "primary size",
                                "Radiology: longest diameter of the primary and its cystic fraction", "radiology"),
    FactKey.PARASPINAL: _test("paraspinal", "paraspinal location",
                              "Radiology: is the primary paraspinal (next to the spine or in the neural foramina)",
                              "radiology"),
    FactKey.CORD_COMPRESSION: _test("cord-compression", "cord compression signs",
                                    "Neurological examination: signs of spinal cord or nerve-root compression",
                                    "treating team"),
    FactKey.ALK: _test("alk", "ALK status", "Tumour ALK sequencing and copy number (mutation, amplification)",
                       "laboratory"),
    FactKey.MIBG_SCORE: _test("mibg-score", "MIBG score",
                              "Semi-quantitative MIBG score of the diagnostic scan (Curie, or SIOPEN)",
                              "nuclear medicine"),
}


def tests_for(facts: Iterable[FactKey]) -> tuple[tuple[DecidingTest, tuple[FactKey, ...]], ...]:
    """Each test once, with the facts it supplies, in the order the facts are given. A fact without a test of
    its own (the INRG stage, which the other inputs decide) asks for nothing."""
    found: dict[str, tuple[DecidingTest, list[FactKey]]] = {}
    for fact in facts:
        for part in (fact, *FACT_COMPONENTS.get(fact, ())):
            test = DECIDING_TESTS.get(part)
            if test is not None:
                facts_of = found.setdefault(test.key, (test, []))[1]
                if fact not in facts_of:
                    facts_of.append(fact)
                break
    return tuple((test, tuple(facts_of)) for test, facts_of in found.values())
