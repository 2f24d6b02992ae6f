"""Hypothesis strategies for hostile CDS Hooks requests and FHIR data.

The starting points are valid documents (the example requests, the example FHIR Bundles, a valid
feedback body); `mutated(doc)` applies one to three mutations at random places in them:

- `delete`: remove a member or an array item (missing fields);
- `retype`: replace any value with a JSON value of another type (wrong types);
- `extra`: add a member, e.g. `extension`, `_birthDate` or random names (extra fields);
- `huge`: replace a string with one of 10 k – 400 k characters (huge strings);
- `deep`: replace a value with arrays/objects nested 50 – 3000 levels deep (deep nesting);
- `bad-date`: replace a date-like value with an impossible or malformed one (invalid dates);
- `unknown-code`: replace a `code` or `system` with one nobody knows (unknown codes);
- `duplicate`: repeat a Bundle entry, same id, maybe changed (duplicate ids);
- `dangling`: point a `reference` at a resource that is not there (references to absent resources);
- `foreign`: insert another resource type, a nested Bundle, an OperationOutcome or another patient's
  data into a Bundle (Bundles of mixed types);
- `control-chars`: put NUL and other control characters into a string.

`encode(doc)` turns the result into request bytes (deep nesting is spliced in as text, so the test
itself never recurses that deep).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

Path = tuple[str | int, ...]

LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
BAD_DATES = (
    "2025-13-45", "2025-02-30", "0000-00-00", "20250101", "2025-1-1", "-2025-01-01", "99999-01-01",
    "2025-06-01T25:61:61Z", "2025-06-01T10:00:00+25:00", "yesterday", "", " ", "2025-06", "2025",
    "1800-01-01", "2999-12-31", "2025-06-01T10:00:00", "NaN", "2025-W23", "1e9",
)
DANGLING = ("Patient/absent", "Condition/none", "Observation/", "#missing-contained", "urn:uuid:00000000-0000-0000-0000-000000000000",
            "http://elsewhere.example/fhir/Patient/x", "", "Patient", "../../etc/passwd", "Patient/nb-m-older/_history/9")
EXTRA_KEYS = ("extension", "modifierExtension", "_birthDate", "_status", "contained", "meta", "text", "resourceType",
              "id", "fhir_comments", "__proto__")
UNKNOWN_CODES = ("unknown-code", "999999999", "", "LA-0000-0", "http://unknown.example/cs", "Ω≈ç√", "a" * 300)
CONTROL_STRINGS = ("a\u0000b", "\u0000", "line\nbreak\ttab\r", "\u001b[31mred", "\u202eright-to-left", "\ufeffbom",
                   "<script>alert(1)</script>", "**bold** [link](javascript:alert(1))", "😀" * 20)


def _foreign_resources(patient_id: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from((
        {"resourceType": "MedicationRequest", "id": "med-1", "status": "active", "intent": "order",
         "subject": {"reference": f"Patient/{patient_id}"}},
        {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"resourceType": "Patient", "id": "x"}}]},
        {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]},
        {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]},
        {"resourceType": "Patient", "id": "someone-else", "birthDate": "2020-01-01"},
        {"resourceType": "Condition", "id": "other-nb", "code": {"coding": [{"system": "http://snomed.info/sct",
                                                                               "code": "432328008"}]},
         "subject": {"reference": "Patient/someone-else"}},
        {"resourceType": "Observation", "id": "no-subject", "status": "final", "code": {"text": "?"}},
        {"resourceType": "", "id": "empty-type"},
        {"resourceType": "NotAResource", "id": "x"},
        {"resourceType": "Observation"},
    ))


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every path below `value` (not the root itself), depth-first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from paths(item, (*prefix, index))


def _get(doc: Any, path: Path) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _set(doc: Any, path: Path, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def _delete(doc: Any, path: Path) -> None:
    parent = _get(doc, path[:-1])
    del parent[path[-1]]


class Deep:
    """A placeholder for deeply nested JSON, spliced in by `encode`."""

    def __init__(self, depth: int, kind: str) -> None:
        self.depth = depth
        self.kind = kind
        self.marker = f"deep-{uuid.uuid4()}"

    def text(self) -> str:
        if self.kind == "array":
            return "[" * self.depth + "1" + "]" * self.depth
        return '{"a":' * self.depth + "1" + "}" * self.depth


def encode(doc: Any) -> bytes:
    """The mutated document as UTF-8 JSON bytes, with `Deep` placeholders spliced in."""
    deep: list[Deep] = []

    def placeholder(value: Any) -> Any:
        if isinstance(value, Deep):
            deep.append(value)
            return value.marker
        raise TypeError(type(value).__name__)

    text = json.dumps(doc, default=placeholder, ensure_ascii=False)
    for item in deep:
        text = text.replace(json.dumps(item.marker), item.text())
    return text.encode("utf-8", errors="surrogatepass")


def _pick(draw: st.DrawFn, candidates: list[Path]) -> Path | None:
    return draw(st.sampled_from(candidates)) if candidates else None


MUTATIONS = ("delete", "retype", "extra", "huge", "deep", "bad-date", "unknown-code", "duplicate", "dangling",
             "foreign", "control-chars")


def _mutate_once(draw: st.DrawFn, doc: Any, kind: str, patient_id: str) -> str:
    """Apply one mutation in place; returns what was done (for the failure report)."""
    all_paths = [p for p in paths(doc) if not isinstance(_get(doc, p[:-1]), Deep)]
    strings = [p for p in all_paths if isinstance(_get(doc, p), str)]
    if kind == "delete":
        path = _pick(draw, all_paths)
        if path is not None:
            _delete(doc, path)
    elif kind == "retype":
        path = _pick(draw, all_paths)
        if path is not None:
            old = _get(doc, path)
            _set(doc, path, draw(JSON_VALUES.filter(lambda v: type(v) is not type(old))))
    elif kind == "extra":
        objects = [p for p in all_paths if isinstance(_get(doc, p), dict)] + [()]
        path = draw(st.sampled_from(objects))
        key = draw(st.sampled_from(EXTRA_KEYS) | st.text(max_size=12))
        _get(doc, path)[key] = draw(JSON_VALUES)
    elif kind == "huge":
        path = _pick(draw, strings)
        if path is not None:
            _set(doc, path, draw(st.sampled_from("Aé😀<")) * draw(st.sampled_from((10_000, 100_000, 400_000))))
    elif kind == "deep":
        path = _pick(draw, all_paths)
        if path is not None:
            _set(doc, path, Deep(draw(st.sampled_from((50, 500, 990, 3000))), draw(st.sampled_from(("array", "object")))))
    elif kind == "bad-date":
        dated = [p for p in strings if any(w in str(p[-1]).lower() for w in ("date", "onset", "effective", "issued",
                                                                                "period", "start", "end"))]
        path = _pick(draw, dated or strings)
        if path is not None:
            _set(doc, path, draw(st.sampled_from(BAD_DATES)))
    elif kind == "unknown-code":
        coded = [p for p in strings if p[-1] in ("code", "system", "value", "unit")]
        path = _pick(draw, coded or strings)
        if path is not None:
            _set(doc, path, draw(st.sampled_from(UNKNOWN_CODES) | st.text(max_size=30)))
    elif kind == "duplicate":
        entries = [p for p in all_paths if p[-1] == "entry" and isinstance(_get(doc, p), list) and _get(doc, p)]
        path = _pick(draw, entries)
        if path is not None:
            items = _get(doc, path)
            twin = copy.deepcopy(draw(st.sampled_from(items)))
            resource = twin.get("resource") if isinstance(twin, dict) else None
            if isinstance(resource, dict) and draw(st.booleans()):
                resource["status"] = draw(st.sampled_from(("final", "amended", "entered-in-error", "preliminary")))
            items.insert(draw(st.integers(0, len(items))), twin)
    elif kind == "dangling":
        refs = [p for p in strings if p[-1] == "reference"]
        path = _pick(draw, refs or strings)
        if path is not None:
            _set(doc, path, draw(st.sampled_from(DANGLING)))
    elif kind == "foreign":
        entries = [p for p in all_paths if p[-1] == "entry" and isinstance(_get(doc, p), list)]
        path = _pick(draw, entries)
        if path is not None:
            items = _get(doc, path)
            items.insert(draw(st.integers(0, len(items))), {"resource": draw(_foreign_resources(patient_id))})
    elif kind == "control-chars":
        path = _pick(draw, strings)
        if path is not None:
            _set(doc, path, draw(st.sampled_from(CONTROL_STRINGS)))
    return kind


@st.composite
def mutated(draw: st.DrawFn, document: Any, patient_id: str = "x", max_mutations: int = 3) -> tuple[Any, list[str]]:
    """A deep copy of `document` with 1..max_mutations mutations, and their names."""
    doc = copy.deepcopy(document)
    done = []
    for _ in range(draw(st.integers(1, max_mutations))):
        done.append(_mutate_once(draw, doc, draw(st.sampled_from(MUTATIONS)), patient_id))
    return doc, done


def feedback_body(card: str, suggestion: str) -> dict[str, Any]:
    """A valid feedback body: one accepted and one overridden entry."""
    return {"feedback": [
        {"card": card, "outcome": "accepted", "acceptedSuggestions": [{"id": suggestion}],
         "outcomeTimestamp": "2025-06-01T10:00:00Z"},
        {"card": card, "outcome": "overridden", "outcomeTimestamp": "2025-06-01T10:00:01+02:00",
         "overrideReason": {"reason": {"system": "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes",
                                       "code": "need-more-info", "display": "Need more information"},
                            "userComment": "checked with the tumour board"}},
    ]}


CONTENT_TYPES = (
    "application/json", "application/fhir+json", "application/json+fhir", "application/json; charset=utf-8",
    "APPLICATION/JSON", "text/plain", "text/html", "application/xml", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz", "application/octet-stream", "", "application/json; charset=latin-1",
    "application/merge-patch+json", "*/*",
)
