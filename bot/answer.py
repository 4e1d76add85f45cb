"""answer(question) -> Answer: the cited passages, or a kind "I don't know" with the helpline.

Pure: no network, no Telegram, no clock. What the bot says is what the articles say, each passage
quoted from its article's own text and cited; nothing is generated.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from bot import intents, safety
from bot.contacts import Contacts, Helpline
from bot import render as texts
from bot.index import SearchIndex
from bot.links import passage_link
from bot.passages import best_passage
from bot.query import Query, Speller, understand
from bot.render import plain_message

MAX_QUESTION_CHARS = 1000  # a question longer than this is read from its start; the rest adds cost, not sense


@dataclass(frozen=True)
class AnswerSettings:
    top_k: int = 3
    # A chunk answers only if it holds this share of what the question says (its words weighted by how
    # rare they are, words the articles never use counting as rare): BM25 alone cannot say "no", since
    # in a small corpus a question's key word can score near zero and still be the right one.
    min_coverage: float = 0.2  # calibrated: python -m bot calibrate (README, "The no-answer threshold")
    min_score: float = 0.0  # and a BM25 score above this; never a zero-score filler
    relative_floor: float = 0.3  # later passages must score at least this share of the best one
    max_per_article: int = 2
    spelling: bool = True  # match misspelt words to the articles' own words
    contacts: Contacts = field(default_factory=Contacts)

    @property
    def disclaimer(self) -> str:
        return self.contacts.disclaimer

    @property
    def helpline(self) -> Helpline:
        return self.contacts.helpline


@dataclass(frozen=True)
class Citation:
    rank: int
    article_id: str
    chunk_id: str
    title: str
    section: str
    url: str
    link: str
    passage: str
    score: float
    excerpt: bool = False  # the article's text here is a teaser cut off with "...", not the whole article


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    crisis: bool
    citations: tuple[Citation, ...]
    message: str
    disclaimer: str
    helpline: str
    lead: str = ""  # said before any passage (pointing someone who asks for help to the helpline)
    note: str = ""  # said instead of passages when there are none
    showing_results_for: str = ""  # the question as searched, when a misspelt word was corrected
    terms: tuple[str, ...] = field(default=(), repr=False)  # what was searched for, to highlight
    triage: safety.Triage = field(default_factory=safety.Triage)

    def to_json(self) -> dict:
        """The CLI's JSON contract (see README): extend it, never rename or drop a key."""
        out = asdict(self)
        del out["terms"]
        out["triage"] = self.triage.to_json()
        return out


