"""One configuration from the environment and an optional file; a bad setting fails naming itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import SETTINGS, Config, ConfigError
from tests.conftest import ROOT, write


def test_defaults_are_the_documented_ones():
    config = Config.from_env({})
    assert config.corpus == Path("corpus") and config.index == Path("index")
    assert config.answer.top_k == 3
    assert str(config.answer.helpline) == (
        "SAMHSA National Helpline: 1-800-662-4357 (free, confidential, 24/7), or text your ZIP code to 435748 (HELP4U)"
    )
    assert (config.answer.contacts.emergency_number, config.answer.contacts.crisis_contact) == (
        "911",
        "call or text 988",
    )
    assert "not medical advice" in config.answer.disclaimer
    assert (config.index_settings.bm25.k1, config.index_settings.bm25.b, config.index_settings.bm25.epsilon) == (
        1.5,
        0.75,
        0.25,
    )
    assert config.database == Path("state/bot.sqlite3") and config.feedback_file == Path("feedback.json")
    assert (config.chat_limit, config.chat_per_minute) == (5, 20)


def test_environment_overrides_the_file_which_overrides_defaults(tmp_path):
    env_file = write(tmp_path / "bot.env", "BOT_TOP_K=5\nBOT_HELPLINE_NUMBER=0800 000\nBOT_DISCLAIMER=File text\n")
    config = Config.from_env({"BOT_TOP_K": "2"}, env_file=env_file)
    assert config.answer.top_k == 2
    assert config.answer.helpline.number == "0800 000"
    assert config.answer.disclaimer == "File text"


def test_env_file_named_in_the_environment_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="settings file not found"):
        Config.from_env({"BOT_ENV_FILE": str(tmp_path / "missing.env")})


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("BOT_TOP_K", "three", "BOT_TOP_K must be a whole number, got 'three'"),
        ("BOT_TOP_K", "0", "BOT_TOP_K must be between 1 and 50"),
        ("BOT_BM25_B", "1.5", "BOT_BM25_B must be between 0 and 1"),
        ("BOT_MIN_COVERAGE", "x", "BOT_MIN_COVERAGE must be a number"),
        ("BOT_STEMMER", "lancaster", "BOT_STEMMER must be one of"),
        ("BOT_HELPLINE_NUMBER", "  ", "BOT_HELPLINE_NUMBER must not be empty"),
        ("BOT_DISCLAIMER", "", "BOT_DISCLAIMER must not be empty"),
        ("BOT_DATABASE", " ", "BOT_DATABASE must not be empty"),
        ("BOT_CHAT_LIMIT", "0", "BOT_CHAT_LIMIT must be between 1 and 10000"),
        ("BOT_CHAT_PER_MINUTE", "lots", "BOT_CHAT_PER_MINUTE must be a whole number, got 'lots'"),
    ],
)
def test_bad_settings_fail_naming_the_setting(name, value, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        Config.from_env({name: value})


def test_readme_and_env_example_list_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.name}`" in readme, f"{setting.name} missing from the README's table"
        assert re.search(rf"^#? ?{setting.name}=", example, re.M), f"{setting.name} missing from .env.example"


def test_env_example_is_a_valid_settings_file(tmp_path):
    config = Config.from_env({}, env_file=ROOT / ".env.example")
    assert config.answer.top_k == 3
