"""What an answer is made of: its settings, its citations, the answer itself and one page of it.

Plain frozen data, shared by the answering core, the renderers and the Telegram side; the CLI's JSON
contract is `Answer.to_json()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from bot import safety
from bot.answering.contacts import Contacts, Helpline


@dataclass(frozen=True)
class AnswerSettings:
    top_k: int = 3
    # A chunk answers only if it holds this share of what the question says (its words weighted by how
    # rare they are, words the articles never use counting as rare): BM25 alone cannot say "no", since
    # in a small corpus a question's key word can score near zero and still be the right one.
    min_coverage: float = 0.35  # calibrated: python -m bot calibrate (README, "Not covered: an honest no")
    # and one of the words it matches must be this topical (log10 of how much more common in the articles
    # than in English): a question sharing only "weather" with a page on frostbite is about something else
    min_keyness: float = 0.5
    later_coverage: float = 0.5  # passages after the first need this share of min_coverage
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
    # (start, end) in `passage` of each word the question shares (its synonyms too): what renderers bold
    highlights: tuple[tuple[int, int], ...] = ()


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
    triage: safety.Triage = field(default_factory=safety.Triage)
    # When the question names a medicine or substance no passage names: said before the passages shown
    # instead, which are about something else ("... here is what they say about naltrexone")
    related: str = ""

    def to_json(self) -> dict:
        """The CLI's JSON contract (see README): extend it, never rename or drop a key."""
        out = asdict(self)
        out["triage"] = self.triage.to_json()
        return out


@dataclass(frozen=True)
class View:
    """One page of an answer, with the citations shown on the pages before it."""

    answer: Answer
    earlier: tuple[Citation, ...]
    has_more: bool

    @property
    def shown(self) -> tuple[Citation, ...]:
        """Every citation up to and including this page."""
        return self.earlier + self.answer.citations
