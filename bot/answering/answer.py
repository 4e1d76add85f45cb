"""answer(question) -> Answer: the cited passages, or a kind "I don't know" with the helpline.

Pure: no network, no Telegram, no clock. What the bot says is what the articles say, each passage
quoted from its article's own text and cited; nothing is generated.
"""

from __future__ import annotations

from functools import lru_cache, partial

from bot import safety
from bot.answering import coverage, intents, subjects
from bot.answering import wording as texts
from bot.answering.records import Answer, AnswerSettings, Citation, View  # noqa: F401 (imported from here too)
from bot.answering.links import passage_link
from bot.answering.passages import cues_for, cue_bonus, scored_passage
from bot.answering.unknown import unknown_names
from bot.rendering.plain import plain_message
from bot.search.index import SearchIndex
from bot.search.query import Query, Speller, understand
from bot.search import semantic

CHUNKS_READ = 4  # chunks of one article whose passages are compared
SENTENCES_CACHED = 50_000  # sentences whose terms are kept (about 20 MB at most)
MAX_QUESTION_CHARS = 1000  # a question longer than this is read from its start; the rest adds cost, not sense


class Answerer:
    def __init__(
        self,
        index: SearchIndex,
        settings: AnswerSettings = AnswerSettings(),
        rules: safety.Triager | None = None,
        vectors: semantic.ChunkVectors | None = None,
    ) -> None:
        self.index = index
        self.vectors = vectors  # semantic reranking of BM25's candidates, when the corpus has its vectors
        self.settings = settings
        self.safety = rules or safety.load_rules()
        self.speller = Speller(index) if settings.spelling else None
        self.subjects = subjects.subject_terms(index.analyzer)
        # what a sentence of an article is indexed under: the same sentences come back question after question
        # (bound to the index, not to self: no reference cycle keeps a replaced index and its open files alive)
        self._sentence_terms = lru_cache(maxsize=SENTENCES_CACHED)(partial(_terms_of_span, index))
        self._sentence_cued = lru_cache(maxsize=SENTENCES_CACHED)(partial(_cued_span, index))

    def answer(self, question: str, top_k: int | None = None, offset: int = 0) -> Answer:
        """The best `top_k` passages; with `offset`, the next ones after the first `offset` (ranks go on)."""
        return self.page(question, top_k, offset)[0]

    def page(self, question: str, top_k: int | None = None, offset: int = 0) -> tuple[Answer, bool]:
        """answer(), and whether more passages follow (for a "more" button), from one search."""
        view = self.browse(question, offset, top_k)
        return view.answer, view.has_more

    def browse(self, question: str, offset: int = 0, top_k: int | None = None) -> View:
        """The passages after the first `offset` (ranks go on), the ones before them, and whether more
        follow: everything a "More" or feedback button needs, from one search.

        Triage comes first: an emergency is answered with what to do now, and nothing else.
        """
        top_k = self.settings.top_k if top_k is None else top_k
        triage = self.safety.triage(question[: MAX_QUESTION_CHARS * 4])
        intent = None if triage.crisis else intents.classify(question)
        citations: tuple[Citation, ...] = ()
        query = Query([])
        related = ""
        unknown: list[str] = []
        if question.strip() and not triage.crisis and intent not in (intents.GREETING, intents.THANKS, intents.ABOUT):
            # "where can i get help" is answered by the helpline; only what follows it is searched for.
            text = intents.without_help_phrases(question) if intent == intents.HELP_SEEKING else question
            query = self.understand(text)
            # "is gabapentin addictive": no passage about addiction in general is its answer; the note says why
            unknown = unknown_names(text[:MAX_QUESTION_CHARS], query, self.index)
            if not unknown:
                citations, related = self._search(text, query, top_k + offset + 1)
        page = citations[offset : offset + top_k]
        return View(
            self._finish(question, page, triage, intent, query, related, unknown),
            citations[:offset],
            len(citations) > top_k + offset,
        )

    def _search(self, text: str, query: Query, wanted: int) -> tuple[tuple[Citation, ...], str]:
        """The citations, and when none names the medicine asked about, the closest ones said to be about another."""
        inside = {t for words in query.parts.values() for t in words}  # "dope" of "dope sick" is no subject
        asked = subjects.named([t for t in query.terms if t not in inside], self.subjects)
        cues = cues_for(text)
        meaning = self.vectors.question(self._meant(text, query)) if self.vectors and query.terms else None
        citations = self._citations(query, wanted, cues, asked, meaning=meaning)
        if asked and not citations:  # nothing names it: the closest passages, said to be about another
            citations = self._citations(query, wanted, cues, missing=asked, meaning=meaning)
            return citations, self._related(asked, citations, text) if citations else ""
        return citations, ""

    def _meant(self, text: str, query: Query) -> str:
        """The question as the encoder reads it: with the articles' names for its slang and brands ("the DTs
        (delirium tremens)"), which the encoder, trained on plain English, may never have seen."""
        text = text[:MAX_QUESTION_CHARS]
        folded = text.casefold()
        names = []
        for term in dict.fromkeys(query.terms):
            name = self.index.analyzer.concept_name(term)
            if name and name.casefold() not in folded and name not in names:
                names.append(name)
        return f"{text} ({', '.join(names)})" if names else text

    def _related(self, asked: list[str], citations: tuple[Citation, ...], question: str) -> str:
        """Says that the passages shown are about something else than the medicine or substance asked about."""
        analyzer = self.index.analyzer
        about = []
        for c in citations:  # what each passage is about: its article and section first, then its words
            named = subjects.named(analyzer.terms(f"{c.title} {c.section}"), self.subjects)
            about += named or subjects.named(analyzer.terms(c.passage), self.subjects)
        about = [t for t in dict.fromkeys(about) if t not in asked]
        typed = {t.term: question[t.start : t.end] for t in analyzer.tokens(question)}
        asked_names = " or ".join(self._name(t, typed.get(t)) for t in asked)
        if about:
            return texts.RELATED.format(asked=asked_names, other=", ".join(self._name(t) for t in about[:3]))
        return texts.RELATED_TOPICS.format(asked=asked_names)

    def _name(self, term: str, typed: str | None = None) -> str:
        """The articles' name for a term, with the user's own when it differs: "buprenorphine (Suboxone)"."""
        name = self.index.analyzer.concept_name(term) or self.index.surface(term) or term
        return f"{name} ({typed})" if typed and typed.casefold() != name.casefold() else name

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

    def _finish(
        self,
        question: str,
        citations: tuple[Citation, ...],
        triage: safety.Triage,
        intent: str | None,
        query: Query,
        related: str = "",
        unknown: list[str] | None = None,
    ) -> Answer:
        s = self.settings
        helpline = str(s.contacts.helpline)
        lead = self._lead(triage, intent)
        if citations or triage.crisis or (intent in (intents.HELP_SEEKING, intents.RELAPSE) and lead):
            note = ""  # the lead says what to do; "I couldn't find an answer" would only take away from it
        elif not question.strip():
            note = texts.EMPTY_QUESTION
        elif triage.level == safety.CONCERN:
            note = texts.CONCERN_NO_ANSWER  # never "try the name of a medicine" to someone in distress
        elif unknown:
            note = texts.NOT_MENTIONED.format(names=" or ".join(f"“{w}”" for w in unknown))
        else:
            note = {
                intents.GREETING: texts.GREETING,
                intents.THANKS: texts.WELCOME,
                intents.ABOUT: s.contacts.fill(texts.ABOUT),
            }.get(intent, texts.NO_ANSWER)
        shown = query.shown if citations else ""
        related = related if citations else ""
        message = plain_message(lead, citations, note, s.disclaimer, helpline, shown, related)
        return Answer(
            question,
            bool(citations),
            triage.crisis,
            citations,
            message,
            s.disclaimer,
            helpline,
            lead,
            note,
            shown,
            triage,
            related,
        )

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
            if intent == intents.HELP_SEEKING:  # "I need help", in distress: the crisis line and the helpline
                parts.append(fill(texts.HELP_LEAD))
        elif not parts and triage.notes:
            parts.append("\n".join(fill(texts.SAFETY_NOTE[kind]) for kind in triage.notes))
        elif not parts and intent == intents.HELP_SEEKING:
            parts.append(fill(texts.HELP_LEAD))
        return "\n\n".join(parts)

    def _citations(
        self,
        query: Query,
        top_k: int,
        cues=(),
        asked: list[str] | None = None,
        missing: list[str] | None = None,
        meaning=None,
    ) -> tuple[Citation, ...]:
        """Articles in BM25 order of their best chunk; within an article, its passages best answer first.

        The chunk that matches a question's words best is often not the one whose sentences answer it
        ("how often ... naltrexone": the chunk saying "naltrexone" twice, not "three times a week"), so
        each cited article's few best chunks are read and their passages ranked by what they hold.
        """
        index, s = self.index, self.settings
        hits = index.search_with_terms(query.terms, max(top_k, 1) * 8 + 16)
        if not hits or top_k <= 0:
            return ()
        floor = max(s.min_score, s.relative_floor * hits[0][1])
        close: dict[int, float] = {}
        crowded = False  # many candidates share the question's words (semantic.crowded)
        if meaning is not None:  # BM25 chose the candidates; which of them means what was asked comes first
            kept = [h for h in hits if h[1] > floor]
            close = self.vectors.closeness(meaning, [h[0] for h in kept])
            crowded = semantic.crowded(kept)
            if semantic.unrelated(close, crowded):
                return ()  # words in common, nothing near in meaning: "what's the weather like tomorrow"
            hits = self.vectors.rerank(kept, close, hits[0][1])
        weighed = coverage.weigh(query, index.bm25, without=missing or ())
        slots: list[int] = []  # the article of each citation, in order
        candidates: dict[int, list[tuple[int, float]]] = {}
        judged: dict[frozenset[str], tuple[set[str], float, bool]] = {}  # hits holding the same terms weigh alike
        for chunk_no, score, held in hits:
            if score <= floor:
                break
            article_no = int(index.chunk_article[chunk_no])
            judgement = judged.get(held)
            if judgement is None:
                present = set(held.intersection(weighed.weight))
                judgement = judged[held] = (
                    present,
                    weighed.coverage(present),
                    weighed.topical(present, s.min_keyness),
                )
            present, covered, topical = judgement
            # the first passage decides whether there is an answer at all; once there is, a passage that
            # matches less of the question can still be the next-best article (a long question's second half)
            needed = s.min_coverage * weighed.length_share * (1.0 if not slots else s.later_coverage)
            matched = covered >= needed and topical
            # a passage that means what was asked answers it even in other words ("dopesick af rn")
            if not matched and close.get(chunk_no, 0.0) < semantic.VOUCHES:
                continue
            if asked and not present.intersection(asked):
                continue
            if len(slots) < top_k and slots.count(article_no) < s.max_per_article:
                slots.append(article_no)
            own = candidates.setdefault(article_no, [])
            if len(own) < CHUNKS_READ:
                own.append((chunk_no, score))
        if crowded and slots and not self._says_it(meaning, list(dict.fromkeys(slots))[:3]):
            return ()  # on the topic, but no sentence near what was asked: "where is a needle exchange near me"
        chosen = {
            a: self._passages(a, candidates[a], weighed.selection, cues, asked, meaning) for a in dict.fromkeys(slots)
        }
        quoted: set[str] = set()  # the same words in two articles (shared boilerplate) are quoted once
        citations: list[Citation] = []
        asked_terms = set(query.terms)
        for article_no in slots:
            while chosen[article_no]:
                chunk_no, score, start, end = chosen[article_no].pop(0)
                article, chunk = index.articles[article_no], index.chunk(chunk_no)
                passage = article.text[start:end]
                said = " ".join(passage.casefold().split())
                if said in quoted:
                    continue
                quoted.add(said)
                citations.append(
                    Citation(
                        len(citations) + 1,
                        article.id,
                        chunk.id,
                        article.title,
                        chunk.section,
                        article.url,
                        passage_link(article.url, passage),
                        passage,
                        round(score, 6),
                        article.excerpt,
                        self._highlights(article_no, start, end, asked_terms),
                    )
                )
                break
        return tuple(citations)

    def _says_it(self, meaning, articles: list[int]) -> bool:
        """Whether some sentence of these articles is near the question in meaning (vectors kept per sentence)."""
        for article_no in articles:
            text = self.index.articles[article_no].text
            for start, end in self.index.sentences_in(article_no, 0, len(text)):
                if self.vectors.near(meaning, text[start:end]) >= semantic.SENTENCE_UNRELATED:
                    return True
        return False

    def _highlights(self, article_no: int, start: int, end: int, terms: set[str]) -> tuple[tuple[int, int], ...]:
        """Where the question's words are in a passage, as the analyzer matched them (stems, synonyms,
        spelling corrections): computed once here, so no renderer needs the analyzer."""
        spans: list[tuple[int, int]] = []
        for begin, finish in self.index.analyzer.spans_of(self.index.articles[article_no].text[start:end], terms):
            if not spans or begin >= spans[-1][1]:
                spans.append((begin, finish))
        return tuple(spans)

    def _about(self, asked: list[str], context: frozenset[str], passage: set[str]) -> bool:
        """Whether a passage is about a medicine or substance asked about: its section or article names it,
        or the passage does in a part about no other one. "...naltrexone is not as well tolerated as
        methadone or buprenorphine" under "Naltrexone as a Treatment" is about naltrexone, not Suboxone."""
        if context.intersection(asked):
            return True
        return bool(passage.intersection(asked)) and not context.intersection(self.subjects)

    def _passages(
        self,
        article_no: int,
        chunks: list[tuple[int, float]],
        weights: dict[str, float],
        cues,
        asked: list[str] | None = None,
        meaning=None,
    ) -> list[tuple[int, float, int, int]]:
        """(chunk, its score, start, end) of an article's passages, best first, none sharing words."""
        index = self.index
        article = index.articles[article_no]
        text = article.text
        title = set(index.analyzer.terms(article.title))
        found = []
        for order, (chunk_no, score) in enumerate(chunks):
            chunk = index.chunk(chunk_no)
            follow_to = index.section_end(chunk_no)
            context = frozenset(title | set(index.analyzer.terms(chunk.section)))
            start, end, value = scored_passage(
                text,
                chunk.start,
                chunk.end,
                weights,
                index.analyzer,
                cues=cues,
                follow_to=follow_to,
                context=context,
                sentences=lambda s_, e_: index.sentences_in(article_no, s_, e_),
                terms_of=lambda s_, e_: self._sentence_terms(article_no, s_, e_),
                cued=lambda s_, e_: self._sentence_cued(article_no, s_, e_, cues),
                near=None if meaning is None else lambda s_, e_: self.vectors.near(meaning, text[s_:e_]),
            )
            if asked and not self._about(asked, context, self._sentence_terms(article_no, start, end)):
                continue
            found.append((-round(value, 9), order, chunk_no, score, start, end))
        out: list[tuple[int, float, int, int]] = []
        for _, _, chunk_no, score, start, end in sorted(found):
            if not any(start < e and s_ < end for _, _, s_, e in out):  # overlapping chunks share sentences
                out.append((chunk_no, score, start, end))
        return out


def _terms_of_span(index: SearchIndex, article_no: int, start: int, end: int) -> frozenset[str]:
    return frozenset(index.analyzer.terms(index.articles[article_no].text[start:end]))


def _cued_span(index: SearchIndex, article_no: int, start: int, end: int, cues) -> float:
    return cue_bonus(index.articles[article_no].text[start:end], cues)
