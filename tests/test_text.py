"""The one normaliser, fuzzy matcher and slang list that search, triage and intents share."""

from __future__ import annotations

import pytest

import yaml

from bot.search.analysis import Analyzer
from bot.text import fuzzy, normal, slang
from tests.conftest import ROOT

DATA = ROOT / "bot" / "data"


def test_what_phones_type_folds_to_one_form():
    assert normal.fold("What\u2019s ＵＰ") == "what's up"
    assert normal.plain("  Don\u2019t   STOP ") == "dont stop"
    assert normal.words("he's o.k., can't-stop!") == ["hes", "o", "k", "cant", "stop"]
    assert normal.fold("caf\u00e9", accents=True) == "cafe" and normal.fold("caf\u00e9") == "caf\u00e9"


def test_the_matcher_counts_a_swap_as_one_edit_and_wants_the_word_alike():
    assert fuzzy.nearest("breahting", ["breathing", "bleating"], 1, 85) == "breathing"
    assert fuzzy.nearest("watching", ["twitching"], 2, 85) is None  # close in edits, not alike
    # among equals the caller's rank decides (the search: the more frequent word)
    assert fuzzy.nearest("cat", ["bat", "hat"], 1, 60, rank=lambda i: [5, 1][i]) == "hat"


def _written(entries) -> set[str]:
    return {normal.plain(str(w)) for w in entries}


def test_each_slang_word_is_listed_once():
    spelled = slang.shipped()
    both, triage_only = _written(spelled["slang"]), _written(spelled["triage_only"])
    assert not both & triage_only
    synonyms = yaml.safe_load((DATA / "synonyms.yaml").read_text(encoding="utf-8"))
    names = _written(v for variants in synonyms.values() for v in variants) | _written(synonyms)
    assert not (both | triage_only) & names, (both | triage_only) & names
    assert not yaml.safe_load((DATA / "safety.yaml").read_text(encoding="utf-8")).get("replacements")


def test_the_search_reads_the_slang_the_triage_reads():
    analyzer = Analyzer()
    assert analyzer.terms("fent") == analyzer.terms("fentanyl")
    assert analyzer.terms("xans") == analyzer.terms("xanax") == analyzer.terms("benzodiazepines")
    assert analyzer.terms("oding") == analyzer.terms("overdosing") == analyzer.terms("od")
    assert analyzer.terms("dts") == analyzer.terms("delirium tremens")[-1:]
    assert analyzer.terms("odd") != analyzer.terms("od")  # "od'd" is slang; "odd" is a word
    assert analyzer.terms("bars") != analyzer.terms("xanax")  # triage only: bars of soap, of a song
    assert analyzer.terms("ur") == analyzer.terms("your") == []  # slang for a stop word is one too
    assert analyzer.terms("kno") == analyzer.terms("know")


@pytest.mark.slow  # an equivalence check over much text: CI runs it with -m slow
def test_english_zipf_is_wordfreqs_for_every_word_of_its_list_and_for_words_not_in_it():
    """bot/text/english.py reads wordfreq's list itself for plain words: the values must be wordfreq's."""
    import re

    from wordfreq import zipf_frequency

    from bot.text import english

    table = english._table()
    assert table and len(table) > 200_000
    plain = [w for w in table if re.fullmatch("[a-z]+", w)]
    missing = ["zzzqx", "naltrexon", "detoxxing", "buprenorphinee"]
    assert all(w not in table for w in missing)
    for word in plain[::3] + missing:
        assert english.zipf(word) == zipf_frequency(word, "en"), word
    for word in ("12-step", "don't", "café", "x²", "naïve", "", "Hello", "1990s"):  # wordfreq's own path
        assert english.zipf(word) == zipf_frequency(word, "en"), word


@pytest.fixture
def english_cache(tmp_path):
    from bot.text import english

    english.cache_in(tmp_path / "cache")
    yield tmp_path / "cache"
    english.cache_in(None)


def _fresh_start(english, folder):
    """As a new process would: nothing of the cache held in memory."""
    english.cache_in(None)
    english.cache_in(folder)


