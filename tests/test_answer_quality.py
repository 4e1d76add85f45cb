"""Answers that answer: the passage that holds the answer, the right subject, an honest "not covered"."""

from __future__ import annotations

import json
from importlib import resources

import pytest
import yaml

from bot.search.analysis import Analyzer
from bot.answering.answer import Answerer
from bot.corpus.articles import load_corpus
from bot.answering.evaluation import evaluate, holds, ranked_articles, read_questions
from bot.search.index import SearchIndex
from bot.answering.wording import ABOUT
from tests.conftest import ROOT, write

ANSWER_SETS = ROOT / "evalsets" / "answers"


def corpus_of(tmp_path, articles: dict[str, tuple[str, str]]) -> Answerer:
    """An answerer over articles given as {id: (title, markdown body)}."""
    for name, (title, body) in articles.items():
        write(tmp_path / "c" / f"{name}.md", f"---\ntitle: {title}\nurl: https://e.org/{name}\n---\n\n{body}\n")
    return Answerer(SearchIndex.build(load_corpus(tmp_path / "c"), Analyzer()))


FILLER = {
    "sleep": ("Sleep", "Sleep helps the body recover. Most adults need seven to nine hours of sleep a night."),
    "food": ("Eating well", "A balanced diet has fruit, vegetables and whole grains. Drink enough water every day."),
}


def first_quote(tmp_path, title: str, body: str, question: str) -> str:
    """The top passage for a question over one article (and the filler pages)."""
    bot = corpus_of(tmp_path, {**FILLER, "topic": (title, body)})
    return bot.answer(question).citations[0].passage


def test_a_sentence_that_introduces_a_list_is_quoted_with_the_list(tmp_path):
    passage = first_quote(
        tmp_path,
        "Gambling",
        (
            "Many people enjoy gambling now and then, but some lose control of their gambling. "
            "Signs of problem gambling include\n- Always thinking about gambling\n- Lying about gambling\n"
            "- Gambling with money you need for other things\n\nTreatment can help."
        ),
        "signs of a gambling problem",
    )
    assert "Signs of problem gambling include" in passage
    assert "Lying about gambling" in passage and "money you need" in passage


def test_a_sentence_that_only_restates_the_question_comes_with_the_one_that_answers(tmp_path):
    passage = first_quote(
        tmp_path,
        "Alcohol",
        (
            "Drinking too much can harm your health. Another common problem is binge drinking. It is drinking "
            "about five or more drinks in two hours for men. For women, it is about four or more drinks in two "
            "hours.\n\nToo much alcohol is dangerous."
        ),
        "what counts as binge drinking",
    )
    assert "five or more drinks in two hours" in passage


def test_a_how_often_question_gets_the_sentence_with_the_frequency(tmp_path):
    assert "three times a week" in first_quote(
        tmp_path,
        "Naltrexone",
        (
            "Naltrexone blocks the effects of opioids. An addict who takes naltrexone faithfully will never "
            "relapse, but naltrexone can be hard to take.\n\n## Dosing\n\nThe drug is long-acting and only needs to "
            "be taken three times a week."
        ),
        "how often do u have to take naltrexone",
    )


def test_a_quote_never_starts_with_a_pronoun_whose_referent_is_outside_it(answerer):
    for question in ("can i take naltrexone while im still detoxing?", "can i start naltrexone while detoxing"):
        passage = answerer.answer(question).citations[0].passage
        assert not passage.startswith(("It ", "This ", "They ")), passage


def test_the_same_words_are_never_quoted_twice_in_one_reply(tmp_path):
    shared = "If you or someone you know has a problem with heroin, call the helpline for free treatment advice."
    bot = corpus_of(
        tmp_path,
        {
            **FILLER,
            "a": ("Heroin facts", f"Heroin is an opioid made from morphine. {shared}"),
            "b": ("Heroin help", f"Heroin withdrawal can be treated. {shared}"),
        },
    )
    passages = [c.passage for c in bot.answer("heroin helpline for free treatment advice", top_k=5).citations]
    normal = [" ".join(p.casefold().split()) for p in passages]
    assert len(normal) == len(set(normal)) and len(passages) >= 1


