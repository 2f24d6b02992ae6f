"""Escaping data-derived text for GitHub-flavoured markdown: the sandbox renders raw HTML in ``detail``."""

from __future__ import annotations

import html
import re

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def escape_markdown(text: str) -> str:
    """Neutralise HTML (``& < >``), then backslash-escape markdown syntax: data never becomes markup or links."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False)).replace("\n", " ")
