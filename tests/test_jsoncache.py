"""The start-up values kept in the cache folder (bot/text/jsoncache.py) are the values worked out without it:
the YAML word lists, the crisis phrases as SafetyRules prepares them, an index's article line ends."""

from __future__ import annotations

import datetime
import json
from importlib import resources
from pathlib import Path

import pytest

from bot.safety import patterns as safety_patterns
from bot.safety import prepared
from bot.safety.rules import SafetyRules
from bot.search import article_file
from bot.text import jsoncache, yamlfile
from tests.conftest import ROOT


@pytest.fixture
def cache(tmp_path):
    jsoncache.cache_in(tmp_path / "json")
    yield tmp_path / "json"
    jsoncache.cache_in(None)


def _shipped(name: str) -> str:
    return resources.files("bot.data").joinpath(name).read_text(encoding="utf-8")


def test_plain_values_are_those_json_gives_back_exactly():
    shared = [1]
    assert jsoncache.is_plain({"a": [1, 2.5, "x", None, True, {"b": []}]})
    for value in ({1: "a"}, {"a": float("nan")}, {"d": datetime.date(2024, 1, 1)}, ("a",), {"x": shared, "y": shared}):
        assert not jsoncache.is_plain(value), value


def test_a_value_is_made_once_then_read_and_a_damaged_or_foreign_file_is_made_again(cache):
    made = []

    def make():
        made.append(1)
        return {"words": ["a", "b"], "n": 3}

    key = jsoncache.key_of("input")
    assert jsoncache.cached("t", key, make) == jsoncache.cached("t", key, make) == {"words": ["a", "b"], "n": 3}
    assert len(made) == 1
    (path,) = cache.glob("t-*.json")
    text = path.read_text()
    path.write_text(text.replace('"a"', '"z"'))  # its own sha256 no longer matches
    assert jsoncache.cached("t", key, make)["words"] == ["a", "b"] and len(made) == 2
    assert path.read_text() == text  # written again, whole
    path.write_text(text.replace(key, jsoncache.key_of("other"), 1))  # made for other inputs
    assert jsoncache.cached("t", key, make)["words"] == ["a", "b"] and len(made) == 3
    assert jsoncache.key_of("a", "b") != jsoncache.key_of("ab") != jsoncache.key_of("ab", "")


def test_a_value_json_cannot_give_back_is_made_every_time(cache):
    made = []
    key = jsoncache.key_of("dates")
    for _ in range(2):
        assert jsoncache.cached("t", key, lambda: made.append(1) or {1: "a"}) == {1: "a"}
    assert len(made) == 2 and not list(cache.glob("t-*.json"))