def test_a_passage_about_another_medicine_is_not_the_answer(tmp_path):
    bot = corpus_of(
        tmp_path,
        {
            **FILLER,
            "naltrexone": (
                "Naltrexone",
                "## How naltrexone works\n\nIt cannot be taken while a "
                "person is still in withdrawal or detox from opioids.",
            ),
            "buprenorphine": (
                "Buprenorphine",
                "## Starting buprenorphine\n\nBuprenorphine is started when a person is already in mild withdrawal.",
            ),
        },
    )
    answer = bot.answer("do i need to be in withdrawal before starting suboxone")
    assert answer.citations and all(c.article_id == "buprenorphine" for c in answer.citations)
    assert answer.related == ""


def test_when_no_passage_names_the_medicine_the_reply_says_so_and_labels_the_other(tmp_path):
    bot = corpus_of(
        tmp_path,
        {
            **FILLER,
            "naltrexone": (
                "Naltrexone",
                "## How naltrexone works\n\nNaltrexone cannot be taken "
                "while a person is still in withdrawal or detox from opioids.",
            ),
        },
    )
    answer = bot.answer("do i need to be in withdrawal before starting suboxone")
    assert answer.citations, "the related passage is still offered"
    assert "buprenorphine" in answer.related and "naltrexone" in answer.related
    assert answer.related in answer.message and answer.to_json()["related"] == answer.related


@pytest.mark.parametrize(
    "question",
    [
        "whats the weather like tomorrow",
        "what's the weather like in chicago tomorrow",
        "good recipe for chicken enchiladas",
        "who won the super bowl last year",
        "recommend me a good movie for tonight",
        "how do i make a sourdough starter",
    ],
)
def test_off_topic_questions_are_declined_with_the_helpline(answerer, question):
    answer = answerer.answer(question)
    assert not answer.answered and answer.helpline in answer.message


@pytest.mark.parametrize(
    "message",
    [
        "who are you",
        "who are you? are you a real person",
        "help",
        "are you a bot?",
        "what can you do",
        "what's your name",
    ],
)
def test_who_are_you_and_help_say_what_the_bot_is(answerer, message):
    answer = answerer.answer(message)
    assert not answer.citations and answer.note.startswith(ABOUT.split(":")[0])
    assert "not a person" in answer.note and answer.helpline.split(":")[0] in answer.note


def test_common_words_carry_no_topical_weight(tmp_path):
    bot = corpus_of(
        tmp_path,
        {
            **FILLER,
            "na": (
                "Narcotics Anonymous",
                (
                    "Narcotics Anonymous is like a family for many people in recovery. Members help each other stay clean, "
                    "one day at a time, and meet again tomorrow."
                ),
            ),
        },
    )
    for question in ("whats the weather like tomorrow", "help me with the time", "i like it"):
        assert not bot.answer(question).answered, question
    assert bot.answer("what is narcotics anonymous like").answered


@pytest.mark.parametrize("articles", [1, 2])
def test_a_small_corpus_still_answers_what_it_covers(tmp_path, articles):
    chosen = dict(
        list(
            {
                "naltrexone": (
                    "Naltrexone",
                    "Naltrexone blocks the effects of opioids. It only needs to be taken three "
                    "times a week, and it triggers withdrawal in anyone dependent on opioids.",
                ),
                "methadone": (
                    "Methadone",
                    "Methadone is taken once a day at a clinic. It eases withdrawal and cravings.",
                ),
            }.items()
        )[:articles]
    )
    bot = corpus_of(tmp_path, chosen)
    answer = bot.answer("how often do you take naltrexone")
    assert answer.answered and answer.citations[0].article_id == "naltrexone"
    assert not bot.answer("whats the weather like tomorrow").answered


