"""Links that open the article at the quoted passage, with a URL text fragment (#:~:text=start,end).

The text directive percent-encodes its parts; "-", "," and "&" must be encoded as well, since they are
the directive's own syntax (WICG Scroll-to-Text Fragment spec). Browsers without support just open
the article.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_EDGE_WORDS = 4
_TRAILING = re.compile(r"(?:\s*(?:\.{2,}|\u2026))+\s*$")  # a teaser's "..." is not on the page


def _encode(text: str) -> str:
    return quote(text, safe="").replace("-", "%2D")


def text_fragment(passage: str) -> str:
    words = _TRAILING.sub("", passage).split()
    if not words:
        return ""
    if len(words) <= 2 * _EDGE_WORDS:
        return f":~:text={_encode(' '.join(words))}"
    return f":~:text={_encode(' '.join(words[:_EDGE_WORDS]))},{_encode(' '.join(words[-_EDGE_WORDS:]))}"


def passage_link(url: str, passage: str) -> str:
    if not url:
        return ""
    directive = text_fragment(passage)
    if not directive:
        return url
    base, _, fragment = url.partition("#")
    return f"{base}#{fragment}{directive}"
