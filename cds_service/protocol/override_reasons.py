"""Override reasons: the Codings a card offers (CDS Hooks 2.0 ``overrideReasons``) and the displays of every
reason code the report understands, including the CDS Hooks 3.0 ballot's non-adherence reason codes.

The 3.0 ballot publishes one CodeSystem under two URLs (``terminology.hl7.org`` and ``cds-hooks.hl7.org``);
the sandbox sends a reason's ``code`` and ``system`` without its ``display``, so the report looks displays up
here. The codes and displays are those of the ballot's CodeSystem ``non-adherence-reason-codes`` (AHRQ CDSiC
override taxonomy, 2025).
"""

from __future__ import annotations

from collections.abc import Mapping

NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
NON_ADHERENCE_CDS_HOOKS = "http://cds-hooks.hl7.org/CodeSystem/non-adherence-reason"

_NON_ADHERENCE_DISPLAYS: dict[str, str] = {
    "cds-not-applicable": "PC CDS does not apply to patient",
    "patient-ineligible": "Patient does not meet eligibility for recommended action",
    "indication-order-exists": "Patient has indication/order for intended action",
    "action-completed": "Recommended action was already completed",
    "action-unsuccessful": "Recommended action was previously unsuccessful",
    "action-performed-no-adverse-effect": "Intended action was performed previously without adverse effect",
    "action-not-priority": "Recommended action is not relevant or a priority in current state of health",
    "cds-suboptimal-context": "PC CDS delivered in suboptimal context",
    "limited-time": "Could not address recommended action due to limited time",
    "wrong-time-workflow": "PC CDS delivered at wrong time in workflow or patient lifecycle",
    "inappropriate-recipient": "PC CDS delivered to inappropriate recipient/role",
    "need-more-info": ("Could not address recommended action due to need for more information/pending results/"
                       "pending consult"),
    "recipient-disagrees-evidence": "Recipient disagrees with recommendation because of issues with the evidence",
    "does-not-align-latest-evidence": "Recommended action does not align with the latest evidence",
    "expert-contradicts": "Advice from expert contradicts the recommended action",
    "policy-contradicts": "Institutional policy/guideline contradicts the recommended action",
    "recipient-does-not-trust": "Recipient does not agree with or trust the recommended action",
    "recipient-concerns-outcomes": "Recipient has concerns regarding potential health outcomes",
    "risk-benefit-ratio": "Recipient assessment of risk/benefit ratio",
    "mitigate-risk-negative-outcome": "Action taken to mitigate risk of negative outcome",
    "likely-negative-health-outcomes": "Recommended action likely to have negative health outcomes",
    "patient-contraindication": "Patient has contraindication to recommended action",
    "does-not-align-preferences": "Recommendation does not align with patient preferences or values",
    "patient-fears-discomfort": "Patient fears discomfort from complying with recommended action",
    "patient-does-not-want-change": "Patient does not want to change behavior or believes the change is unnecessary",
    "cultural-religious-reason": "Patient has a cultural or religious reason for not following recommended action",
    "prefers-alternative": "Patient prefers an alternative approach or treatment",
    "patient-refuses": "Patient refuses/declines (no context given)",
    "not-convenient-feasible": "Recommendation is not convenient or feasible",
    "inadequate-support": "Patient has inadequate caregiver/social support",
    "service-not-available": "Treatment or service is not practically available",
    "implementation-challenges": "Recommended action cannot be implemented due to technology/challenges",
    "too-costly-uncovered": "Recommended action is too costly or not covered by insurance",
    "recipient-does-not-understand": ("Recipient does not understand the recommended action or know how to perform "
                                      "the recommended action"),
    "comorbidity-disability": ("Patient has co-morbidity or disability that hinders them from completing "
                               "recommended action"),
}

#: (system, code) → display, for every reason code the report names.
REASON_DISPLAYS: Mapping[tuple[str, str], str] = {
    (system, code): display
    for system in (NON_ADHERENCE, NON_ADHERENCE_CDS_HOOKS)
    for code, display in _NON_ADHERENCE_DISPLAYS.items()
}

#: What the stage and risk card and the resection check offer, in the order a clinician meets them: results
#: pending, the tumour board decided otherwise, the protocol uses another schema, not applicable.
OFFERED: tuple[str, ...] = ("need-more-info", "expert-contradicts", "policy-contradicts", "patient-ineligible")
OFFERED_REASONS: tuple[dict[str, str], ...] = tuple(
    {"system": NON_ADHERENCE, "code": code, "display": _NON_ADHERENCE_DISPLAYS[code]} for code in OFFERED)
