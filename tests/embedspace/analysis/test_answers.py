"""Where the expected answer of an expression comes, checked against gensim's most_similar."""
from __future__ import annotations

import numpy as np
import pytest

from embedspace.analysis.answers import expected_answer
from embedspace.errors import InvalidInput
from embedspace.space import Space


@pytest.fixture(scope="module")
def space():
    rng = np.random.default_rng(11)
    words = ["king", "man", "woman", "queen"] + [f"w{i}" for i in range(200)]
    return Space(words, rng.standard_normal((len(words), 20)).astype(np.float32))


@pytest.mark.parametrize("position", [0, 3, 9])
def test_rank_and_answers_match_gensim(space, position):
    gensim_answers = space.to_keyed_vectors().most_similar(positive=["king", "woman"], negative=["man"], topn=10)
    expected = gensim_answers[position][0]
    answer = expected_answer(space, "king - man + woman", expected)
    assert [k for k, _ in answer.found] == [k for k, _ in gensim_answers]
    assert [s for _, s in answer.found] == pytest.approx([s for _, s in gensim_answers], abs=1e-5)
    assert answer.rank == position + 1 and answer.correct == (position == 0)
    assert answer.askable and answer.known and not answer.missing and answer.topn == 10


def test_an_answer_beyond_topn_has_no_rank(space):
    gensim_answers = space.to_keyed_vectors().most_similar(positive=["king", "woman"], negative=["man"], topn=20)
    answer = expected_answer(space, "king - man + woman", gensim_answers[15][0], topn=10)
    assert answer.rank is None and answer.askable and not answer.correct and len(answer.found) == 10


def test_missing_words_are_recorded_and_nothing_is_asked(space):
    answer = expected_answer(space, "king - girl + boy + girl", "queen")
    assert answer.missing == ("girl", "boy")
    assert answer.found == () and answer.rank is None and not answer.askable


def test_an_expected_word_the_space_lacks_makes_an_unfair_question(space):
    answer = expected_answer(space, "king - man + woman", "princess")
    assert not answer.known and not answer.askable and len(answer.found) == 10 and answer.rank is None


def test_topn_below_one_is_a_clear_error(space):
    with pytest.raises(InvalidInput, match="topn"):
        expected_answer(space, "king - man + woman", "queen", topn=0)
