"""The card JSON helpers: markdown escaping and dropping empty members."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cds_service.services.cards.card_json import OVERRIDE_REASONS, compact, override_reasons
from cds_service.services.cards.markdown import escape_inline

_INLINE_ACTIVE = set("`*_[]|~")


@given(st.text(alphabet=st.sampled_from("\\`*_{}[]()#+-.!|>~<&\n\r ;:/waé—≥"), max_size=60))
def test_escape_inline_leaves_no_markup_and_no_html(text: str) -> None:
    escaped = escape_inline(text)
    assert "<" not in escaped and ">" not in escaped and "\n" not in escaped and "://" not in escaped
    unescaped = escaped.replace("\\\\", "")  # an escaped backslash is plain text
    for position, char in enumerate(unescaped):
        if char in _INLINE_ACTIVE:
            assert position > 0 and unescaped[position - 1] == "\\", (text, escaped)


def test_escape_inline_examples() -> None:
    assert escape_inline("<b>x</b> & [link](http://a.b)\n") == "&lt;b&gt;x&lt;/b&gt; &amp; \\[link\\](http:\\/\\/a.b) "
    assert escape_inline("≥ 18 months — L2, 2025-06-01: 5 %") == "≥ 18 months — L2, 2025-06-01: 5 %"


def test_compact_drops_empty_members_recursively() -> None:
    value = {"a": None, "b": "", "c": [], "d": {}, "e": [None, "", {"f": []}], "g": {"h": {"i": None}},
             "j": False, "k": 0, "l": (), "m": [1, "x", {"n": "y", "o": []}]}
    assert compact(value) == {"j": False, "k": 0, "l": (), "m": [1, "x", {"n": "y"}]}


def test_compact_copies_objects_and_lists() -> None:
    inner = {"x": "y"}
    value = {"list": [inner], "object": inner}
    result = compact(value)
    assert result == value
    assert result["object"] is not inner
    assert result["list"][0] is not inner


def test_override_reasons_are_the_listed_codings() -> None:
    assert [reason.wire() for reason in override_reasons()] == list(OVERRIDE_REASONS)
