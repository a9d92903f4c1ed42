"""Messages a user sees: a non-finite temperature is refused, a long text is quoted short."""
from __future__ import annotations

import pytest
from cli_checks import assert_user_error
from click.testing import CliRunner

from cli.main import cli
from transformer.errors import InvalidInput
from transformer.generate import distribution


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("temperature", ["inf", "nan", "-1"])
def test_a_temperature_that_is_not_finite_and_non_negative_is_one_line(temperature):
    with pytest.raises(InvalidInput, match="temperature must be a finite number >= 0"):
        distribution([1.0, 2.0], float(temperature))


def test_next_and_generate_refuse_an_infinite_temperature():
    assert_user_error(invoke("next", "the king", "--temperature", "inf"), "temperature must be a finite number")
    assert_user_error(invoke("next", "the king", "1", "inf"), "got inf")
    assert_user_error(invoke("generate", "the king", "--temperature", "inf"), "temperature must be a finite number")


def test_context_quotes_a_long_sentence_shortened():
    sentence = "word " * 20_000                                              # 100 KB
    result = invoke("context", "--model", "mini", "-w", "king", sentence, "a king")
    assert_user_error(result, "the word 'king' does not occur in the sentence 'word word", "...'")
    assert len(result.stderr.strip().splitlines()[-1]) < 200
