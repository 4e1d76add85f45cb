"""An Answer as Telegram HTML: every dynamic string escaped, the question's words in bold, at most
4,096 characters a message, split between paragraphs and never inside a tag.

Pure functions, no Telegram import: the renderer is tested on its own with hostile text.
"""
from __future__ import annotations

import html
import re
from typing import Iterable

from bot.rendering.plain import SHOWING_RESULTS_FOR, citation_label

MAX_MESSAGE = 4096
MAX_PASSAGE_CHARS = 1200  # a quote longer than this is cut at a word, with an ellipsis
_TAG_RE = re.compile(r"<(/?)([a-z-]+)([^>]*)>")


def escape(text: str) -> str:
    """Text for Telegram HTML: only <, > and & need escaping outside tags."""
    return html.escape(text, quote=False)


def escape_attribute(text: str) -> str:
    return html.escape(text, quote=True)


def highlight(text: str, spans) -> str:
    """Escaped text with each (start, end) span in <b> (the citation's highlights, made by the core)."""
    out, last = [], 0
    for start, end in spans:
        if start < last or end > len(text) or start >= end:
            continue  # past a cut, or overlapping: left plain
        out.append(escape(text[last:start]))
        out.append(f"<b>{escape(text[start:end])}</b>")
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip() + " \u2026"


def footer(disclaimer: str, helpline: str) -> str:
    return f"<i>{escape(disclaimer)}</i>\n\u260e\ufe0f {escape(helpline)}"


def lead_html(lead: str) -> str:
    """What to do first (an emergency, a safety note): its first line in bold."""
    first, _, rest = lead.partition("\n")
    return f"<b>{escape(first)}</b>" + (f"\n{escape(rest)}" if rest else "")


def citation_html(citation, numbered: bool = True) -> str:
    shown = _shorten(citation.passage, MAX_PASSAGE_CHARS)
    passage = highlight(shown, citation.highlights)
    label = escape(citation_label(citation.title, citation.section, citation.excerpt))
    source = f'<a href="{escape_attribute(citation.link)}">{label}</a>' if citation.link else label
    number = f"<b>{citation.rank}.</b> " if numbered else ""
    return f"{number}{passage}\n\u2014 {source}"


def answer_html(answer, note: str = "") -> list[str]:
    """The reply as one or more messages, each valid Telegram HTML of at most 4,096 characters."""
    paragraphs = [lead_html(answer.lead)] if answer.lead else []
    if answer.showing_results_for:
        paragraphs.append(f"<i>{escape(SHOWING_RESULTS_FOR.format(question=answer.showing_results_for))}</i>")
    if note:
        paragraphs.append(escape(note))
    if answer.citations and getattr(answer, "related", ""):
        paragraphs.append(f"<i>{escape(answer.related)}</i>")
    if answer.citations:
        paragraphs.extend(citation_html(c) for c in answer.citations)
    elif answer.note:
        paragraphs.append(escape(answer.note))
    paragraphs.append(footer(answer.disclaimer, answer.helpline))
    return split_messages(paragraphs)


def split_messages(paragraphs: Iterable[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Pack paragraphs into messages of at most `limit` characters; a paragraph too long alone is cut
    between words, its open tags closed before the cut and opened again after it."""
    messages: list[str] = []
    current = ""
    for paragraph in paragraphs:
        for piece in _cut(paragraph, limit):
            joined = f"{current}\n\n{piece}" if current else piece
            if len(joined) <= limit:
                current = joined
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


def _cut(paragraph: str, limit: int) -> list[str]:
    if len(paragraph) <= limit:
        return [paragraph]
    budget = limit - 64  # room for the tags closed before a cut and reopened after it
    # Units never split: a tag, an entity, a run of spaces, a word (a giant one in slices).
    units: list[str] = []
    for unit in re.findall(r"<[^>]*>|&[#\w]+;|[^<&\s]+|\s+|[<&]", paragraph):
        if unit[0] in "<&" or len(unit) <= budget // 2:
            units.append(unit)
        else:
            units.extend(unit[i:i + budget // 2] for i in range(0, len(unit), budget // 2))
    pieces: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, the opening tag as written)
    current = ""
    for unit in units:
        if len(current) + len(unit) > budget and current.strip():
            pieces.append(current + "".join(f"</{name}>" for name, _ in reversed(open_tags)))
            current = "".join(tag for _, tag in open_tags)
        m = _TAG_RE.fullmatch(unit)
        if m and m.group(1):
            if open_tags and open_tags[-1][0] == m.group(2):
                open_tags.pop()
        elif m:
            open_tags.append((m.group(2), unit))
        current += unit
    if current.strip():
        pieces.append(current)
    return pieces
