"""answer(): cited passages from the articles' own text, or a kind no, always with disclaimer and helpline."""

from __future__ import annotations

import dataclasses

import pytest

from bot.search.analysis import Analyzer
from bot.answering.answer import Answerer, AnswerSettings
from bot.answering.contacts import Contacts, Helpline
from bot.corpus.articles import load_corpus
from bot.search.index import SearchIndex
from tests.conftest import write

SEED_ID = "naltrexone-as-an-opium-addiction-treatment"
SEED_URL = "https://www.opium.org/naltrexone-as-an-opium-addiction-treatment.html"
DETOX_SENTENCE = "It cannot be taken while a person is still in detoxification"


def test_detox_question_quotes_the_seed_articles_detox_sentence(answerer):
    answer = answerer.answer("can i take naltrexone while im still detoxing?")
    assert answer.answered and not answer.crisis
    first = answer.citations[0]
    assert first.article_id == SEED_ID
    assert first.url == SEED_URL and first.link.startswith(SEED_URL + "#:~:text=")
    assert first.title == "Naltrexone as an Opium Addiction Treatment"
    assert first.section == "How Does Naltrexone Work to Treat Opium Addiction?"
    assert DETOX_SENTENCE in first.passage
    assert DETOX_SENTENCE in answer.message and SEED_URL in answer.message
    assert answer.disclaimer in answer.message and answer.helpline in answer.message
    assert "1-800-662-4357" in answer.helpline


def test_passages_are_one_to_three_whole_sentences_of_their_chunk(answerer, sample):
    from bot.search.chunking import sentence_spans

    for question in ["naltrexone group therapy 12-step", "why do addicts stop taking naltrexone", "street names opium"]:
        for c in answerer.answer(question).citations:
            article = next(a for a in sample.articles if a.id == c.article_id)
            chunk = next(sample.chunk(i) for i in range(sample.chunk_count) if sample.chunk_id(i) == c.chunk_id)
            chunk_text = article.text[chunk.start : chunk.end]
            assert c.passage in chunk_text
            start = article.text.index(c.passage, chunk.start)
            sentences = [
                (s, e)
                for s, e in sentence_spans(article.text, chunk.start, chunk.end)
                if s >= start and e <= start + len(c.passage)
            ]
            assert 1 <= len(sentences) <= 3
            assert sentences[0][0] == start and sentences[-1][1] == start + len(c.passage)
            assert len(c.passage) < len(chunk_text) or len(sentences) == len(sentence_spans(chunk_text))


@pytest.mark.parametrize(
    "question", ["what is the weather in paris", "how do i bake sourdough bread", "asdfgh qwerty", "", "   ", "?!"]
)
def test_no_answer_below_the_threshold_is_kind_and_gives_the_helpline(answerer, question):
    answer = answerer.answer(question)
    assert not answer.answered and answer.citations == ()
    assert answer.helpline in answer.message and answer.disclaimer in answer.message
    said = ("couldn't find", "type your question", "don't mention")  # the last names a word no article holds
    assert any(words in answer.message for words in said)


def test_threshold_filters_weak_matches_and_never_fills_with_zero_scores(sample):
    strict = Answerer(sample, AnswerSettings(min_score=1000.0))
    assert not strict.answer("can i take naltrexone while im still detoxing?").answered
    lenient = Answerer(sample, AnswerSettings(min_score=0.0, relative_floor=0.0, top_k=10))
    answer = lenient.answer("kratom")
    assert answer.citations and all(c.score > 0 for c in answer.citations)
    assert {c.article_id for c in answer.citations} == {"related/can-you-take-kratom-for-opiate-withdrawal"}


