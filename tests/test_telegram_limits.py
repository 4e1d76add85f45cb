"""Telegram's real limits, end to end: replies that Telegram's own parser (tdlib, in the fake Bot API) takes
whole, for articles that push them: emoji (two UTF-16 units each) and hundreds of highlighted words."""

from __future__ import annotations

import random
from pathlib import Path

from bot.answering.answer import Answerer
from bot.corpus.articles import load_corpus
from bot.search.analysis import Analyzer
from bot.search.index import SearchIndex
from bot.telegram import texts
from tests.fake_bot_api import FakeBotAPI
from tests import test_telegram_e2e as e2e
from tests.test_telegram_e2e import polling, run, wait

fake, config = e2e.fake, e2e.config  # the end-to-end tests' fixtures: in-process, tdlib judging every message

EMOJI = ["\U0001f48a", "\U0001f6ab", "\U0001f60c", "\U0001f4aa", "\U0001f9e0", "\U0001f64f", "\U0001f31f"]


def emoji_dense_corpus(folder: Path) -> Path:
    """Three articles whose sentences carry six emoji a word: the quotes are long in UTF-16, short in len()."""
    rng = random.Random(7)
    for n in range(3):
        paragraphs = []
        for _ in range(3):
            words = [rng.choice("ok so we go on up".split()) for _ in range(200)]
            words[3] = "naltrexone"
            text = " ".join(w + "".join(rng.choice(EMOJI) for _ in range(6)) for w in words)
            paragraphs.append(text.capitalize() + ".")
        (folder / f"emoji-{n}.md").write_text(
            f"---\ntitle: Naltrexone and recovery, one day at a time {n} \U0001f64f\n"
            f"url: https://example.org/emoji-{n}\n---\n\n## How naltrexone helps\n\n" + "\n\n".join(paragraphs) + "\n",
            encoding="utf-8",
        )
    return folder


def highlighted_corpus(folder: Path) -> Path:
    """Three articles that say "naltrexone" every other word: a reply with hundreds of bold words."""
    for n, word in enumerate(("yes", "so", "and")):
        sentences = "Naltrexone " + " ".join(f"{word} naltrexone" for _ in range(110)) + "."
        (folder / f"bold-{n}.md").write_text(
            f"---\ntitle: Naltrexone {n}\nurl: https://example.org/bold-{n}\n---\n\n"
            f"## About naltrexone\n\n{sentences}\n",
            encoding="utf-8",
        )
    return folder


def ask(fake: FakeBotAPI, config, answerer: Answerer, question: str) -> list[dict]:
    """The question asked in a private chat; every message of the reply, as sent."""

    async def scenario():
        async with polling(fake, config, answerer.index, answerer):
            fake.push_message(question, chat_id=4711, user_id=4711)
            await wait(fake, "sendMessage", where=lambda p: "reply_markup" in p)  # the buttons come last

    run(scenario)
    return fake.calls_to("sendMessage")


def refused(fake: FakeBotAPI) -> list:
    return [r for r in fake.rejected if r[0] != "getUpdates"]  # a poll cut short at the end is not a refusal


def test_an_emoji_dense_reply_is_taken_by_telegram_and_the_user_gets_passages(fake, config, tmp_path):
    index = SearchIndex.build(load_corpus(emoji_dense_corpus(tmp_path)), Analyzer())
    answerer = Answerer(index, config.answer)
    answer = answerer.answer("what is naltrexone")
    sent = ask(fake, config, answerer, "what is naltrexone")
    assert refused(fake) == []  # before: "message is too long", and the user got "Sorry"
    verdicts = [v for v in fake.judged if v["method"] == "sendMessage"]
    assert sum(v["units"] for v in verdicts) > 4096  # the reply needs more than one message as Telegram counts
    assert [link for v in verdicts for link in v["links"]] == [c.link for c in answer.citations]
    assert len(answer.citations) == 3
    assert not any(texts.ERROR[:20] in p["text"] for p in sent)


def test_hundreds_of_highlighted_words_keep_every_citation_link(fake, config, tmp_path):
    index = SearchIndex.build(load_corpus(highlighted_corpus(tmp_path)), Analyzer())
    answerer = Answerer(index, config.answer)
    answer = answerer.answer("naltrexone")
    assert sum(len(c.highlights) for c in answer.citations) > 300  # far past 100 entities, if all were bold
    sent = ask(fake, config, answerer, "naltrexone")
    assert refused(fake) == []
    verdicts = [v for v in fake.judged if v["method"] == "sendMessage"]
    assert all(v["entities"] <= 100 for v in verdicts)
    kept = [link for v in verdicts for link in v["links"]]  # among the entities Telegram keeps
    assert kept == [c.link for c in answer.citations] and len(kept) == 3
    assert sum(p["text"].count("<b>naltrexone</b>") + p["text"].count("<b>Naltrexone</b>") for p in sent) > 50
