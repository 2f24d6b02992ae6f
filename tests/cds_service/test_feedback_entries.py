"""Validation of CDS Hooks feedback bodies (cds_service.store.feedback_entries): pure, no database."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cds_service.protocol.feedback import parse_feedback, parse_rfc3339
from cds_service.store import (
    Coding,
    FeedbackEntry,
    OverrideReason,
    feedback_idempotency_key,
)

CARD = "7f1a0b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
SUGGESTION = "0e9d8c7b-6a5f-4e3d-9c2b-1a0f9e8d7c6b"
REASON_SYSTEM = "https://fhir.hospital.example/CodeSystem/override-reason"

ACCEPTED: dict[str, Any] = {
    "card": CARD,
    "outcome": "accepted",
    "acceptedSuggestions": [{"id": SUGGESTION}],
    "outcomeTimestamp": "2024-03-01T10:15:30Z",
}
# What the CDS Hooks sandbox sends from "Override: <display>": reason without display, no comment.
OVERRIDDEN_SANDBOX: dict[str, Any] = {
    "card": CARD,
    "outcome": "overridden",
    "overrideReason": {"reason": {"code": "not-applicable", "system": REASON_SYSTEM}},
    "outcomeTimestamp": "2024-03-01T10:16:00.123Z",
}


def with_changes(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of `base` with top-level keys replaced; a value of ... deletes the key."""
    entry = copy.deepcopy(base)
    for key, value in changes.items():
        if value is ...:
            entry.pop(key, None)
        else:
            entry[key] = value
    return entry


def test_valid_accepted_entry() -> None:
    batch = parse_feedback({"feedback": [ACCEPTED]})
    assert batch.errors == []
    assert batch.ok
    assert batch.entries == [
        FeedbackEntry(
            card=CARD,
            outcome="accepted",
            outcome_timestamp=datetime(2024, 3, 1, 10, 15, 30, tzinfo=UTC),
            accepted_suggestions=(SUGGESTION,),
        )
    ]


def test_sandbox_override_without_display_passes() -> None:
    batch = parse_feedback({"feedback": [OVERRIDDEN_SANDBOX]})
    assert batch.errors == []
    (entry,) = batch.entries
    assert entry.override_reason == OverrideReason(
        reason=Coding(system=REASON_SYSTEM, code="not-applicable", display=None), user_comment=None
    )
    assert entry.outcome_timestamp == datetime(2024, 3, 1, 10, 16, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    "override_reason",
    [
        pytest.param(None, id="no-override-reason"),
        pytest.param({"userComment": "patient already staged elsewhere"}, id="comment-only"),
        pytest.param(
            {
                "reason": {"code": "x", "system": REASON_SYSTEM, "display": "Not applicable"},
                "userComment": "see notes",
            },
            id="reason-with-display-and-comment",
        ),
    ],
)
def test_valid_overridden_shapes(override_reason: dict[str, Any] | None) -> None:
    entry = with_changes(OVERRIDDEN_SANDBOX, overrideReason=override_reason if override_reason else ...)
    batch = parse_feedback({"feedback": [entry]})
    assert batch.errors == []
    assert len(batch.entries) == 1


def test_unknown_fields_are_tolerated() -> None:
    entry = with_changes(ACCEPTED, extension={"x": 1}, somethingNew=[1, 2])
    entry["acceptedSuggestions"][0]["extra"] = True
    batch = parse_feedback({"feedback": [entry], "extension": {}})
    assert batch.errors == []
    assert len(batch.entries) == 1


def test_card_uuid_is_normalised_to_lower_case() -> None:
    batch = parse_feedback({"feedback": [with_changes(ACCEPTED, card=CARD.upper())]})
    assert batch.entries[0].card == CARD


def test_empty_feedback_array_is_valid() -> None:
    batch = parse_feedback({"feedback": []})
    assert batch.entries == []
    assert batch.errors == []


@pytest.mark.parametrize(
    "body",
    [None, [], "feedback", 3, {}, {"feedback": None}, {"feedback": {}}, {"feedback": "x"}, {"Feedback": []}],
    ids=repr,
)
def test_bad_body_is_one_top_level_error(body: object) -> None:
    batch = parse_feedback(body)
    assert batch.entries == []
    assert len(batch.errors) == 1
    assert batch.errors[0].index is None
    assert "feedback" in batch.errors[0].message


