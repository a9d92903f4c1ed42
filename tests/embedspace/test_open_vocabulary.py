"""Typed words found (case folding) and an open vocabulary: rows as candidates, other words read by a model."""
from __future__ import annotations

import numpy as np
import pytest

from embedspace.analysis.arithmetic import calc
from embedspace.analysis.isotropy import remove_top, top_directions
from embedspace.contextual.isolated import WordReader
from embedspace.errors import NotACandidate, UnknownKeyError
from embedspace.io.open_vocabulary import OpenVocabularySpace
from embedspace.io.registry import limited
from embedspace.space import Space


# -- case folding on any space ------------------------------------------------------------------------------
def test_a_typed_word_is_found_as_typed_then_in_lower_case():
    space = Space(["Paris", "paris", "rome"], np.eye(3, dtype=np.float32), name="cities")
    assert space.cased and space.resolve("Paris") == "Paris" and space.resolve("ROME") == "rome"
    np.testing.assert_array_equal(space["Rome"], space["rome"])
    assert "Rome" not in space and "rome" in space and space.find("Rome") == "rome" and space.find("Madrid") is None
    assert space.lookup_note("Rome") == "'Rome' is not in space 'cities'; using 'rome'" and space.lookup_note("rome") is None
    assert space.resolve("PARIS") == "paris"  # the lower-case form, not a guess at another case
    with pytest.raises(UnknownKeyError, match="'Pariss' is not in the vocabulary of space 'cities'; did you mean: Paris"):
        space["Pariss"]


def test_an_uncased_space_folds_without_a_note():
    space = Space(["paris", "rome"], np.eye(2, dtype=np.float32))
    assert not space.cased and space.lookup_note("Paris") is None and space.get_index("PARIS") == 0


def test_queries_fold_their_inputs_and_leave_them_out():
    space = Space(["king", "man", "woman", "queen"],
                  np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32), cased=False)
    assert calc(space, "King - Man + WOMAN", topn=4) == calc(space, "king - man + woman", topn=4)
    assert [k for k, _ in calc(space, "King - Man + WOMAN", topn=4)] == ["queen"]  # inputs excluded once folded


# -- the open vocabulary ------------------------------------------------------------------------------------
class CountingTokenizer:
    """A toy tokenizer: every alphabetic word is one piece; anything else unknown."""

    def tokens(self, text):
        return ["[CLS]", *(w if w.isalpha() else "[UNK]" for w in text.split()), "[SEP]"]


def toy_reader(reads):
    """A WordReader whose 'model' gives a word the counts of its a's, b's and c's (and records each call)."""
    reader = WordReader(lambda: None, CountingTokenizer, layers=(0,))

    def vectors(words):
        reads.append(list(words))
        return np.array([[w.count("a"), w.count("b"), w.count("c")] for w in words], dtype=np.float32)

    reader.vectors = vectors
    return reader


@pytest.fixture
def reads():
    return []


@pytest.fixture
def toy(reads):
    keys = ["abc", "aab", "cc", "ba"]
    vectors = np.array([[1, 1, 1], [2, 1, 0], [0, 0, 2], [1, 1, 0]], dtype=np.float32)
    return OpenVocabularySpace(keys, vectors, toy_reader(reads), name="toy")


def test_rows_come_from_the_matrix_and_other_words_from_the_model(toy, reads):
    np.testing.assert_array_equal(toy["aab"], [2, 1, 0])
    assert reads == []  # a row: no model
    np.testing.assert_array_equal(toy[["cc", "Bacca", "a b"]], [[0, 0, 2], [2, 1, 2], [1, 1, 0]])
    assert reads == [["bacca", "a b"]]  # lower-cased, only the words that are not rows, in one call
    assert "Bacca" in toy and "a  b" in toy and not toy.has_index_for("bacca") and "a1" not in toy


def test_a_word_the_model_cannot_read_names_itself(toy):
    with pytest.raises(UnknownKeyError, match="'a1' is not in the vocabulary of space 'toy'"):
        toy["a1"]


def test_a_read_word_has_no_row_and_is_never_an_answer(toy):
    with pytest.raises(NotACandidate, match="'bbb' is not one of the 4 candidate words of space 'toy'"):
        toy.get_index("bbb")
    assert [k for k, _ in calc(toy, "aaab - b", topn=5)] == ["aab", "ba", "abc", "cc"]  # aaab and b are no answers
    assert "never an answer" in toy.lookup_note("aaab") and toy.lookup_note("ABC") is None


def test_limited_and_post_processed_spaces_stay_open_and_transform_what_they_read(toy, reads):
    first = limited(toy, 2)
    assert isinstance(first, OpenVocabularySpace) and first.index_to_key == ["abc", "aab"]
    np.testing.assert_array_equal(first["cc"], [0, 0, 2])  # no longer a row: read
    cleaned = remove_top(toy, 1)
    directions = top_directions(toy.vectors, 1)  # what all-but-the-top removes, found from the rows
    assert isinstance(cleaned, OpenVocabularySpace) and cleaned.postprocessing.startswith("centred, top 1")
    np.testing.assert_allclose(cleaned["cc"], directions(np.array([[0, 0, 2]], np.float32))[0], atol=1e-6)  # a row
    reads.clear()
    np.testing.assert_allclose(cleaned["bbc"], directions(np.array([[0, 2, 1]], np.float32))[0], atol=1e-6)  # read
    assert reads == [["bbc"]]
