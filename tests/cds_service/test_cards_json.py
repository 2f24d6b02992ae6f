"""The card JSON helpers: markdown escaping and dropping empty members."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from cds_service.services.cards.card_json import OVERRIDE_REASONS, compact, override_reasons
from cds_service.services.cards.markdown import escape_markdown

# The escaping as first written: html.escape, then a backslash before each markdown character.
_REFERENCE_TABLE = str.maketrans({char: "\\" + char for char in "\\`*_{}[]()#+-.!|>~"} | {"\n": " ", "\r": " "})


def _reference_escape(text: str) -> str:
    return html.escape(text, quote=False).translate(_REFERENCE_TABLE)


@given(st.text())
def test_escape_markdown_is_html_escape_then_backslashes(text: str) -> None:
    assert escape_markdown(text) == _reference_escape(text)


@given(st.text(alphabet=st.sampled_from("\\`*_{}[]()#+-.!|>~<&\n\r ;aé—≥"), max_size=40))
def test_escape_markdown_on_markup_characters(text: str) -> None:
    assert escape_markdown(text) == _reference_escape(text)


def test_escape_markdown_examples() -> None:
    assert escape_markdown("<b>x</b> & [link](http://a.b)\n") == (
        "&lt;b&gt;x&lt;/b&gt; &amp; \\[link\\]\\(http://a\\.b\\) ")
    assert escape_markdown("≥ 18 months — L2") == "≥ 18 months — L2"


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