INVALID_ENTRIES: list[tuple[str, dict[str, Any] | object, str]] = [
    ("not-an-object", "just a string", ""),
    ("card-missing", with_changes(ACCEPTED, card=...), "card"),
    ("card-null", with_changes(ACCEPTED, card=None), "card"),
    ("card-not-string", with_changes(ACCEPTED, card=42), "card"),
    ("card-not-uuid", with_changes(ACCEPTED, card="card-1"), "card"),
    ("card-uuid-braces", with_changes(ACCEPTED, card="{" + CARD + "}"), "card"),
    ("outcome-missing", with_changes(ACCEPTED, outcome=...), "outcome"),
    ("outcome-unknown", with_changes(ACCEPTED, outcome="dismissed"), "outcome"),
    ("outcome-wrong-case", with_changes(ACCEPTED, outcome="Accepted"), "outcome"),
    ("outcome-not-string", with_changes(ACCEPTED, outcome=True), "outcome"),
    ("accepted-without-suggestions", with_changes(ACCEPTED, acceptedSuggestions=...), "acceptedSuggestions"),
    (
        "accepted-with-empty-suggestions",
        with_changes(ACCEPTED, acceptedSuggestions=[]),
        "acceptedSuggestions",
    ),
    (
        "accepted-suggestions-not-array",
        with_changes(ACCEPTED, acceptedSuggestions={"id": SUGGESTION}),
        "acceptedSuggestions",
    ),
    (
        "accepted-suggestion-not-object",
        with_changes(ACCEPTED, acceptedSuggestions=[SUGGESTION]),
        "acceptedSuggestions[0]",
    ),
    (
        "accepted-suggestion-without-id",
        with_changes(ACCEPTED, acceptedSuggestions=[{"uuid": SUGGESTION}]),
        "acceptedSuggestions[0].id",
    ),
    (
        "accepted-suggestion-id-not-uuid",
        with_changes(ACCEPTED, acceptedSuggestions=[{"id": SUGGESTION}, {"id": "s2"}]),
        "acceptedSuggestions[1].id",
    ),
    (
        "overridden-with-accepted-suggestions",
        with_changes(OVERRIDDEN_SANDBOX, acceptedSuggestions=[{"id": SUGGESTION}]),
        "acceptedSuggestions",
    ),
    (
        "accepted-with-override-reason",
        with_changes(ACCEPTED, overrideReason={"userComment": "x"}),
        "overrideReason",
    ),
    ("override-reason-not-object", with_changes(OVERRIDDEN_SANDBOX, overrideReason="nope"), "overrideReason"),
    ("override-reason-empty", with_changes(OVERRIDDEN_SANDBOX, overrideReason={}), "overrideReason"),
    (
        "override-reason-blank-comment-only",
        with_changes(OVERRIDDEN_SANDBOX, overrideReason={"userComment": "   "}),
        "overrideReason",
    ),
    (
        "override-reason-reason-not-object",
        with_changes(OVERRIDDEN_SANDBOX, overrideReason={"reason": "not-applicable"}),
        "overrideReason.reason",
    ),
    (
        "override-reason-code-missing",
        with_changes(OVERRIDDEN_SANDBOX, overrideReason={"reason": {"system": REASON_SYSTEM}}),
        "overrideReason.reason.code",
    ),
    (
        "override-reason-system-missing",
        with_changes(OVERRIDDEN_SANDBOX, overrideReason={"reason": {"code": "x"}}),
        "overrideReason.reason.system",
    ),
    (
        "override-reason-code-empty",
        with_changes(OVERRIDDEN_SANDBOX, overrideReason={"reason": {"code": "", "system": REASON_SYSTEM}}),
        "overrideReason.reason.code",
    ),
    (
        "override-reason-code-not-string",
        with_changes(OVERRIDDEN_SANDBOX, overrideReason={"reason": {"code": 7, "system": REASON_SYSTEM}}),
        "overrideReason.reason.code",
    ),
    (
        "override-reason-display-not-string",
        with_changes(
            OVERRIDDEN_SANDBOX,
            overrideReason={"reason": {"code": "x", "system": REASON_SYSTEM, "display": ["x"]}},
        ),
        "overrideReason.reason.display",
    ),
    (
        "override-reason-comment-not-string",
        with_changes(OVERRIDDEN_SANDBOX, overrideReason={"userComment": 12}),
        "overrideReason.userComment",
    ),
    (
        "override-reason-comment-too-long",
        with_changes(OVERRIDDEN_SANDBOX, overrideReason={"userComment": "x" * 10_001}),
        "overrideReason.userComment",
    ),
    ("timestamp-missing", with_changes(ACCEPTED, outcomeTimestamp=...), "outcomeTimestamp"),
    ("timestamp-not-string", with_changes(ACCEPTED, outcomeTimestamp=1709288130), "outcomeTimestamp"),
    ("timestamp-date-only", with_changes(ACCEPTED, outcomeTimestamp="2024-03-01"), "outcomeTimestamp"),
    (
        "timestamp-without-offset",
        with_changes(ACCEPTED, outcomeTimestamp="2024-03-01T10:15:30"),
        "outcomeTimestamp",
    ),
    (
        "timestamp-impossible-date",
        with_changes(ACCEPTED, outcomeTimestamp="2024-02-30T10:15:30Z"),
        "outcomeTimestamp",
    ),
    (
        "timestamp-impossible-hour",
        with_changes(ACCEPTED, outcomeTimestamp="2024-03-01T24:15:30Z"),
        "outcomeTimestamp",
    ),
    (
        "timestamp-bad-offset",
        with_changes(ACCEPTED, outcomeTimestamp="2024-03-01T10:15:30+25:00"),
        "outcomeTimestamp",
    ),
    (
        "timestamp-compact-offset",
        with_changes(ACCEPTED, outcomeTimestamp="2024-03-01T10:15:30+0100"),
        "outcomeTimestamp",
    ),
    (
        "timestamp-year-zero",
        with_changes(ACCEPTED, outcomeTimestamp="0000-01-01T00:00:00Z"),
        "outcomeTimestamp",
    ),
]