def _synonym_entries():
    data = yaml.safe_load(resources.files("bot.data").joinpath("synonyms.yaml").read_text(encoding="utf-8"))
    return [(str(name), [str(v) for v in variants]) for name, variants in data.items()]


@pytest.fixture(scope="module")
def one_article_per_concept(tmp_path_factory):
    root = tmp_path_factory.mktemp("concepts")
    for n, (name, _) in enumerate(_synonym_entries()):
        write(
            root / f"c{n}.md",
            f"---\ntitle: About {name}\nurl: https://e.org/c{n}\n---\n\n"
            f"This page explains {name}. What people should know about {name} and its risks.\n",
        )
    return Answerer(SearchIndex.build(load_corpus(root), Analyzer()))


@pytest.mark.parametrize("entry", range(len(_synonym_entries())), ids=[n for n, _ in _synonym_entries()])
def test_every_synonym_and_slang_entry_finds_the_article_that_uses_the_articles_word(one_article_per_concept, entry):
    """Each variant, asked about, ranks first the one article that only uses the articles' own word; a
    variant of several words ("dope sick") may rank a second article for one of its words ("dope") first.
    (Whether it is then an answer depends on the corpus: see the no-answer tests.)"""
    bot = one_article_per_concept
    name, variants = _synonym_entries()[entry]
    for variant in variants:
        question = f"what should i know about {variant}"
        first = bot.index.search(bot.understand(question).terms, 3)
        found = [bot.index.articles[bot.index.chunk(c).article].id for c, _ in first]
        assert f"c{entry}" in (found if " " in variant else found[:1]), f"{variant!r} -> {found}"


@pytest.mark.parametrize(
    "question, article",
    [
        ("can i take vivitrol while on subs", "naltrexone-as-an-opium-addiction-treatment"),
        ("how long does being dope sick last", "related/how-does-opium-withdrawal-treatment-work"),
        (
            "how do people sabotage their own recovery from dope",
            "related/ways-that-you-sabotage-your-recovery-from-heroin-addiction",
        ),
        ("can kratom help with wds", "related/can-you-take-kratom-for-opiate-withdrawal"),
        ("what do people call opium on the street", "related/opium-street-names"),
    ],
)
def test_slang_questions_over_the_sample_get_the_article_that_answers(answerer, question, article):
    answer = answerer.answer(question)
    assert answer.answered and article in [c.article_id for c in answer.citations], answer.citations


def test_asked_whether_two_may_be_taken_together_the_sentence_that_says_they_may_not_comes_first(answerer):
    """Issue 10's case: the answer is that naltrexone triggers withdrawal in anyone dependent on opioids, a
    sentence naming neither medicine the question names; the passage naming both in another relation is not it."""
    first = answerer.answer("can i take vivitrol while on subs").citations[0].passage
    assert "cannot be taken while" in first and "dependent on opioids" in first, first
    # the cue is of questions about two at once: asked how it works, the same article's other passages may lead
    from bot.answering.passages import TOGETHER_BONUS, cues_for

    assert [c.bonus for c in cues_for("can i take vivitrol while on subs")] == [TOGETHER_BONUS]
    assert TOGETHER_BONUS not in [c.bonus for c in cues_for("how does vivitrol work")]


