"""The readers are total over arbitrary JSON: a member of the wrong shape reads as no value, never as a
TypeError or KeyError."""

from __future__ import annotations

from fhir_mappings.reading.case_reader import read_case
from tests.fhir_mappings.test_reading_value_forms import P, patient


def test_a_bundle_whose_entry_is_not_a_list_has_no_entries() -> None:
    for entry in (True, 5, "x", {"resource": patient()}):
        reading = read_case([{"resourceType": "Bundle", "type": "transaction", "entry": entry}], P)
        assert not reading.has_neuroblastoma
