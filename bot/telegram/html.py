"""An Answer as Telegram HTML that Telegram takes whole: every dynamic string escaped, the question's words in
bold, and every message within Telegram's limits as Telegram counts them.

Telegram counts a message's length in UTF-16 units of its text after entity parsing (tags gone, `&amp;` one
character, an emoji two units): at most 4,096. And it keeps the formatting of a message's first 100
entities only, dropping the rest silently: a passage with 150 bold words would lose the link after it. So
each message is planned in those units: the citations' links, numbers and the footer's formatting always
count, and the bold highlights share what is left (dropped before any link is); replies split between
paragraphs; a passage too long for a message alone is cut at a sentence or a word, never inside a tag or an
entity. Pure functions, no Telegram import; the tests judge the output with tdlib, Telegram's own parser.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Iterable

from bot.rendering.plain import SHOWING_RESULTS_FOR, citation_label

MAX_MESSAGE = 4096  # UTF-16 units of a message's text after entity parsing
MAX_ENTITIES = 100  # Telegram drops the formatting of every entity after the 100th
MAX_PASSAGE_CHARS = 1200  # a quote longer than this is cut at a sentence or a word, with an ellipsis
ELLIPSIS = " \u2026"
_TAG_RE = re.compile(r"<(/?)([a-z-]+)([^>]*)>")
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*(?=\s)")


def escape(text: str) -> str:
    """Text for Telegram HTML: only <, > and & need escaping outside tags."""
    return html.escape(text, quote=False)


def escape_attribute(text: str) -> str:
    return html.escape(text, quote=True)


def href(link: str) -> str:
    """A link for href="...": spaces and control characters percent-encoded, as a URL has them (Telegram's
    parser takes a NUL in an attribute for the end of the text and refuses the whole message)."""
    return escape_attribute(re.sub(r"[\x00-\x20\x7f]", lambda m: f"%{ord(m.group()):02X}", link))


def utf16_len(text: str) -> int:
    """Telegram's measure of text: characters outside the Basic Multilingual Plane (most emoji) count 2."""
    if text.isascii():
        return len(text)
    # UTF-16 itself, in C: 2 bytes a unit ("surrogatepass": a lone surrogate is one unit, as it was counted)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def visible_length(markup: str) -> int:
    """The UTF-16 length of the text Telegram makes of HTML written by this module (tags out, entities in)."""
    return utf16_len(html.unescape(_TAG_RE.sub("", markup)))


def entity_count(markup: str) -> int:
    """At most the entities Telegram makes of HTML written by this module: one per opening tag."""
    return sum(1 for m in _TAG_RE.finditer(markup) if not m.group(1))


def highlight(text: str, spans) -> str:
    """Escaped text with each (start, end) span in <b> (the citation's highlights, made by the core)."""
    out, last = [], 0
    for start, end in _usable(text, spans):
        out.append(escape(text[last:start]))
        out.append(f"<b>{escape(text[start:end])}</b>")
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def _usable(text: str, spans) -> list[tuple[int, int]]:
    """The spans highlight() bolds: inside the text (a cut may have ended it), none overlapping."""
    out, last = [], 0
    for start, end in spans:
        if start >= last and end <= len(text) and start < end:
            out.append((start, end))
            last = end
    return out


