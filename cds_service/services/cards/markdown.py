"""Escaping data-derived text for GitHub-flavoured markdown: the sandbox renders raw HTML in ``detail``."""

from __future__ import annotations

from functools import lru_cache

# One C-level translate does it all: HTML's ``& < >`` become entities (as ``html.escape(quote=False)``), every
# character with a meaning in GFM inline or block syntax gets a backslash, line breaks become spaces. The
# other ASCII characters map to themselves: a character missing from the table costs translate a raised and
# caught LookupError, which used to be most of its time.
_MARKDOWN_ESCAPES: dict[int, str] = (
    {code: chr(code) for code in range(128)}
    | {ord(char): "\\" + char for char in "\\`*_{}[]()#+-.!|~"}
    | {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("\n"): " ", ord("\r"): " "}
)


def escape_markdown(text: str) -> str:
    """Neutralise HTML (``& < >``), then backslash-escape markdown syntax: data never becomes markup or links."""
    return text.translate(_MARKDOWN_ESCAPES)


@lru_cache(maxsize=1024)
def escape_static(text: str) -> str:
    """``escape_markdown`` of text fixed by the code (labels, rule names, table citations), escaped once.

    Never pass patient data: the (bounded) cache keeps the texts it is given for the life of the process.
    """
    return escape_markdown(text)
