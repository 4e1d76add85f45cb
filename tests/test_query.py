"""How people ask: brand and street names, misspellings, and links that open the article at the passage."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from bot.search.analysis import Analyzer, AnalyzerSettings
from bot.answering.answer import Answerer, AnswerSettings
from bot.corpus.articles import load_corpus
from bot.answering.evaluation import evaluate, read_questions
from bot.search.index import SearchIndex
from bot.answering.links import passage_link, text_fragment
from bot.telegram.html import answer_html
from tests.conftest import ROOT, write

ANSWER_SETS = ROOT / "evalsets" / "answers"


@pytest.mark.parametrize(
    "variants",
    [
        ["buprenorphine", "Suboxone", "subutex", "zubsolv", "sublocade", "bupe", "subs"],
        ["naltrexone", "Vivitrol", "revia"],
        ["naloxone", "Narcan"],
        ["methadone", "Methadose", "dolophine"],
        ["heroin", "dope", "smack", "H"],
        ["oxycodone", "percs", "oxy", "roxies"],
        ["fentanyl", "fent"],
        ["narcotics anonymous", "NA"],
        ["medication assisted treatment", "MAT", "MOUD"],
    ],
)
def test_brand_street_and_short_names_are_one_concept(variants):
    analyzer = Analyzer()
    concept = set(analyzer.terms(variants[0])) & set(analyzer.terms(variants[1]))
    assert concept, variants
    for variant in variants[1:]:
        assert concept <= set(analyzer.terms(variant)), variant


def test_a_synonym_counts_as_the_same_concept_not_as_extra_matches(tmp_path):
    write(tmp_path / "a.md", "---\ntitle: Page one\nurl: https://e.org/a\n---\n\nSuboxone helps with cravings.\n")
    write(tmp_path / "b.md", "---\ntitle: Page two\nurl: https://e.org/b\n---\n\nBuprenorphine helps with cravings.\n")
    write(tmp_path / "c.md", "---\ntitle: Page six\nurl: https://e.org/c\n---\n\nExercise helps with sleep.\n")
    write(tmp_path / "d.md", "---\ntitle: Page ten\nurl: https://e.org/d\n---\n\nWalking helps with sleep.\n")
    write(tmp_path / "e.md", "---\ntitle: Page all\nurl: https://e.org/e\n---\n\nWater helps with heat.\n")
    index = SearchIndex.build(load_corpus(tmp_path), Analyzer())
    by_brand = index.search(index.analyzer.terms("subs"), 10)
    by_name = index.search(index.analyzer.terms("buprenorphine"), 10)
    assert by_brand == by_name and len(by_brand) == 2
    assert by_brand[0][1] == by_brand[1][1], "the brand name and the generic name must score alike"
    assert index.analyzer.terms("Suboxone") == index.analyzer.terms("buprenorphine"), "one term, not two"


def test_an_operator_synonym_file_changes_analysis_and_the_fingerprint(tmp_path):
    custom = write(tmp_path / "synonyms.yaml", "naltrexone: [vivitrol, the blocker shot]\n")
    analyzer = Analyzer(synonyms_file=custom)
    assert "naltrexon" in analyzer.terms("is the blocker shot safe")
    assert analyzer.terms("subs") == ["sub"]  # not in this file
    assert analyzer.fingerprint["synonyms_sha256"] != Analyzer().fingerprint["synonyms_sha256"]
    assert "synonyms_sha256" not in Analyzer(AnalyzerSettings(synonyms=False)).fingerprint
    with pytest.raises(ValueError, match="must be followed by a list"):
        Analyzer(synonyms_file=write(tmp_path / "bad.yaml", "naltrexone: vivitrol\n"))


def test_a_misspelt_word_is_matched_and_the_reply_says_so(answerer):
    answer = answerer.answer("how does naltrexone wrok with bupenorphine")
    assert answer.answered
    assert answer.showing_results_for == "how does naltrexone work with buprenorphine"
    assert "Showing results for: how does naltrexone work with buprenorphine" in answer.message
    assert answer.to_json()["showing_results_for"] == answer.showing_results_for


def test_known_short_and_real_english_words_are_left_alone(answerer):
    query = answerer.understand("can u take naltrexone")
    assert query.corrections == () and query.shown == ""
    assert answerer.understand("what is the weather in paris").corrections == ()  # not "either in part"
    assert answerer.understand("zzqxj naltrexone").corrections == ()


def test_spelling_can_be_switched_off(sample):
    plain = Answerer(sample, AnswerSettings(spelling=False))
    assert plain.understand("bupenorphine").corrections == ()


def test_synonyms_are_highlighted_in_the_passage(answerer, sample):
    answer = answerer.answer("can i take vivitrol while detoxing")
    [page] = answer_html(answer)
    assert "<b>naltrexone</b>" in page.lower() and "<b>detoxification</b>" in page


def test_title_and_heading_weigh_in_ranking(tmp_path):
    write(
        tmp_path / "n.md",
        "---\ntitle: Naltrexone\nurl: https://e.org/n\n---\n\n## How Does Naltrexone Work?\n\n"
        "It blocks opioid receptors.\n\n## Side effects\n\nNausea can happen.\n",
    )
    write(tmp_path / "o.md", "---\ntitle: Other\nurl: https://e.org/o\n---\n\nOpioid receptors are in the brain.\n")
    write(tmp_path / "p.md", "---\ntitle: More\nurl: https://e.org/p\n---\n\nSleep matters.\n")
    index = SearchIndex.build(load_corpus(tmp_path), Analyzer())
    [first, *_] = index.search(index.analyzer.terms("how does naltrexone work"), 5)
    assert index.chunk(first[0]).section == "How Does Naltrexone Work?"


@pytest.mark.parametrize(
    "passage, expected",
    [
        ("Naltrexone blocks opioids.", ":~:text=Naltrexone%20blocks%20opioids."),
        ("a 12-step group, with NA & AA", ":~:text=a%2012%2Dstep%20group%2C%20with%20NA%20%26%20AA"),
        (
            "One two three four five six seven eight nine ten",
            ":~:text=One%20two%20three%20four,seven%20eight%20nine%20ten",
        ),
        (
            "Opium addiction treatment is necessary for those ...",
            ":~:text=Opium%20addiction%20treatment%20is%20necessary%20for%20those",
        ),
        (
            "\u201cAn addict who takes naltrexone faithfully will never relapse,\u201d says Harvard",
            ":~:text=%E2%80%9CAn%20addict%20who%20takes,never%20relapse%2C%E2%80%9D%20says%20Harvard",
        ),
    ],
)
def test_text_fragments_are_percent_encoded_as_the_spec_requires(passage, expected):
    assert text_fragment(passage) == expected
    for part in expected.removeprefix(":~:text=").split(","):
        assert not set("-,&") & set(part), part
        assert unquote(part) in passage


def test_passage_links_keep_the_article_and_any_fragment():
    assert passage_link("https://e.org/a", "Short one.") == "https://e.org/a#:~:text=Short%20one."
    assert passage_link("https://e.org/a#part", "Short one.") == "https://e.org/a#part:~:text=Short%20one."
    assert passage_link("", "Short one.") == ""


def test_citations_link_to_the_passage(answerer):
    citation = answerer.answer("can i take naltrexone while im still detoxing?").citations[0]
    assert citation.link.startswith(citation.url + "#:~:text=")
    start, _, end = unquote(citation.link.split(":~:text=")[1]).partition(",")
    assert citation.passage.startswith(start) and citation.passage.rstrip(".").endswith(end.rstrip("."))


def test_own_question_set_finds_the_right_article_in_the_top_three(answerer):
    questions = read_questions(ANSWER_SETS / "sample_questions.jsonl")
    assert len(questions) >= 50
    figures = evaluate(answerer, questions)
    assert figures["retrieval_only"]["recall@3"] >= 0.95, figures
    # through the answer path, declined questions rank nothing: the honest figure is lower (README)
    assert figures["recall@3"] >= 0.85 and figures["answered"] >= 0.88, figures


def test_evaluation_figures_match_a_hand_count(tmp_path):
    write(tmp_path / "m.md", "---\ntitle: Methadone\nurl: https://e.org/m\n---\n\nMethadone is a daily medicine.\n")
    write(tmp_path / "n.md", "---\ntitle: Naloxone\nurl: https://e.org/n\n---\n\nNaloxone reverses an overdose.\n")
    write(tmp_path / "s.md", "---\ntitle: Sleep\nurl: https://e.org/s\n---\n\nSleep helps recovery.\n")
    index = SearchIndex.build(load_corpus(tmp_path), Analyzer())
    questions = [
        {"id": "1", "question": "methadone daily", "relevant": ["m"]},  # m first: rank 1
        {"id": "2", "question": "naloxone", "relevant": ["s"]},
    ]  # s never found
    figures = evaluate(Answerer(index), questions)
    assert figures["recall@1"] == 0.5 and figures["recall@10"] == 0.5
    assert figures["mrr@10"] == 0.5 and figures["ndcg@10"] == 0.5 and figures["questions"] == 2


@pytest.mark.slow  # 3 s: an index built and evaluated
def test_eval_command_prints_the_contract_json(tmp_path, capsys):
    from bot.cli import main

    write(
        tmp_path / "a.jsonl",
        "".join(
            json.dumps(r) + "\n"
            for r in [
                {"id": "m", "title": "Methadone", "url": "", "text": "Methadone is a daily medicine."},
                {"id": "n", "title": "Naloxone", "url": "", "text": "Naloxone reverses an overdose."},
                {"id": "s", "title": "Sleep", "url": "", "text": "Sleep helps recovery."},
            ]
        ),
    )
    write(tmp_path / "q.jsonl", json.dumps({"id": "1", "question": "naloxone overdose", "relevant": ["n"]}) + "\n")
    assert (
        main(["eval", "--corpus", str(tmp_path / "a.jsonl"), "--questions", str(tmp_path / "q.jsonl"), "--json"]) == 0
    )
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) >= {"ndcg@10", "recall@1", "recall@3", "recall@10", "mrr@10"}
    assert figures["recall@1"] == 1.0
    assert (
        main(
            [
                "eval",
                "--corpus",
                str(tmp_path / "a.jsonl"),
                "--questions",
                str(tmp_path / "q.jsonl"),
                "--without",
                "stemming,synonyms,spelling,titles,stopwords",
                "--k",
                "5",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["recall@5"] == 1.0
    assert (
        main(
            [
                "eval",
                "--corpus",
                str(tmp_path / "a.jsonl"),
                "--questions",
                str(tmp_path / "q.jsonl"),
                "--without",
                "magic",
            ]
        )
        == 1
    )
    assert "unknown part 'magic'" in capsys.readouterr().err


@pytest.mark.slow
def test_the_no_answer_thresholds_are_the_calibrated_ones(tmp_path):
    """On the realistic corpus (MedQuAD pages and the sample) with the dev questions, calibration picks the
    shipped BOT_MIN_COVERAGE and BOT_MIN_KEYNESS (a grid around them; the full grid is `bot calibrate`)."""
    import subprocess
    import sys

    from bot.answering.calibration import calibrate
    from tests.conftest import SHARED_DATA

    if not (SHARED_DATA / "medquad" / "articles.jsonl").is_file():
        pytest.fail(f"the shared data sets must be at {SHARED_DATA} (CI lays them beside the clone)")
    subprocess.run(
        [sys.executable, str(ROOT / "evalsets" / "realistic_corpus.py"), str(tmp_path / "rc")],
        check=True,
        capture_output=True,
    )
    index = SearchIndex.build(load_corpus(tmp_path / "rc"), Analyzer())
    dev = read_questions(ANSWER_SETS / "dev.jsonl")
    defaults = AnswerSettings()
    result = calibrate(Answerer(index), dev, dev, coverages=(0.25, 0.3, 0.35, 0.4, 0.45), keynesses=(0.3, 0.5, 0.7))
    assert (result["chosen"], result["chosen_keyness"]) == (defaults.min_coverage, defaults.min_keyness), result
