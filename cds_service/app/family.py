"""The family explanation: the stage and risk group in plain words for parents, in this project's own words.

Written for a reading level of about grade 6 to 8 (short sentences, everyday words; a test measures it), and
plainly decision support: the care team confirms the results and decides the treatment. Built from the
classification only; the words for each stage and risk level are here, one place, for review by the clinical
team and by families.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuroblastoma.deciding_tests import tests_for
from neuroblastoma.result_wording import risks_in_order, schema_of
from neuroblastoma.results import Classification, RiskLevel, RiskResult, Stage

STAGE_WORDS: dict[Stage, tuple[str, ...]] = {
    Stage.L1: ("The tumor is in one part of the body.",
               "The scans show that it does not wrap around or press on important blood vessels, nerves or "
               "organs near it.",
               "This often means surgery can take it out safely."),
    Stage.L2: ("The tumor is in one part of the body, or has grown into the part next to it.",
               "The scans show that it touches, wraps around or presses on something important near it, such "
               "as a large blood vessel.",
               "This can make surgery harder, so doctors often plan other treatment first."),
    Stage.M: ("The tumor has spread from where it started to other parts of the body, such as the bones or the "
              "bone marrow.",
              "Bone marrow is the soft part inside bones where blood is made."),
    Stage.MS: ("Your child is younger than 18 months, and the tumor has spread only to the skin, the liver, or a "
               "small part of the bone marrow.",
               "In babies, this kind of tumor often gets smaller by itself or with gentle treatment."),
}

RISK_WORDS: dict[RiskLevel, str] = {
    RiskLevel.VERY_LOW: "very low risk. Treatment is usually light. Some children need only surgery, or only "
                        "close check-ups.",
    RiskLevel.LOW: "low risk. Treatment is usually light. Some children need only surgery, or only close "
                   "check-ups.",
    RiskLevel.INTERMEDIATE: "medium (intermediate) risk. Treatment is usually medicine to shrink the tumor "
                            "(chemotherapy), and often surgery.",
    RiskLevel.HIGH: "high risk. Treatment is strong and has several parts, over many months.",
}

NOT_A_DIAGNOSIS = ("A computer program that helps doctors made this page from your child's test results. It is "
                   "not a diagnosis. Your child's doctors check these results and decide on treatment with you. "
                   "Please ask them any question you have.")


@dataclass(frozen=True)
class FamilyPage:
    stage_heading: str
    stage_sentences: tuple[str, ...]
    risk_sentences: tuple[str, ...]
    waiting_for: tuple[str, ...]
    not_a_diagnosis: str = NOT_A_DIAGNOSIS


def _risk_sentence(risk: RiskResult) -> str | None:
    schema = schema_of(risk).title
    if risk.out_of_scope:
        return f"The {schema} system does not sort this kind of tumor, because it is not a cancer."
    if risk.risk is None:
        return f"The {schema} system cannot sort it yet: some results are still missing."
    return f"The {schema} system puts it at {RISK_WORDS[risk.risk]}"


def family_page(result: Classification, primary_schema: str) -> FamilyPage:
    stage = result.stage.stage
    if stage is None:
        heading = "The stage is not known yet"
        sentences: tuple[str, ...] = ("The doctors need one or more test results before they can say how far "
                                      "the tumor has spread.",)
    else:
        heading = f"Stage {stage.value}"
        sentences = STAGE_WORDS[stage]
    risks = [sentence for risk in risks_in_order(result, primary_schema) if (sentence := _risk_sentence(risk))]
    if len(result.risks) > 1 and any(r.risk for r in result.risks):
        risks.insert(0, "Doctors sort neuroblastoma into risk groups to choose how strong the treatment should "
                        "be. There is more than one way to sort it. Your care team will tell you which one they "
                        "use.")
    waiting = tuple(test.short for test, _ in tests_for(m.fact for m in result.missing))
    return FamilyPage(heading, sentences, tuple(risks), waiting)
