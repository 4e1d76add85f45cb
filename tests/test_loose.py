"""Translated crisis phrases found when written otherwise (bot/safety/loose.py)."""

import pytest

from bot import safety
from bot.safety.loose import LooseForms


@pytest.fixture(scope="module")
def rules():
    return safety.load_rules()


def forms(**pairs):
    return LooseForms.of({k.replace("_", " "): v for k, v in pairs.items()})


def test_a_form_is_found_in_another_order_inflected_and_with_a_word_between():
    loose = forms(se_tomo_todas_las_pastillas="took all the pills")
    assert "took all the pills" in loose.apply("mi hermana todas las pastillas ya se tomo")
    assert "overdose" in forms(передозировка="overdose").apply("у него передозировки сейчас")
    seizure = forms(bi_co_giat="is having a seizure")
    assert "is having a seizure" in seizure.apply("bo em bi lai co giat roi", "bố em bị lại co giật rồi")


def test_every_word_of_a_form_must_be_there_close_together_in_one_sentence():
    loose = forms(muon_chet_roi="i want to die")
    assert loose.apply("toi muon chet") == "toi muon chet"  # one word missing
    assert "die" not in loose.apply("toi muon an com. hom nay con ca chet roi")  # across a sentence
    assert "die" not in loose.apply("muon di choi voi ban be o ngoai pho hom nay roi chet")  # too far apart


def test_english_text_and_a_longer_word_that_only_starts_alike_are_left_alone():
    # a rare English word is no Spanish one; "alkohol" is not "alkoholdelir" (the DTs)
    assert forms(detoxeando="withdrawal").apply("im detoxing at home from vodka") == "im detoxing at home from vodka"
    assert "delirium" not in forms(alkoholdelir="delirium tremens").apply("czy mozna pic alkohol biorac suboxone")


def test_a_short_word_alone_says_too_little_to_be_a_form():
    assert forms(kufa="die").apply("nataka kufa leo") == "nataka kufa leo"
    assert forms(tu_tu="suicide").forms == []


def test_the_prepared_state_gives_the_same_forms_back():
    loose = forms(se_tomo_todas_las_pastillas="took all the pills", передозировка="overdose")
    again = LooseForms.from_state(loose.state())
    assert again.forms == loose.forms and again.first == loose.first


def test_the_triage_reads_a_translated_phrase_written_otherwise(rules):
    # "nangisay ako kanina" (I had a seizure earlier) as translated; written of a brother, in another order
    clauses = " ".join(rules.rules.clauses("kanina ako nangisay ulit"))
    assert "had a seizure" in clauses


def test_a_letter_typed_without_its_stroke_reads_as_with_it(rules):
    # "chơi đá" as translated or mended, typed "choi da"; Polish "wziął" typed "wzial"
    with_stroke = rules.rules.clauses("kolega wziął coś na imprezie, ma drgawki")
    assert rules.rules.clauses("kolega wzial cos na imprezie, ma drgawki") == with_stroke
    assert rules.triage("ban em vua choi da xong gio co giat, tim dap nhanh lam").crisis
