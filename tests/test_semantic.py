"""Semantic reranking: the numpy sentence encoder, the chunk vectors kept per build, and what it changes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from bot.config import Config, ConfigError
from bot.engine import open_answerer
from bot.search import semantic
from bot.search.encoder import EncoderError, SentenceEncoder, WordPiece, read_safetensors, shipped_encoder
from tests.conftest import ROOT, write

WITHDRAWAL = """---
title: How long opioid withdrawal lasts
url: https://example.org/withdrawal-timeline
---

For most people, the worst of opioid withdrawal is over within a week. Symptoms from short-acting opioids such as
heroin start within a day, peak around the third day and ease by day seven to ten.
"""
DETECTION = """---
title: How long heroin stays in your system
url: https://example.org/heroin-detection
---

How long heroin lasts depends on the dose. Heroin stays in urine for about two to three days, and a heroin high
lasts a few hours. How long heroin can be detected in hair is longer.
"""


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return shipped_encoder()


@pytest.fixture
def corpus(tmp_path):
    write(tmp_path / "corpus" / "withdrawal.md", WITHDRAWAL)
    write(tmp_path / "corpus" / "detection.md", DETECTION)
    return tmp_path / "corpus"


def test_the_tokenizer_lowercases_takes_accents_off_and_splits_punctuation(encoder):
    assert WordPiece.words("Café, QUIERO morir!!") == ["cafe", ",", "quiero", "morir", "!", "!"]
    ids = encoder.tokens.encode("naltrexone")
    pieces = {i: p for p, i in encoder.tokens.ids.items()}
    assert ids[0] == encoder.tokens.cls and ids[-1] == encoder.tokens.sep
    assert "".join(pieces[i].removeprefix("##") for i in ids[1:-1]) == "naltrexone"  # word pieces, in order
    assert len(encoder.tokens.encode("word " * 1000)) == 128


def test_vectors_are_unit_length_the_same_batched_or_alone_and_meaning_comes_closer(encoder):
    texts = [
        "how long does methadone withdrawal last",
        "Methadone withdrawal symptoms can go on for several weeks.",
        "The weather will be sunny tomorrow in Chicago.",
    ]
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert together[0] @ together[1] > together[0] @ together[2] + 0.3


def test_a_damaged_weights_file_is_an_error_naming_it(tmp_path):
    short = write(tmp_path / "model.safetensors", b"\x10\x00")
    with pytest.raises(EncoderError, match="model.safetensors"):
        read_safetensors(short)
    lying = write(tmp_path / "lying.safetensors", (10_000).to_bytes(8, "little") + b"{}")
    with pytest.raises(EncoderError, match="header length"):
        read_safetensors(lying)
    with pytest.raises(EncoderError, match="cannot read the sentence encoder"):
        SentenceEncoder.load(tmp_path / "nowhere")


@pytest.mark.slow  # each encodes a corpus: CI runs it with the slow tests
def test_meaning_puts_the_article_that_answers_first_where_bm25_does_not(corpus, tmp_path):
    question = "i quit heroin how long will i feel this bad"
    ranked = {}
    for mode in ("off", "on"):
        config = Config.from_env({"BOT_SEMANTIC": mode, "BOT_CACHE_DIR": str(tmp_path / "cache")})
        answer = open_answerer(config, corpus=corpus).answer(question)
        ranked[mode] = [c.article_id for c in answer.citations]
    assert ranked["off"][0] == "detection"  # the words "how long" and "heroin" three times each
    assert ranked["on"][0] == "withdrawal"
    # and a question the other article answers keeps it first
    on = open_answerer(Config.from_env({"BOT_SEMANTIC": "on", "BOT_CACHE_DIR": str(tmp_path / "cache")}), corpus=corpus)
    assert [c.article_id for c in on.answer("how long is heroin in urine").citations][0] == "detection"


@pytest.mark.slow  # each encodes a corpus: CI runs it with the slow tests
def test_a_chunk_is_encoded_once_a_changed_one_again_and_a_damaged_cache_is_not_trusted(corpus, tmp_path, encoder):
    def index_of(folder):
        config = Config.from_env({"BOT_CACHE_DIR": str(tmp_path / "indexes"), "BOT_SEMANTIC": "off"})
        return open_answerer(config, corpus=folder).index

    said: list[str] = []
    first = semantic.vectors_for(index_of(corpus), tmp_path / "c", encoder, said.append)
    # two chunks and their five sentences
    assert said == ["encoding 7 of 7 chunks and sentences for semantic reranking (new or changed ones only)"]
    assert first.vectors.dtype == np.float16 and first.vectors.shape == (2, 384)
    said.clear()
    again = semantic.vectors_for(index_of(corpus), tmp_path / "c", encoder, said.append)
    assert said == [] and np.array_equal(first.vectors, again.vectors)
    # the site changed one article: only its chunk is encoded, and its old vector is not used
    write(corpus / "detection.md", DETECTION.replace("two to three days", "one to four days"))
    changed = index_of(corpus)
    after = semantic.vectors_for(changed, tmp_path / "c", encoder, said.append)
    # its chunk and the one sentence that changed
    assert said == ["encoding 2 of 7 chunks and sentences for semantic reranking (new or changed ones only)"]
    fresh = encoder.encode(semantic.chunk_texts(changed)).astype(np.float16)
    assert np.allclose(after.vectors.astype(np.float32), fresh.astype(np.float32), atol=2e-3)
    (cached,) = (tmp_path / "c" / "vectors").glob("*.npz")
    cached.write_bytes(b"not an archive")
    said.clear()
    repaired = semantic.vectors_for(changed, tmp_path / "c", encoder, said.append)
    assert "unreadable" in said[0]
    assert np.allclose(repaired.vectors.astype(np.float32), after.vectors.astype(np.float32), atol=2e-3)
    with np.load(cached, allow_pickle=False) as store:
        assert store["vectors"].shape == (7, 384) and store["keys"].shape == (7, semantic.KEY_BYTES)
    # the passage picker reads a sentence's vector from the store, the same as encoding it
    sentence = semantic.sentence_texts(changed)[0]
    question = encoder.encode(["how long does withdrawal last"])[0]
    assert abs(repaired.near(question, sentence) - float(encoder.encode([sentence])[0] @ question)) < 2e-3


def test_auto_reranks_small_corpora_only_and_a_bad_setting_is_named():
    assert semantic.wanted("auto", semantic.AUTO_MAX_CHUNKS) and not semantic.wanted("auto", 10**6)
    assert semantic.wanted("on", 10**6) and not semantic.wanted("off", 1)
    assert Config.from_env({}).semantic == "auto"
    with pytest.raises(ConfigError, match="BOT_SEMANTIC"):
        Config.from_env({"BOT_SEMANTIC": "maybe"})


@pytest.mark.slow
def test_ask_by_default_reranks_the_sample_corpus_and_keeps_its_json(tmp_path):
    env = {"BOT_CACHE_DIR": str(tmp_path / "cache"), "BOT_ENV_FILE": "/dev/null", "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "how often do you take naltrexone"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["answered"] and answer["citations"][0]["article_id"].startswith("naltrexone")
    assert "encoding" in run.stderr and list((tmp_path / "cache" / "vectors").glob("*.npz"))


@pytest.mark.slow  # each encodes a corpus: CI runs it with the slow tests
def test_a_vague_question_close_in_meaning_is_answered_and_a_question_about_the_bot_is_near_no_article(tmp_path):
    config = Config.from_env({"BOT_SEMANTIC": "on", "BOT_CACHE_DIR": str(tmp_path / "cache")})
    answerer = open_answerer(config, corpus=ROOT / "corpus")
    vague = answerer.answer("i keep craving it what do i do")
    assert vague.citations and answerer.vectors is not None
    cosines = answerer.vectors.vectors.astype(np.float32) @ answerer.vectors.question("who are you")
    assert cosines.max() < semantic.UNRELATED  # nothing in the articles is near it
    close = answerer.vectors.closeness(answerer.vectors.question("how do i deal with cravings for opium"), [0, 1])
    assert set(close) == {0, 1} and all(-1.0 <= c <= 1.0 for c in close.values())


def test_an_ablation_can_switch_meaning_off():
    from bot.measure_commands import _without

    assert _without(Config.from_env({}), "meaning").semantic == "off"
    assert _without(Config.from_env({}), "stemming").semantic == "auto"


def test_the_meaning_gate_rises_when_many_passages_share_only_common_words():
    near = {n: 0.2 for n in range(semantic.MANY)}
    assert semantic.crowded(list(near)) and not semantic.crowded([0, 1])
    assert semantic.unrelated(near, semantic.crowded(list(near)))  # many share a word like "stop", none near
    few = dict(list(near.items())[:2])
    assert not semantic.unrelated(few, semantic.crowded(list(few)))  # a word two passages hold: the lower gate
    assert semantic.unrelated({1: 0.1}, semantic.crowded([1]))


def _quitting_corpus(folder):
    for n, drug in enumerate(
        ["heroin", "alcohol", "methadone", "cocaine", "benzodiazepines", "nicotine", "cannabis"] * 2
    ):
        write(
            folder / f"quit-{n}.md",
            f"---\ntitle: Quitting {drug} ({n})\nurl: https://example.org/quit-{n}\n---\n\nPeople who stop using {drug} "
            f"often feel withdrawal for some days. A doctor can help you stop {drug} safely and plan the first weeks. "
            f"Support groups help many people who want to stop {drug} and stay stopped.\n",
        )
    return folder


@pytest.mark.slow  # encodes a corpus: CI runs it with the slow tests
def test_a_topic_without_the_answer_has_no_sentence_near_it_and_slang_is_read_by_its_name(tmp_path):
    config = Config.from_env({"BOT_SEMANTIC": "on", "BOT_CACHE_DIR": str(tmp_path / "cache")})
    answerer = open_answerer(config, corpus=_quitting_corpus(tmp_path / "corpus"))
    assert answerer.answer("how can i stop using heroin safely").citations
    assert not answerer.answer("how do i get my puppy to stop biting").citations  # "stop" in every article
    # the sentences' gate: some sentence of the article must be near what was asked
    meant = answerer.vectors.question
    assert answerer._says_it(meant("a doctor can help me stop drinking alcohol safely"), [1])
    assert not answerer._says_it(meant("where is the cheapest parking near the stadium"), [1])
    # slang the encoder never saw is read with the articles' name for it
    assert answerer._meant("what are the DTs", answerer.understand("what are the DTs")).endswith("(delirium tremens)")


@pytest.mark.slow  # loads the encoder four times: CI runs it with -m slow
def test_the_matrices_kept_in_the_cache_give_the_same_vectors_and_a_damaged_copy_is_made_again(tmp_path, encoder):
    """The transposed matrices are kept as plain .npy in the cache folder (no pickle): mapped back, they give the
    vectors the copied-out ones give, bit for bit; a file cut short is written again, never trusted."""
    from bot.search import encoder as encoding

    texts = ["can i take vivitrol while on subs", "naltrexone blocks the effects of opioids", "word " * 300]
    want = encoder.encode(texts)
    encoding.cache_in(tmp_path)
    try:
        written = SentenceEncoder.load()
        kept = list((tmp_path / "encoder").glob("*.npy"))
        assert len(kept) == 1 and np.array_equal(written.encode(texts), want)
        assert np.array_equal(SentenceEncoder.load().encode(texts), want)  # mapped from the kept file
        kept[0].write_bytes(kept[0].read_bytes()[:1000])  # cut short
        assert np.array_equal(SentenceEncoder.load().encode(texts), want)
        assert kept[0].stat().st_size > 1_000_000  # written again, whole
    finally:
        encoding.cache_in(None)
