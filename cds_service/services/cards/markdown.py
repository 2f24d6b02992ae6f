"""Escaping data-derived text for GitHub-flavoured markdown: the sandbox renders raw HTML in ``detail``."""

from __future__ import annotations

import html
import re

# Inline text (never at the start of a line: every line starts with the card's own markup) needs only the
# characters that act inline: emphasis, code, links and images, tables, HTML, strikethrough, and the "//" of a
# URL so that no "http://..." in data becomes a link. Dots, dashes, colons and brackets stay as they are, so
# the text also reads right in an EHR that shows the detail as plain text.
_INLINE_SYNTAX = str.maketrans({char: "\\" + char for char in "\\`*_[]|~"} | {"\n": " ", "\r": " "})


def escape_inline(text: str) -> str:
    """Escape text placed inside a line of the card's markdown: HTML neutralised, inline syntax escaped."""
    return html.escape(text, quote=False).translate(_INLINE_SYNTAX).replace("://", ":\\/\\/").replace("www.", "www\\.")


_RESOURCE_TYPES = ("Patient|Condition|Observation|DiagnosticReport|Procedure|ServiceRequest|Specimen|Provenance|"
                   "Encounter|PractitionerRole|Practitioner|Organization|ImagingStudy|DocumentReference|"
                   "QuestionnaireResponse|Bundle|Device|RelatedPerson|MedicationRequest")
_REFERENCE = rf"\b(?:{_RESOURCE_TYPES})/[A-Za-z0-9\-.]{{1,64}}"
_CITED_REFERENCES = re.compile(rf"\s*[\[(]\s*{_REFERENCE}(?:\s*,\s*{_REFERENCE})*\s*[\])]")
_BARE_REFERENCE = re.compile(_REFERENCE)


def without_references(text: str) -> str:
    """Text for the card body without FHIR ids (``Observation/x``): they belong in the app and derivedFrom.
    A cited reference ``[Observation/x]`` or ``(Observation/x, ...)`` is dropped; a bare one becomes "a record"."""
    return _BARE_REFERENCE.sub("a record", _CITED_REFERENCES.sub("", text))
