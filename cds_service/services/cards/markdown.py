"""Escaping data-derived text for GitHub-flavoured markdown: the sandbox renders raw HTML in ``detail``."""

from __future__ import annotations

import html

# Every character with a meaning in GFM inline or block syntax gets a backslash; line breaks become spaces.
_MARKDOWN_SYNTAX = str.maketrans({char: "\\" + char for char in "\\`*_{}[]()#+-.!|>~"} | {"\n": " ", "\r": " "})


def escape_markdown(text: str) -> str:
    """Neutralise HTML (``& < >``), then backslash-escape markdown syntax: data never becomes markup or links."""
    return html.escape(text, quote=False).translate(_MARKDOWN_SYNTAX)
