"""The inflection rule: which answers merely inflect an input word."""
from __future__ import annotations

import numpy as np
import pytest

from embedspace.analysis.arithmetic import calc, most_similar
from embedspace.analysis.inflections import are_variants, inflection_filter, stems
from embedspace.space import Space


@pytest.mark.parametrize("first, second", [
    ("king", "kings"), ("germany", "german"), ("germany", "germans"), ("germany", "germanic"),
    ("italy", "italian"), ("japan", "japanese"), ("bake", "baking"), ("run", "running"), ("city", "cities"),
    ("tower", "towers"), ("queen", "queen's"), ("walk", "walked"), ("small", "smallest"), ("King", "kings"),
])
def test_variants_share_a_stem(first, second):
    assert are_variants(first, second) and are_variants(second, first)


@pytest.mark.parametrize("first, second", [
    ("man", "many"), ("man", "men"), ("king", "queen"), ("sushi", "sashimi"), ("cat", "car"),
    ("tower", "skyscraper"), ("he", "her"), ("is", "i"), ("germany", "bavaria"),
])
def test_other_words_do_not(first, second):
    assert not are_variants(first, second)


def test_short_stems_are_not_cut():
    assert stems("many") == {"many"}  # 'man' would be 3 letters: derivations need 4
    assert "bu" not in stems("bus")  # inflections need 3


def test_the_filter_keeps_everything_but_the_inputs_variants():
    keep = inflection_filter(["germany", "japan", "sushi", None])
    assert [w for w in ["germans", "schnitzel", "japanese", "bavaria", "german"] if keep(w)] == ["schnitzel", "bavaria"]


def test_queries_leave_out_inflections_and_fill_the_place():
    keys = ["king", "man", "woman", "kings", "queen", "kingly", "monarch"]
    vectors = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0.1, 1, 1], [0, 1, 1], [0, 1.2, 1], [0.2, 1, 0.8]],
                       dtype=np.float32)
    space = Space(keys, vectors)
    plain = [k for k, _ in calc(space, "king - man + woman", topn=4)]
    assert {"kings", "kingly"} & set(plain)
    filtered = [k for k, _ in calc(space, "king - man + woman", topn=2, skip_inflections=True)]
    assert filtered == [k for k in plain if k not in ("kings", "kingly")][:2] == ["queen", "monarch"]
    assert [k for k, _ in most_similar(space, ["king", "woman"], ["man"], topn=2, skip_inflections=True)] == filtered