class Answerer:
    def __init__(self, index: SearchIndex, settings: AnswerSettings = AnswerSettings(),
                 rules: safety.Triager | None = None) -> None:
        self.index = index
        self.settings = settings
        self.safety = rules or safety.load_rules()
        self.speller = Speller(index) if settings.spelling else None

    def answer(self, question: str, top_k: int | None = None, offset: int = 0) -> Answer:
        """The best `top_k` passages; with `offset`, the next ones after the first `offset` (ranks go on)."""
        return self.page(question, top_k, offset)[0]

    def page(self, question: str, top_k: int | None = None, offset: int = 0) -> tuple[Answer, bool]:
        """answer(), and whether more passages follow (for a "more" button), from one search.

        Triage comes first: an emergency is answered with what to do now, and nothing else.
        """
        top_k = self.settings.top_k if top_k is None else top_k
        triage = self.safety.triage(question[:MAX_QUESTION_CHARS * 4])
        intent = None if triage.crisis else intents.classify(question)
        citations: tuple[Citation, ...] = ()
        query = Query([])
        if question.strip() and not triage.crisis and intent not in (intents.GREETING, intents.THANKS):
            # "where can i get help" is answered by the helpline; only what follows it is searched for.
            text = intents.without_help_phrases(question) if intent == intents.HELP_SEEKING else question
            query = self.understand(text)
            citations = self._citations(query, top_k + offset + 1)
        page = citations[offset:offset + top_k]
        return self._finish(question, page, triage, intent, query), len(citations) > top_k + offset

    def understand(self, question: str) -> Query:
        return understand(question[:MAX_QUESTION_CHARS], self.index, self.speller)

    def rank_articles(self, question: str, k: int = 10) -> list[tuple[str, float]]:
        """Articles best first, each scored by its best chunk: how evaluation sees the answer path."""
        hits = self.index.search(self.understand(question).terms, max(k, 1) * 20)
        ranked: dict[str, float] = {}
        for chunk_no, score in hits:
            ranked.setdefault(self.index.articles[int(self.index.chunk_article[chunk_no])].id, score)
            if len(ranked) == k:
                break
        return list(ranked.items())

    def _finish(self, question: str, citations: tuple[Citation, ...], triage: safety.Triage,
                intent: str | None, query: Query) -> Answer:
        s = self.settings
        helpline = str(s.contacts.helpline)
        lead = self._lead(triage, intent)
        if citations or triage.crisis or (intent in (intents.HELP_SEEKING, intents.RELAPSE) and lead):
            note = ""  # the lead says what to do; "I couldn't find an answer" would only take away from it
        elif not question.strip():
            note = texts.EMPTY_QUESTION
        elif triage.level == safety.CONCERN:
            note = texts.CONCERN_NO_ANSWER  # never "try the name of a medicine" to someone in distress
        else:
            note = {intents.GREETING: texts.GREETING, intents.THANKS: texts.WELCOME}.get(intent, texts.NO_ANSWER)
        shown = query.shown if citations else ""
        message = plain_message(lead, citations, note, s.disclaimer, helpline, shown)
        return Answer(question, bool(citations), triage.crisis, citations, message, s.disclaimer, helpline,
                      lead, note, shown, tuple(query.terms), triage)

    def _lead(self, triage: safety.Triage, intent: str | None) -> str:
        """What comes before any passage: the emergency steps, the lost-tolerance warning, a caring word."""
        fill = self.settings.contacts.fill
        parts = []
        if triage.crisis:
            parts.append(fill(texts.emergency_text(triage.kinds)))
        if triage.lost_tolerance:
            parts.append(fill(texts.LOST_TOLERANCE))
        elif intent == intents.RELAPSE and not triage.crisis:
            parts.append(fill(texts.RELAPSE_LEAD))
        if triage.level == safety.CONCERN:
            parts.append(fill(texts.CONCERN_LEAD))
        elif not parts and triage.notes:
            parts.append("\n".join(fill(texts.SAFETY_NOTE[kind]) for kind in triage.notes))
        elif not parts and intent == intents.HELP_SEEKING:
            parts.append(fill(texts.HELP_LEAD))
        return "\n\n".join(parts)

    def _citations(self, query: Query, top_k: int) -> tuple[Citation, ...]:
        index, s = self.index, self.settings
        terms = query.terms
        hits = index.search(terms, max(top_k, 1) * 8 + 16)
        if not hits or top_k <= 0:
            return ()
        floor = max(s.min_score, s.relative_floor * hits[0][1])
        weights = self._query_weights(query)
        total = sum(weights.values())
        per_article: dict[int, list[tuple[int, int]]] = {}
        citations: list[Citation] = []
        for chunk_no, score in hits:
            if score <= floor or len(citations) >= top_k:
                break
            chunk = index.chunk(chunk_no)
            present = index.terms_in_chunk(chunk_no, set(weights))
            if sum(weights[t] for t in present) < s.min_coverage * total:
                continue
            taken = per_article.setdefault(chunk.article, [])
            if len(taken) >= s.max_per_article:
                continue
            article = index.articles[chunk.article]
            start, end = best_passage(article.text, chunk.start, chunk.end, weights, index.analyzer)
            if any(start < e and s_ < end for s_, e in taken):
                continue  # overlapping chunks share sentences: never quote the same words twice
            taken.append((start, end))
            passage = article.text[start:end]
            citations.append(Citation(len(citations) + 1, article.id, chunk.id, article.title, chunk.section,
                                      article.url, passage_link(article.url, passage), passage, round(score, 6),
                                      article.excerpt))
        return tuple(citations)

    def _query_weights(self, query: Query) -> dict[str, float]:
        """How much each question word says: a never-negative idf. A word the articles never use is
        weighed as if the articles were ordinary English: "would" says little, "insurance" a lot."""
        n = self.index.bm25.doc_count
        weights = {}
        for t in set(query.terms):
            df = self.index.bm25.doc_freq(t) or n * query.unseen.get(t, 0.0)
            weights[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return weights