def test_english_cache_gives_the_lists_values_and_later_starts_read_only_the_cache(english_cache, monkeypatch):
    import re

    from bot.text import english

    table = english._read()
    plain = sorted(w for w in table if re.fullmatch("[a-z]+", w))
    sample = plain[::997] + ["naltrexone", "zzzqx", "detoxxing", "zzzzzzzzzzzzzzzzzzzzzzz", plain[0], plain[-1]]
    expected = [english._bucket_zipf(table.get(w)) for w in sample]
    assert [english.zipf(w) for w in sample] == expected
    (cached,) = english_cache.glob("english-*.bin")
    _fresh_start(english, english_cache)
    monkeypatch.setattr(english, "_read", lambda raw=None: pytest.fail("the list was read again"))
    assert [english.zipf(w) for w in sample] == expected
    words = english._sorted_words()
    assert all(words.get(w) == table[w] for w in plain[::101])  # every bucket as the list has it
    assert cached.stat().st_size > 1_000_000


@pytest.mark.slow  # 2-3 s: in CI's slow run
def test_a_damaged_english_cache_is_not_used_but_written_again(english_cache):
    from bot.text import english

    before = [english.zipf(w) for w in ("the", "naltrexone", "heroin", "zzzqx")]
    (cached,) = english_cache.glob("english-*.bin")
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a changed byte, the size kept
    cached.write_bytes(bytes(data))
    _fresh_start(english, english_cache)
    assert [english.zipf(w) for w in ("the", "naltrexone", "heroin", "zzzqx")] == before
    assert cached.read_bytes() != bytes(data)  # written again, whole
    cached.write_bytes(b"bot-english-1\n")  # cut short
    _fresh_start(english, english_cache)
    assert [english.zipf(w) for w in ("the", "naltrexone", "heroin", "zzzqx")] == before


def test_an_english_cache_folder_that_cannot_be_written_still_gives_the_values(tmp_path):
    from bot.text import english

    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    try:
        english.cache_in(blocked / "cache")
        values = [english.zipf(w) for w in ("the", "naltrexone", "zzzqx")]
        english.cache_in(None)
        assert values == [english.zipf(w) for w in ("the", "naltrexone", "zzzqx")]
    finally:
        english.cache_in(None)


@pytest.mark.slow  # 4 s: every slang pair, one regex pass each
def test_slang_replacements_give_what_one_regex_pass_per_pair_gives():
    """Replacements.apply looks only at the pairs a text can match; the result is the plain loop's, on the
    shipped pairs and on pairs made to feed each other ("a" -> "b c", "b" -> ...), joined by odd edges."""
    import random
    import re

    def plain_loop(pairs, text):
        for written, plain in pairs:
            if written in text and slang._UNSPACED.search(written):  # "我想死" inside a run of Han letters
                text = text.replace(written, f" {plain} ")
            elif written in text:
                text = re.sub(rf"(?<![\w']){re.escape(written)}(?![\w'])", plain, text)
        return text

    sections = slang.shipped()
    shipped = sorted(
        (
            (normal.fold(k, accents=True), normal.fold(v))
            for k, v in {**sections["slang"], **sections["triage_only"], **sections["languages"]}.items()
        ),
        key=lambda kv: -len(kv[0]),
    )
    made = [("a b", "c"), ("od'd", "overdosed"), ("ab", "a b"), ("a", "b c"), ("b", "ab"), ("c", "c"), ("", "x")]
    made += [("想死", "want to die"), ("死", "die"), ("a死", "x")]
    made += [("b c.", "a"), ("-a b-", "c"), (". .", "a"), ("ab c", "b"), ("x-ab", "ab c")]
    rng = random.Random(11)
    for pairs in (shipped, made):
        pieces = [w for w, _ in pairs if w] + ["'", "x", "ab'", "-", ".", "é", "我", "了"]
        replacements = slang.Replacements(pairs)
        for _ in range(3000):
            text = "".join(rng.choice(pieces) + rng.choice([" ", "", "'", ".", "_"]) for _ in range(rng.randint(0, 10)))
            assert replacements.apply(text) == plain_loop(pairs, text), text