@pytest.mark.parametrize(
    ("raw", "field"), [(r, f) for _, r, f in INVALID_ENTRIES], ids=[n for n, _, _ in INVALID_ENTRIES]
)
def test_invalid_entry_names_index_and_field(raw: object, field: str) -> None:
    # The bad entry sits at index 1, between two good ones: the error must name index 1.
    batch = parse_feedback({"feedback": [ACCEPTED, raw, OVERRIDDEN_SANDBOX]})
    assert batch.errors, "expected an error"
    assert {error.index for error in batch.errors} == {1}
    expected_prefix = f"feedback[1].{field}:" if field else "feedback[1]:"
    assert any(error.message.startswith(expected_prefix) for error in batch.errors), batch.errors
    if field:
        assert any(error.field == field for error in batch.errors)
    # The good entries on either side are kept, with their own indices.
    assert [entry.index for entry in batch.entries] == [0, 2]


def test_every_problem_of_an_entry_is_reported() -> None:
    raw = {"card": "nope", "outcome": "maybe", "outcomeTimestamp": "yesterday"}
    batch = parse_feedback({"feedback": [raw]})
    assert {error.field for error in batch.errors} == {"card", "outcome", "outcomeTimestamp"}
    assert batch.entries == []


def test_batch_keeps_good_entries_and_reports_bad_ones() -> None:
    bad = with_changes(ACCEPTED, acceptedSuggestions=[])
    batch = parse_feedback({"feedback": [bad, ACCEPTED, "x", OVERRIDDEN_SANDBOX, bad]})
    assert [entry.index for entry in batch.entries] == [1, 3]
    assert sorted({error.index for error in batch.errors}) == [0, 2, 4]


