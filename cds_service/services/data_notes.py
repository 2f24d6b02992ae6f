"""What the mapper could not use, in plain words for the card: nothing is dropped silently."""

from __future__ import annotations

from fhir_mappings.reading.case_reader import CaseReading
from fhir_mappings.terminology.systems import NBCDS_DEPRECATED_FHIR_BASE, NBCDS_FHIR_BASE


def data_notes(reading: CaseReading) -> tuple[str, ...]:
    report = reading.report
    notes = [f"{item.reference} was skipped: it is not valid FHIR ({item.reason})." for item in report.invalid]
    notes += [f"Conflicting results for {d.key}: {d.winner} (most recent final) was used over "
              f"{', '.join(d.others)}." for d in report.discordances]
    if report.preliminary:
        notes.append("Preliminary results were used: " + ", ".join(report.preliminary) + ".")
    if report.ignored_by_status:
        notes.append(f"{len(report.ignored_by_status)} resource(s) entered in error, cancelled or not yet "
                     "resulted were ignored.")
    if report.unrecognised:
        notes.append(f"{len(report.unrecognised)} resource(s) had codes or values this service does not read.")
    if report.recorded_only:
        notes.append("Recorded but not used to decide (the laboratory's call is used instead): "
                     + ", ".join(report.recorded_only) + ".")
    if report.other_patients:
        notes.append(f"{len(report.other_patients)} resource(s) about another patient were ignored.")
    if report.deprecated_base:
        notes.append(f"{len(report.deprecated_base)} resource(s) are coded under the deprecated base "
                     f"{NBCDS_DEPRECATED_FHIR_BASE} (read as {NBCDS_FHIR_BASE}, the same codes): re-code them "
                     "(implementation guide, section 1).")
    notes += list(report.notes)
    return tuple(dict.fromkeys(notes))  # a note is said once