def test_at_most_two_passages_from_one_article(tmp_path):
    paragraphs = "\n\n".join(
        f"## Part {i}\n\nNaltrexone fact number {i} about naltrexone and relapse." for i in range(8)
    )
    write(tmp_path / "one.md", f"---\ntitle: Naltrexone facts\nurl: https://example.org/n\n---\n\n{paragraphs}\n")
    write(
        tmp_path / "two.md",
        "---\ntitle: Other\nurl: https://example.org/o\n---\n\nNaltrexone also helps prevent a relapse.\n",
    )
    index = SearchIndex.build(load_corpus(tmp_path), Analyzer())
    answer = Answerer(index, AnswerSettings(top_k=5, min_score=0.0, relative_floor=0.0)).answer("naltrexone relapse")
    per_article = {}
    for c in answer.citations:
        per_article[c.article_id] = per_article.get(c.article_id, 0) + 1
    assert per_article["one"] == 2 and per_article["two"] == 1
    assert [c.rank for c in answer.citations] == [1, 2, 3]
    assert [c.score for c in answer.citations] == sorted((c.score for c in answer.citations), reverse=True)


def test_excerpt_articles_are_marked_as_excerpts(answerer):
    answer = answerer.answer("can you take kratom for opiate withdrawal")
    kratom = answer.citations[0]
    assert kratom.excerpt and kratom.article_id.endswith("kratom-for-opiate-withdrawal")
    assert "(excerpt)" in answer.message


def test_disclaimer_and_helpline_are_configurable(sample):
    settings = AnswerSettings(
        contacts=Contacts(Helpline("Local line", "0800 123", "9-5", ""), disclaimer="Not medical advice.")
    )
    for question in ["naltrexone detox", "unrelated bread question"]:
        answer = Answerer(sample, settings).answer(question)
        assert answer.disclaimer == "Not medical advice."
        assert answer.helpline == "Local line: 0800 123 (9-5)"
        assert answer.message.endswith("Not medical advice.\nLocal line: 0800 123 (9-5)")


def test_top_k_limits_the_passages(answerer):
    assert len(answerer.answer("naltrexone treatment", top_k=1).citations) == 1


def test_answer_json_has_the_contract_keys(answerer):
    data = answerer.answer("naltrexone detox").to_json()
    assert set(data) >= {"question", "answered", "crisis", "citations", "message", "disclaimer", "helpline"}
    assert set(data["citations"][0]) >= {
        "rank",
        "article_id",
        "chunk_id",
        "title",
        "section",
        "url",
        "link",
        "passage",
        "score",
    }


def test_answer_is_pure(answerer):
    first = answerer.answer("naltrexone detox")
    assert answerer.answer("naltrexone detox") == first
    assert dataclasses.is_dataclass(first)


@pytest.mark.parametrize(
    "message, note",
    [
        ("hi", "Ask me anything"),
        ("Hello there!", "Ask me anything"),
        ("thanks", "You're welcome"),
        ("Thank you so much \U0001f64f", "You're welcome"),
    ],
)
def test_greetings_and_thanks_get_a_short_reply_not_a_search(answerer, message, note):
    answer = answerer.answer(message)
    assert not answer.answered and note in answer.note
    assert answer.helpline in answer.message and answer.disclaimer in answer.message


def test_a_greeting_with_a_question_is_a_question(answerer):
    assert answerer.answer("hi, can i take naltrexone while im still detoxing?").answered


@pytest.mark.parametrize("message", ["where can i get help", "I need help", "i want to quit and need a doctor"])
def test_asking_for_help_leads_with_the_helpline(answerer, message):
    answer = answerer.answer(message)
    assert answer.lead and answer.helpline in answer.lead
    assert answer.message.startswith(answer.lead)
    assert not any("helpful" in c.passage for c in answer.citations), "matched 'help' to 'helpful'"


def test_asking_for_help_about_something_still_searches_it(answerer):
    answer = answerer.answer("where can i get help with naltrexone and detox")
    assert answer.lead and answer.answered
    assert answer.citations[0].article_id == SEED_ID


def test_a_relapse_gets_support_and_the_overdose_risk_first(answerer):
    answer = answerer.answer("i relapsed last night")
    assert not answer.crisis
    assert answer.lead.startswith("A relapse does not undo") and "tolerance is lower" in answer.lead
    assert answer.helpline in answer.lead and answer.message.startswith(answer.lead)
    assert "couldn't find" not in answer.message


def test_using_again_after_a_break_leads_with_the_lost_tolerance_warning(answerer):
    answer = answerer.answer("I slipped up and used again today after 3 months")
    assert not answer.crisis
    assert answer.lead.startswith("Please be careful") and "tolerance" in answer.lead