def test_a_folder_that_cannot_be_written_still_gives_the_value(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    jsoncache.cache_in(blocked / "cache")
    try:
        assert yamlfile.safe_load("a: [1, 2]") == {"a": [1, 2]}
    finally:
        jsoncache.cache_in(None)


@pytest.mark.parametrize("name", ["safety.yaml", "slang.yaml", "synonyms.yaml", "intents.yaml"])
def test_the_shipped_yaml_read_from_the_cache_is_what_pyyaml_reads(cache, name):
    text = _shipped(name)
    parsed = yamlfile.parse(text)
    assert yamlfile.safe_load(text) == parsed  # made, and written
    assert list(cache.glob("yaml-*.json"))
    again = yamlfile.safe_load(text)  # read back
    assert again == parsed and json.dumps(again) == json.dumps(parsed)  # the same keys in the same order


def test_yaml_with_values_json_has_not_is_read_by_pyyaml_each_time(cache):
    text = "when: 2024-01-01\n1: one\nlist: &l [a]\nagain: *l\n"
    for _ in range(2):
        value = yamlfile.safe_load(text)
        assert value == yamlfile.parse(text) and value["again"] is value["list"]
    assert not list(cache.glob("yaml-*.json"))


def test_bad_yaml_is_the_same_error_with_a_cache(cache):
    with pytest.raises(yamlfile.error()):
        yamlfile.safe_load("a: [1, 2")
    assert not list(cache.glob("yaml-*.json"))


def _lazy_view(p):
    return (p._source, None if p._needs is None else list(p._needs))


def _view(r: SafetyRules) -> dict:
    """Every attribute of a SafetyRules, its patterns by their source and needs, the pairs' sharing kept."""
    out = {}
    for name, value in vars(r).items():
        if name == "_loose":
            value = value.state()
        elif name == "_replacer":
            value = (value.pairs, value._by_word, value._by_run, value._others, value._ascii_others, value._unspaced)
        elif name == "kinds":
            value = {
                k: (
                    [_lazy_view(p) for p in kind.signs],
                    [_lazy_view(p) for p in kind.questions],
                    [_lazy_view(p) for p in kind.topics],
                    [(_lazy_view(a), _lazy_view(b), a is b) for a, b in kind.together],
                    [type(x) for x in (kind.signs, kind.questions, kind.topics)],
                )
                for k, kind in value.items()
            }
        elif isinstance(value, safety_patterns.Lazy):
            value = _lazy_view(value)
        elif isinstance(value, list) and value and isinstance(value[0], safety_patterns.Lazy):
            value = (type(value), [_lazy_view(p) for p in value])
        elif isinstance(value, dict) and value and isinstance(next(iter(value.values())), safety_patterns.Lazy):
            value = {k: _lazy_view(p) for k, p in value.items()}
        elif isinstance(value, dict) and value and isinstance(next(iter(value.values())), safety_patterns.Patterns):
            value = {k: [_lazy_view(p) for p in ps] for k, ps in value.items()}
        out[name] = value
    return out


def _messages(*names: str) -> list[str]:
    texts = []
    for name in names:
        for line in (ROOT / "evalsets" / "safety" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


def _same_readings(messages: list[str], cache) -> None:
    text = _shipped("safety.yaml")
    fresh = SafetyRules(yamlfile.parse(text))
    made = prepared.rules_from(text)  # prepared, and written
    assert list(cache.glob("safety-rules-*.json"))
    read = prepared.rules_from(text)  # read back
    assert _view(read) == _view(fresh) == _view(made)
    for message in messages:
        expected = fresh.read(message)
        got = read.read(message)
        assert got == expected and got.evidence == expected.evidence, message


def test_the_crisis_phrases_read_from_the_cache_are_those_prepared_and_read_alike(cache):
    _same_readings(_messages("blind17.jsonl", "phrases_set.jsonl"), cache)


@pytest.mark.slow
def test_the_crisis_phrases_read_from_the_cache_read_every_labelled_message_alike(cache):
    # consumer_labels.jsonl labels the shared consumer questions by id: it holds no text of its own
    names = sorted(p.name for p in (ROOT / "evalsets" / "safety").glob("*.jsonl") if p.name != "consumer_labels.jsonl")
    _same_readings(_messages(*names), cache)


def test_an_operators_phrases_are_kept_under_their_own_text(cache):
    text = _shipped("safety.yaml")
    own = text + "\nextra_list_never_read: [a]\n"
    assert prepared.rules_from(own)._keep == SafetyRules(yamlfile.parse(own))._keep
    assert len(list(cache.glob("safety-rules-*.json"))) == 1
    prepared.rules_from(text)
    assert len(list(cache.glob("safety-rules-*.json"))) == 2


def test_article_line_ends_read_from_the_cache_are_those_found_in_the_file(cache, tmp_path):
    path = tmp_path / "articles.jsonl"
    lines = [json.dumps({"id": str(i), "title": "t", "url": "u", "date": None, "excerpt": False, "source": "s",
                         "text": "x\ny " * i}) for i in range(50)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n" + lines[0], encoding="utf-8")  # a last line without its newline
    plain = article_file.read(path, lazily=True)
    made = article_file.read(path, lazily=True, digest="d" * 64)
    assert list(cache.glob("line-ends-*.json"))
    read = article_file.read(path, lazily=True, digest="d" * 64)
    assert plain._ends == made._ends == read._ends and len(read) == 51
    assert [a.id for a in read] == [a.id for a in plain]
    (stored,) = cache.glob("line-ends-*.json")
    assert Path(stored).read_text().count(",") == 50