def shorten(text: str, limit: int, measure=len) -> str:
    """`text` within `limit` (by `measure`), with an ellipsis: cut after a sentence in its last third, else
    at a word in its second half, else between two characters (never inside an emoji sequence or between a
    letter and its accent)."""
    if measure(text) <= limit:
        return text
    room = max(0, limit - measure(ELLIPSIS))
    end = len(text)
    while end > 0 and measure(text[:end]) > room:
        end -= max(1, (measure(text[:end]) - room) // 2)
    head = text[:end]
    sentences = [m.end() for m in _SENTENCE_END.finditer(text[: end + 1]) if 2 * len(head) // 3 <= m.end() <= end]
    word = end if text[end].isspace() else head.rfind(" ")
    if sentences:
        head = head[: sentences[-1]]
    elif word > len(head) // 2:
        head = head[:word]
    else:
        while end > 0 and _joined(text, end):
            end -= 1
        head = text[:end]
    return head.rstrip() + ELLIPSIS


def _joined(text: str, i: int) -> bool:
    """Whether text[i - 1] and text[i] are one character to a reader (an accent, an emoji sequence)."""
    after, before = text[i], text[i - 1]
    return (
        bool(unicodedata.combining(after))
        or after in "\u200d\ufe0f"
        or before == "\u200d"
        or 0x1F3FB <= ord(after) <= 0x1F3FF
    )  # a skin tone


# --- blocks: the paragraphs of a reply, and what each costs --------------------------------------


@dataclass(frozen=True)
class Block:
    """A paragraph: HTML before and after a passage of plain text whose highlights are optional."""

    before: str
    passage: str = ""
    spans: tuple[tuple[int, int], ...] = ()  # usable highlights of `passage`
    after: str = ""

    def html(self, bold: int) -> str:
        return self.before + highlight(self.passage, self.spans[:bold]) + self.after

    @property
    def units(self) -> int:
        return visible_length(self.before) + utf16_len(self.passage) + visible_length(self.after)

    @property
    def entities(self) -> int:
        """The entities it always has (links, numbers, italics); its highlights are on top."""
        return entity_count(self.before) + entity_count(self.after)

    def within(self, limit: int) -> Block:
        """The block shortened to `limit` units by cutting its passage (its highlights past the cut go)."""
        room = limit - self.units + utf16_len(self.passage)
        passage = shorten(self.passage, max(room, 0), utf16_len)
        return replace(self, passage=passage, spans=tuple(_usable(passage, self.spans)))


def citation_block(citation, numbered: bool = True) -> Block:
    passage = shorten(citation.passage, MAX_PASSAGE_CHARS)
    label = escape(citation_label(citation.title, citation.section, citation.excerpt)).strip() or "Source"
    source = f'<a href="{href(citation.link)}">{label}</a>' if citation.link else label
    number = f"<b>{citation.rank}.</b> " if numbered else ""
    return Block(number, passage, tuple(_usable(passage, citation.highlights)), f"\n\u2014 {source}")


def footer(disclaimer: str, helpline: str) -> str:
    return f"<i>{escape(disclaimer)}</i>\n\u260e\ufe0f {escape(helpline)}"


def lead_html(lead: str) -> str:
    """What to do first (an emergency, a safety note): its first line in bold."""
    first, _, rest = lead.partition("\n")
    return f"<b>{escape(first)}</b>" + (f"\n{escape(rest)}" if rest else "")


def citation_html(citation, numbered: bool = True) -> str:
    """One citation alone, every highlight in bold (the messages themselves are planned by fit_messages)."""
    block = citation_block(citation, numbered)
    return block.html(len(block.spans))


def shared_html(citation, tail: str) -> str:
    """One passage to share from inline mode, then `tail`: one message, so the passage gives way."""
    last = Block(tail)
    return _render([citation_block(citation, numbered=False).within(MAX_MESSAGE - last.units - 2), last])


def answer_html(answer, note: str = "") -> list[str]:
    """The reply as one or more messages, each within Telegram's limits (see the module docstring)."""
    blocks = [Block(lead_html(answer.lead))] if answer.lead else []
    if answer.showing_results_for:
        blocks.append(Block(f"<i>{escape(SHOWING_RESULTS_FOR.format(question=answer.showing_results_for))}</i>"))
    if note:
        blocks.append(Block(escape(note)))
    if answer.citations and getattr(answer, "related", ""):
        blocks.append(Block(f"<i>{escape(answer.related)}</i>"))
    if answer.citations:
        blocks.extend(citation_block(c) for c in answer.citations)
    elif answer.note:
        blocks.append(Block(escape(answer.note)))
    blocks.append(Block(footer(answer.disclaimer, answer.helpline)))
    return fit_messages(blocks)


# --- messages ------------------------------------------------------------------------------------


def fit_messages(blocks: Iterable[Block], limit: int = MAX_MESSAGE, max_entities: int = MAX_ENTITIES) -> list[str]:
    """Pack blocks into messages of at most `limit` units and `max_entities` entities, in order; a block
    too long alone has its passage cut, or, without one, is split between words (tags closed and reopened)."""
    messages: list[str] = []
    current: list[Block] = []
    for block in blocks:
        for piece in _pieces(block, limit):
            joined = current + [piece]
            if current and (_units(joined) > limit or sum(b.entities for b in joined) > max_entities):
                messages.append(_render(current, max_entities))
                joined = [piece]
            current = joined
    if current:
        messages.append(_render(current, max_entities))
    return messages


def split_messages(paragraphs: Iterable[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Paragraphs of HTML packed into messages (fit_messages with nothing optional in them)."""
    return fit_messages((Block(p) for p in paragraphs), limit)


def _units(blocks: list[Block]) -> int:
    return sum(b.units for b in blocks) + 2 * (len(blocks) - 1)  # "\n\n" between paragraphs


def _render(blocks: list[Block], max_entities: int = MAX_ENTITIES) -> str:
    bold = _share(max_entities - sum(b.entities for b in blocks), [len(b.spans) for b in blocks])
    return "\n\n".join(b.html(n) for b, n in zip(blocks, bold))


def _share(budget: int, wants: list[int]) -> list[int]:
    """`budget` highlights shared out in turns, so every passage keeps some bold when not all can."""
    given = [0] * len(wants)
    while budget > 0 and any(g < w for g, w in zip(given, wants)):
        for i, want in enumerate(wants):
            if budget > 0 and given[i] < want:
                given[i] += 1
                budget -= 1
    return given


def _pieces(block: Block, limit: int) -> list[Block]:
    if block.units <= limit:
        return [block]
    if block.passage and block.units - utf16_len(block.passage) < limit // 2:
        return [block.within(limit)]
    return [Block(piece) for piece in _cut(block.html(0), limit)]  # a giant title: no bold, nothing lost


def _cut(paragraph: str, limit: int) -> list[str]:
    """HTML cut into pieces of at most `limit` visible units, between words, with open tags closed before a
    cut and reopened after it. Units never split: a tag, an entity, a run of spaces, a word (a giant one
    in slices)."""
    units: list[str] = []
    for unit in re.findall(r"<[^>]*>|&[#\w]+;|[^<&\s]+|\s+|[<&]", paragraph):
        if unit[0] in "<&" or utf16_len(unit) <= limit // 2:
            units.append(unit)
        else:
            units.extend(unit[i : i + limit // 4] for i in range(0, len(unit), limit // 4))
    pieces: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, the opening tag as written)
    current, size = "", 0
    for unit in units:
        cost = visible_length(unit)
        if size + cost > limit and current.strip():
            pieces.append(current + "".join(f"</{name}>" for name, _ in reversed(open_tags)))
            current, size = "".join(tag for _, tag in open_tags), 0
        m = _TAG_RE.fullmatch(unit)
        if m and m.group(1):
            if open_tags and open_tags[-1][0] == m.group(2):
                open_tags.pop()
        elif m:
            open_tags.append((m.group(2), unit))
        current, size = current + unit, size + cost
    if current.strip():
        pieces.append(current)
    return pieces