@pytest.mark.slow  # builds and answers twice over: CI runs it with -m slow
def test_eval_measures_what_ask_returns(tmp_path, capsys):
    """`bot eval` and the articles of `ask --json` citations give the same figures."""
    from bot.cli import main
    from bot.answering.evaluation import ir_figures

    questions = [q for q in read_questions(ANSWER_SETS / "sample_questions.jsonl")][:30]
    questions += read_questions(ANSWER_SETS / "sample_out_of_scope.jsonl")[:10]
    path = write(tmp_path / "q.jsonl", "".join(json.dumps(q) + "\n" for q in questions))
    assert main(["eval", "--corpus", str(ROOT / "corpus"), "--questions", str(path), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    stdin = tmp_path / "in.txt"
    stdin.write_text("".join(q["question"].replace("\n", " ") + "\n" for q in questions), encoding="utf-8")
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--corpus", str(ROOT / "corpus"), "--top-k", "20", "--json", "-"],
        stdin=stdin.open(),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    answers = [json.loads(line) for line in out.splitlines()]
    assert len(answers) == len(questions)
    judged = [q for q in questions if q["relevant"]]
    runs = {
        q["id"]: list(dict.fromkeys(c["article_id"] for c in a["citations"]))
        for q, a in zip(questions, answers)
        if q["relevant"]
    }
    from_ask = ir_figures(runs, judged)
    for name in ("ndcg@10", "recall@1", "recall@10", "mrr@10"):
        assert abs(figures[name] - from_ask[name]) <= 0.01, (name, figures[name], from_ask[name])
    declined = sum(not a["answered"] for q, a in zip(questions, answers) if not q["relevant"]) / 10
    assert figures["declined"] == pytest.approx(declined, abs=1e-4) and figures["out_of_scope"] == 10
    assert figures["answered"] == pytest.approx(
        sum(a["answered"] for q, a in zip(questions, answers) if q["relevant"]) / len(judged), abs=1e-4
    )
    assert "retrieval_only" in figures and set(figures["retrieval_only"]) >= {"ndcg@10", "recall@1"}


def test_eval_counts_the_phrase_in_the_top_passage(tmp_path):
    bot = corpus_of(
        tmp_path,
        {
            **FILLER,
            "alcohol": (
                "Alcohol",
                (
                    "Another common problem is binge drinking. It is drinking about five or more drinks in two hours for men."
                ),
            ),
        },
    )
    questions = [
        {
            "id": "1",
            "question": "what counts as binge drinking",
            "relevant": ["alcohol"],
            "phrase": "five or more drinks in two hours",
        },
        {
            "id": "2",
            "question": "how much sleep do adults need",
            "relevant": ["alcohol"],
            "phrase": "five or more drinks",
        },
        {"id": "3", "question": "whats the weather like tomorrow", "relevant": []},
    ]
    figures = evaluate(bot, questions)
    assert figures["phrased"] == 2 and figures["phrase_first"] == 0.5
    assert figures["out_of_scope"] == 1 and figures["declined"] == 1.0
    answer = bot.answer("what counts as binge drinking", top_k=20)
    assert ranked_articles(answer) == ["alcohol"] and holds(answer.citations[0].passage, "FIVE or more  drinks")


def test_a_name_no_article_holds_is_said_so_and_no_passage_about_the_rest_is_quoted(tmp_path):
    """ "is chantix safe": the articles never say chantix, so a passage on "safe" answers another question."""
    bot = corpus_of(
        tmp_path,
        {
            **FILLER,
            "smoking": ("Quitting smoking", "Nicotine patches are safe for most people who want to quit smoking."),
        },
    )
    answer = bot.answer("is chantix safe for quitting smoking")
    assert not answer.answered and "“chantix”" in answer.note and answer.helpline in answer.message
    # a word common in English, or a name the synonyms know, is not such a name: the rest still answers
    assert bot.answer("are nicotine patches safe for quitting smoking").answered
    assert not bot.answer("asdfgh qwertyuiop").note.startswith("Our articles don't mention")
    # one edit from a common word, a rare word is a typo the speller missed, not a name ("usualy")
    assert "usualy" not in bot.answer("are nicotine patches usualy safe for quitting smoking").note
    # a texting spelling is the word it spells, not a name ("urself" is two edits from "yourself")
    assert bot.answer("are nicotine patches safe for urself when quitting smoking").answered
    # ... nor is a texting spelling the slang list reads, whether or not the articles hold the word it spells
    assert "tmrw" not in bot.answer("are nicotine patches safe tmrw for quitting smoking").note
