"""Arithmetic: expressions parse as written, and their neighbours equal gensim's most_similar."""
from __future__ import annotations

import re

import numpy as np
import pytest

from embedspace.analysis.arithmetic import (
    Expression,
    Term,
    as_terms,
    calc,
    describe,
    most_similar,
    parse_expression,
    query_vector,
)
from embedspace.errors import UnknownKeyError
from embedspace.space import Space


@pytest.fixture(scope="module")
def space():
    rng = np.random.default_rng(4)
    keys = ["king", "man", "woman", "queen", "new york", "city", "2", "two"] + [f"w{i}" for i in range(500)]
    return Space(keys, rng.standard_normal((len(keys), 30)).astype(np.float32) * 3)


@pytest.fixture(scope="module")
def kv(space):
    return space.to_keyed_vectors()


@pytest.mark.parametrize("text, terms", [
    ("king - man + woman", [("king", 1), ("man", -1), ("woman", 1)]),
    ("king-man+woman", [("king", 1), ("man", -1), ("woman", 1)]),
    ("-man + woman", [("man", -1), ("woman", 1)]),
    ("0.5*king - 2 * man", [("king", 0.5), ("man", -2)]),
    ("king*0.5 + .25*woman", [("king", 0.5), ("woman", 0.25)]),
    ('"new york" - city', [("new york", 1), ("city", -1)]),
    ("'new york' + 'it''s'", None),
    ("2 + two", [("2", 1), ("two", 1)]),
    ('"say \\"hi\\""', [('say "hi"', 1)]),
])
def test_parse_expression(text, terms):
    if terms is None:
        with pytest.raises(ValueError):
            parse_expression(text)
        return
    assert parse_expression(text) == [Term(k, float(w)) for k, w in terms]


@pytest.mark.parametrize("text, message", [
    ("", "empty expression"),
    ("   ", "empty expression"),
    ("king -", "ends with an operator"),
    ("king man", "expected + or - before 'man'"),
    ("king + + man", "expected a key, not '+'"),
    ("king * man", "needs a number"),
    ('"new york', "unterminated quote"),
])
def test_parse_errors_are_clear(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_expression(text)


def test_describe_round_trips():
    for text in ['king - man + woman', '0.5*king - 2*"new york"', '-man + woman']:
        assert parse_expression(describe(parse_expression(text))) == parse_expression(text)


def test_most_similar_equals_gensim_with_and_without_weights(space, kv):
    cases = [(["king", "woman"], ["man"]), ([("king", 2.0), "woman"], []), (["w3"], ["w4", "w5"]), ("queen", [])]
    for positive, negative in cases:
        ours = most_similar(space, positive, negative, topn=8)
        theirs = kv.most_similar(positive=positive, negative=negative, topn=8)
        assert [k for k, _ in ours] == [k for k, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-6)
    ours = most_similar(space, ["king", "woman"], ["man"], topn=5, restrict_vocab=100)
    theirs = kv.most_similar(positive=["king", "woman"], negative=["man"], topn=5, restrict_vocab=100)
    assert [k for k, _ in ours] == [k for k, _ in theirs]


def test_negative_weights_are_subtracted():
    assert as_terms([], [("man", 0.5)]) == [Term("man", -0.5)]
    assert as_terms("king", "man") == [Term("king", 1.0), Term("man", -1.0)]


def test_calc_excludes_inputs_unless_asked(space):
    everything = calc(space, "king - man + woman", topn=len(space), exclude_inputs=False)
    excluded = calc(space, "king - man + woman", topn=len(space))
    assert {"king", "man", "woman"} <= {k for k, _ in everything}
    assert not {"king", "man", "woman"} & {k for k, _ in excluded}
    assert [k for k, _ in everything if k not in ("king", "man", "woman")] == [k for k, _ in excluded]


def test_query_vector_is_the_normalised_mean_of_unit_vectors(space):
    vector = query_vector(space, parse_expression("0.5*king - man"))
    expected = 0.5 * space.unit("king") - space.unit("man")
    np.testing.assert_allclose(vector, expected / np.linalg.norm(expected), rtol=1e-5, atol=1e-6)


def test_cancelling_and_unknown_terms(space):
    with pytest.raises(ValueError, match="cancels out"):
        calc(space, "king - king")
    with pytest.raises(UnknownKeyError, match="'kingg' is not in the vocabulary.*king"):
        calc(space, "kingg - man")
    with pytest.raises(ValueError, match="empty expression"):
        most_similar(space, [], [])


def test_expression_objects_record_the_algebra(space):
    king, man, woman = (Expression.of(space, k) for k in ("king", "man", "woman"))
    result = (king - man) + woman
    assert result.name == "(king - man) + woman"
    assert (king - (man + woman)).name == "king - (man + woman)"
    assert (2 * king - man).name == "2*king - man"
    assert result.most_similar(topn=3) == calc(space, "king - man + woman", topn=3)
    np.testing.assert_allclose(result.vector, query_vector(space, parse_expression("king - man + woman")))
    assert [t.weight for t in (king - (man + woman)).terms] == [1.0, -1.0, -1.0]
    with pytest.raises(UnknownKeyError):
        Expression.of(space, "nope")
    other = Space(["king"], np.ones((1, 30), dtype=np.float32))
    with pytest.raises(ValueError, match="different spaces"):
        king + Expression.of(other, "king")


def test_a_zero_row_has_cosine_zero_and_is_never_a_nan():
    zero_row = Space(["a", "b", "z"], np.array([[1, 0], [1, 1], [0, 0]], dtype=np.float32))
    query = np.array([[1.0, 0.0]], dtype=np.float32)
    first = zero_row.cosine_scores(query)  # the fresh space's pass, norms computed alongside
    again = zero_row.cosine_scores(query)  # one product with the known norms
    for scores in (first, again):
        np.testing.assert_allclose(scores, [[1.0, np.sqrt(0.5), 0.0]], rtol=1e-6)
    assert [k for k, _ in calc(zero_row, "a", topn=3)] == ["b", "z"]