def test_error_messages_never_echo_the_user_comment() -> None:
    secret = "Jane Doe, DOB 2019-01-01, MRN 123456"
    raw = with_changes(ACCEPTED, overrideReason={"userComment": secret}, outcomeTimestamp="bad")
    batch = parse_feedback({"feedback": [raw]})
    assert batch.errors
    assert all(secret not in error.message for error in batch.errors)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T10:15:30Z", datetime(2024, 3, 1, 10, 15, 30, tzinfo=UTC)),
        ("2024-03-01t10:15:30z", datetime(2024, 3, 1, 10, 15, 30, tzinfo=UTC)),
        ("2024-03-01T11:15:30+01:00", datetime(2024, 3, 1, 10, 15, 30, tzinfo=UTC)),
        ("2024-03-01T05:45:30-04:30", datetime(2024, 3, 1, 10, 15, 30, tzinfo=UTC)),
        ("2024-03-01T10:15:30-00:00", datetime(2024, 3, 1, 10, 15, 30, tzinfo=UTC)),
        ("1985-04-12T23:20:50.52Z", datetime(1985, 4, 12, 23, 20, 50, 520000, tzinfo=UTC)),
        ("2024-03-01T10:15:30.123456789Z", datetime(2024, 3, 1, 10, 15, 30, 123456, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2024-03-01T00:30:00+01:00", datetime(2024, 2, 29, 23, 30, 0, tzinfo=UTC)),
    ],
)
def test_rfc3339_parsing_normalises_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_idempotency_key_is_stable_and_ignores_offset_spelling_and_suggestion_order() -> None:
    two = [{"id": SUGGESTION}, {"id": CARD}]
    a = parse_feedback({"feedback": [with_changes(ACCEPTED, acceptedSuggestions=two)]}).entries[0]
    b = parse_feedback(
        {
            "feedback": [
                with_changes(
                    ACCEPTED,
                    acceptedSuggestions=list(reversed(two)),
                    outcomeTimestamp="2024-03-01T11:15:30+01:00",
                )
            ]
        }
    ).entries[0]
    assert feedback_idempotency_key("nb", a) == feedback_idempotency_key("nb", b)
    assert len(feedback_idempotency_key("nb", a)) == 64
    assert feedback_idempotency_key("nb", a) != feedback_idempotency_key("other-service", a)


@pytest.mark.parametrize(
    "change",
    [
        {"card": "11111111-2222-4333-8444-555555555555"},
        {"outcomeTimestamp": "2024-03-01T10:16:00.124Z"},
        {"overrideReason": {"reason": {"code": "other", "system": REASON_SYSTEM}}},
        {"overrideReason": {"reason": {"code": "not-applicable", "system": "urn:other"}}},
        {
            "overrideReason": {
                "reason": {"code": "not-applicable", "system": REASON_SYSTEM},
                "userComment": "c",
            }
        },
        {"overrideReason": ...},
    ],
    ids=["card", "timestamp", "code", "system", "comment", "no-reason"],
)
def test_idempotency_key_changes_with_each_part(change: dict[str, Any]) -> None:
    base = parse_feedback({"feedback": [OVERRIDDEN_SANDBOX]}).entries[0]
    other = parse_feedback({"feedback": [with_changes(OVERRIDDEN_SANDBOX, **change)]}).entries[0]
    assert feedback_idempotency_key("nb", base) != feedback_idempotency_key("nb", other)


def test_idempotency_key_ignores_display() -> None:
    reason = {"reason": {"code": "not-applicable", "system": REASON_SYSTEM, "display": "Not applicable"}}
    base = parse_feedback({"feedback": [OVERRIDDEN_SANDBOX]}).entries[0]
    other = parse_feedback({"feedback": [with_changes(OVERRIDDEN_SANDBOX, overrideReason=reason)]}).entries[0]
    assert feedback_idempotency_key("nb", base) == feedback_idempotency_key("nb", other)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
_entryish = st.fixed_dictionaries(
    {},
    optional={
        "card": st.sampled_from([CARD, "x", None, 1]),
        "outcome": st.sampled_from(["accepted", "overridden", "other", None]),
        "acceptedSuggestions": st.sampled_from([[{"id": SUGGESTION}], [], None, [{}], "x"]),
        "overrideReason": _json,
        "outcomeTimestamp": st.sampled_from(["2024-03-01T10:15:30Z", "2024-13-01T10:15:30Z", "", None]),
        "extra": _json,
    },
)


@given(
    st.one_of(_json, st.fixed_dictionaries({"feedback": st.lists(st.one_of(_entryish, _json), max_size=5)}))
)
def test_parse_feedback_never_raises_and_accounts_for_every_entry(body: object) -> None:
    batch = parse_feedback(body)
    if isinstance(body, dict) and isinstance(body.get("feedback"), list):
        bad = {error.index for error in batch.errors}
        good = {entry.index for entry in batch.entries}
        assert None not in bad
        assert bad.isdisjoint(good)
        assert bad | good == set(range(len(body["feedback"])))
    else:
        assert batch.entries == []
        assert [error.index for error in batch.errors] == [None]
