"""Articles in, from a folder or a file of Markdown, HTML or JSON Lines.

Every article becomes one plain text with its structure kept as blocks (headings and paragraphs with
character offsets), so that chunks can follow headings and citations can point back into the text.
A file that cannot be read is reported with the reason and skipped; the rest still loads.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import mmap
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator


from bot.corpus.records import (  # noqa: F401 (the model is imported from here too)
    HEADING,
    PARAGRAPH,
    Article,
    Block,
    Corpus,
    CorpusError,
    Problem,
)

FORMATS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".jsonl": "jsonl"}
# The most text one article may have: a site's longest pages are far shorter, and one line of ten million
# characters (a page exported without line breaks) takes nltk's sentence splitter past its 5 s time limit.
MAX_ARTICLE_CHARS = 1_000_000

_BLOCK_RE = re.compile(r"[^\n]+(?:\n[ \t]*[^\s][^\n]*)*")
_LIST_ITEM_RE = re.compile(r"^\s*(?:[-*+\u2022]|\d+[.)])\s")
_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


class _Skip(Exception):
    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.line = reason, line


@dataclass
class _Builder:
    """Collects blocks into one text, recording where each starts and ends."""

    parts: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    length: int = 0

    def add(self, kind: str, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if self.parts:
            self.parts.append("\n\n")
            self.length += 2
        self.blocks.append(Block(kind, self.length, self.length + len(text)))
        self.parts.append(text)
        self.length += len(text)

    def text(self) -> str:
        return "".join(self.parts)


def blocks_from_plain_text(text: str) -> tuple[Block, ...]:
    """Blocks of text laid out as in the JSONL format: blank lines between paragraphs, headings alone.

    A heading is a paragraph of one short line that does not end like a sentence (or ends in '?',
    as this site's headings do) and is not a list item.
    """
    blocks = []
    for m in _BLOCK_RE.finditer(text):
        chunk = m.group()
        stripped = chunk.strip()
        if not stripped:
            continue
        start = m.start() + (len(chunk) - len(chunk.lstrip()))
        end = start + len(stripped)
        kind = HEADING if _looks_like_heading(stripped) else PARAGRAPH
        blocks.append(Block(kind, start, end))
    return tuple(blocks)


def _looks_like_heading(block: str) -> bool:
    if "\n" in block or len(block) > 120 or _LIST_ITEM_RE.match(block):
        return False
    if not any(c.isalpha() for c in block):
        return False
    return block.endswith("?") or block[-1] not in ".!:;,\u2026\"\u201d'"


def _decode(data: bytes) -> str:
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise _Skip("empty file")
    if b"\x00" in data[:8192]:
        raise _Skip("binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _Skip(f"not UTF-8 text (bad byte at offset {e.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _str_field(record: dict, name: str, required: bool, line: int | None = None) -> str:
    value = record.get(name)
    if value is None or value == "":
        if required:
            raise _Skip(f"missing '{name}'", line)
        return ""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()  # YAML reads an unquoted 2024-01-05 as a date
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Skip(f"'{name}' must be text, got {type(value).__name__}", line)
    return str(value).strip()


# --- Markdown -------------------------------------------------------------------------------------


def _markdown_builder(body: str) -> _Builder:
    """Plain text of a Markdown body: markup dropped, headings and paragraphs kept as blocks."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    out = _Builder()
    lines: list[str] = []  # lines of the current list or table, flushed as one paragraph
    depth = 0  # nesting of lists/tables
    for i, tok in enumerate(tokens):
        if tok.type in ("bullet_list_open", "ordered_list_open", "table_open"):
            depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close", "table_close"):
            depth -= 1
            if depth == 0:
                out.add(PARAGRAPH, "\n".join(lines))
                lines = []
        elif tok.type == "inline":
            text = _inline_text(tok)
            parent = tokens[i - 1].type if i else ""
            if parent == "heading_open":
                if depth:
                    lines.append(text)
                else:
                    out.add(HEADING, text)
            elif depth:
                if parent in ("th_open", "td_open") and lines and tokens[i - 2].type not in ("tr_open",):
                    lines[-1] += " | " + text
                else:
                    prefix = "- " if parent == "paragraph_open" and tokens[i - 2].type == "list_item_open" else ""
                    lines.append(prefix + text)
            else:
                out.add(PARAGRAPH, text)
        elif tok.type in ("fence", "code_block") and tok.content.strip():
            (lines.append(tok.content.strip()) if depth else out.add(PARAGRAPH, tok.content))
    return out


def _inline_text(tok) -> str:
    parts = []
    for child in tok.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak",):
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
    return re.sub(r"[ \t]+", " ", "".join(parts)).strip()


def _load_markdown(path: Path, text: str, default_id: str) -> Article:
    m = _FRONT_MATTER_RE.match(text)
    if not m:
        raise _Skip("no front matter: start the file with '---', then 'title:' and 'url:' lines, then '---'")
    import yaml  # only for Markdown's front matter: a start that reads no Markdown need not import it

    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 2 if mark else None
        raise _Skip(f"front matter is not valid YAML ({getattr(e, 'problem', None) or e})", line) from None
    if not isinstance(meta, dict):
        raise _Skip("front matter must be 'key: value' lines")
    title = _str_field(meta, "title", required=True)
    url = _str_field(meta, "url", required=True)
    article_id = _str_field(meta, "id", required=False) or default_id
    date = _str_field(meta, "date", required=False) or None
    body = _markdown_builder(text[m.end() :])
    if not body.blocks:
        raise _Skip("no text after the front matter")
    return Article(
        article_id,
        title,
        url,
        body.text(),
        tuple(body.blocks),
        str(path),
        date,
        excerpt=bool(meta.get("excerpt", False)),
    )


# --- HTML -----------------------------------------------------------------------------------------


def _load_html(path: Path, text: str, default_id: str) -> Article:
    import trafilatura

    extracted = trafilatura.extract(
        text,
        output_format="markdown",
        include_formatting=True,
        include_links=False,
        include_images=False,
        include_tables=True,
        include_comments=False,
        favor_precision=True,
    )  # a menu page is not an article
    if not extracted or not extracted.strip():
        raise _Skip("no main text found in the HTML page")
    meta = trafilatura.extract_metadata(text)
    title = (meta.title if meta and meta.title else "").strip()
    url = (meta.url if meta and meta.url else "").strip()
    if not title:
        raise _Skip("no title found (<title> or og:title)")
    if not url.startswith(("http://", "https://")):
        raise _Skip('no URL found: add <link rel="canonical" href="https://..."> to the page')
    body = _markdown_builder(extracted)
    blocks = list(body.blocks)
    # Extractors keep the page's own <h1>: it repeats the title, and a heading is not a section of text.
    if blocks and blocks[0].kind == HEADING and body.text()[blocks[0].start : blocks[0].end].strip() == title:
        rebuilt = _Builder()
        full = body.text()
        for b in blocks[1:]:
            rebuilt.add(b.kind, full[b.start : b.end])
        body = rebuilt
    if not body.blocks:
        raise _Skip("no main text found in the HTML page")
    date = meta.date if meta and meta.date else None
    return Article(default_id, title, url, body.text(), tuple(body.blocks), str(path), date)


# --- JSON Lines -----------------------------------------------------------------------------------


def _load_jsonl(path: Path, text: str, problems: list[Problem]) -> Iterator[Article]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise _Skip(f"not valid JSON ({e.msg} at column {e.colno})", number) from None
            if not isinstance(record, dict):
                raise _Skip(f"expected a JSON object, got {type(record).__name__}", number)
            body = record.get("text")
            if not isinstance(body, str):
                raise _Skip("'text' must be a string" if body is not None else "missing 'text'", number)
            body = body.replace("\r\n", "\n").strip()
            if not body:
                raise _Skip("'text' is empty", number)
            article_id = _str_field(record, "id", False, number) or f"{path.stem}-{number}"
            yield Article(
                article_id,
                _str_field(record, "title", False, number),
                _str_field(record, "url", False, number),
                body,
                blocks_from_plain_text(body),
                f"{path}:{number}",
                _str_field(record, "date", False, number) or None,
                excerpt=bool(record.get("excerpt", False)),
            )
        except _Skip as skip:
            problems.append(Problem(str(path), skip.reason, skip.line))


# --- The folder -----------------------------------------------------------------------------------


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    found = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not p.is_file():
            continue
        found.append(p)
    return found


def load_corpus(path: str | Path) -> Corpus:
    """Every article under `path`, plus one Problem for each file or line that could not be used."""
    root = Path(path)
    if not root.exists():
        raise CorpusError(f"corpus not found: {root}")
    articles: list[Article] = []
    problems: list[Problem] = []
    digest = hashlib.sha256()
    seen: dict[str, str] = {}
    files = _files(root)
    for file in files:
        rel = file.name if root.is_file() else file.relative_to(root).as_posix()
        kind = FORMATS.get(file.suffix.lower())
        if kind is None:
            problems.append(
                Problem(
                    str(file), f"unsupported file type '{file.suffix or file.name}' (use {', '.join(sorted(FORMATS))})"
                )
            )
            continue
        try:
            data = file.read_bytes()
        except OSError as e:
            problems.append(Problem(str(file), f"cannot read: {e.strerror or e}"))
            continue
        _hash_file(digest, rel, data)
        try:
            text = _decode(data)
            if kind == "jsonl":
                loaded: Iterable[Article] = list(_load_jsonl(file, text, problems))
            elif kind == "markdown":
                loaded = [_load_markdown(file, text, _id_from_name(rel))]
            else:
                loaded = [_load_html(file, text, _id_from_name(rel))]
        except _Skip as skip:
            problems.append(Problem(str(file), skip.reason, skip.line))
            continue
        except Exception as e:  # an extractor's own failure must not stop the other files
            problems.append(Problem(str(file), f"could not be parsed ({type(e).__name__}: {e})"))
            continue
        for article in loaded:
            if len(article.text) > MAX_ARTICLE_CHARS:
                problems.append(
                    Problem(
                        article.source,
                        f"{len(article.text):,} characters of text, more than the "
                        f"{MAX_ARTICLE_CHARS:,} an article may have; split it into "
                        "smaller articles",
                    )
                )
                continue
            if article.id in seen:
                problems.append(Problem(article.source, f"duplicate id '{article.id}' (first in {seen[article.id]})"))
                continue
            seen[article.id] = article.source
            articles.append(article)
    return Corpus(articles, problems, digest.hexdigest(), files=len(files))


def _id_from_name(rel: str) -> str:
    """An id from the file's path in the corpus: 'guides/Naltrexone Basics.md' -> 'guides/naltrexone-basics'."""
    stem = rel.rsplit(".", 1)[0]
    return re.sub(r"[^\w/]+", "-", stem.lower()).strip("-")


def corpus_fingerprint(path: str | Path) -> str:
    """The same digest load_corpus computes, without parsing: to tell whether an index is stale."""
    root = Path(path)
    digest = hashlib.sha256()
    for file in _files(root):
        if file.suffix.lower() not in FORMATS:
            continue
        rel = file.name if root.is_file() else file.relative_to(root).as_posix()
        try:
            with open(file, "rb") as f:
                if os.fstat(f.fileno()).st_size == 0:  # an empty file cannot be mapped
                    _hash_file(digest, rel, b"")
                    continue
                # mapped, not copied: a 50 MB corpus is hashed in half the time (checked at every start)
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    _hash_file(digest, rel, data)
        except OSError:
            continue
    return digest.hexdigest()


def _hash_file(digest, rel: str, data: bytes) -> None:
    digest.update(f"{rel}\0{len(data)}\0".encode())
    digest.update(hashlib.sha256(data).digest())
