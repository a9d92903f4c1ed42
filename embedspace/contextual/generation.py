"""Next tokens and generated text from our mini GPT: the temperature demo of the chapter.

The probabilities are :func:`transformer.generate.distribution` (the one softmax with temperature);
the pictures of :mod:`embedspace.viz.charts` draw what :func:`distributions` returns.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.io.mini_model import MiniModel
from runtime.ranking import top_k
from transformer.generate import distribution, generate, next_token_logits
from transformer.word_tokenizer import PUNCTUATION_NO_SPACE_BEFORE, split_words


def encode_prompt(model: MiniModel, text: str) -> list[int]:
    """``<bos>`` and the prompt's ids; an empty prompt is an :class:`InvalidInput`."""
    ids = model.tokenizer.encode(text)
    if not ids:
        raise InvalidInput("the prompt has no words")
    return [model.tokenizer.bos_id, *ids]


def unknown_words(model: MiniModel, text: str) -> list[str]:
    """The tokens of ``text`` the model's vocabulary lacks, each once, in order: the model reads each as ``<unk>``.

    Examples
    --------
    >>> from embedspace.io.mini_model import load_mini_model
    >>> unknown_words(load_mini_model(), "the zorblax said unto the Zorblax and the qwfp")
    ['zorblax', 'qwfp']
    """
    known = model.tokenizer.token_to_id
    return list(dict.fromkeys(token for token in split_words(text) if token not in known))


def special_ids(model: MiniModel) -> list[int]:
    """Ids never offered as a next word: ``<unk>`` and ``<bos>``."""
    return [model.tokenizer.unk_id, model.tokenizer.bos_id]


def distributions(model: MiniModel, text: str, temperatures: Iterable[float]) -> dict[float, np.ndarray]:
    """The next-token probabilities [V] after ``text`` at each temperature: ``{T: softmax(logits / T)}``.

    One forward pass; ``<unk>`` and ``<bos>`` get probability 0; T = 0 gives the likeliest token all
    the mass. What :func:`embedspace.viz.charts.plot_temperatures` draws.

    Examples
    --------
    >>> from embedspace.io.mini_model import load_mini_model
    >>> mini = load_mini_model()
    >>> probs = distributions(mini, "and the lord said unto", (0.5, 2))  # {T: [V]}
    >>> sorted(probs), probs[0.5].shape == (mini.tokenizer.vocab_size,), round(float(probs[2.0].sum()), 6)
    ([0.5, 2.0], True, 1.0)
    """
    logits = next_token_logits(model.params, model.cfg, encode_prompt(model, text))  # [V]
    return {float(t): distribution(logits, t, suppress=special_ids(model)) for t in temperatures}


def next_token_table(model: MiniModel, text: str, temperatures: Iterable[float], k: int = 10) -> list[dict]:
    """The ``k`` likeliest next tokens after ``text`` and their probability at each temperature.

    The ranking is the logits' (the same at every T > 0, taken at T = 1); T = 0 gives the first all the mass.

    Returns
    -------
    ``[{"temperature": T, "tokens": [{"token", "id", "probability"}, ...]}, ...]``
    """
    if k < 1:
        raise InvalidInput(f"k must be at least 1, got {k}")
    temperatures = [float(t) for t in temperatures]
    probabilities = distributions(model, text, [1.0, *temperatures])  # {T: [V]}
    ranked = [int(i) for i in top_k(probabilities[1.0], k)]  # by logit
    table = []
    for temperature in temperatures:
        probs = probabilities[temperature]
        rows = [{"token": model.tokenizer.id_to_token[i], "id": i, "probability": float(probs[i])} for i in ranked]
        table.append({"temperature": temperature, "tokens": rows})
    return table


def generate_text(model: MiniModel, prompt: str, max_tokens: int = 30, temperature: float = 1.0,
                  k: int | None = 40, seed: int | None = 0) -> str:
    """The prompt's continuation (new words only), deterministic for a seed; stops at ``<eos>``."""
    ids = generate(model.params, model.cfg, encode_prompt(model, prompt), max_tokens, temperature, k, seed,
                   suppress=special_ids(model), stop_id=model.tokenizer.eos_id)
    if ids and ids[-1] == model.tokenizer.eos_id:
        ids = ids[:-1]
    return model.tokenizer.decode(ids)


def join_text(prompt: str, continuation: str) -> str:
    """Prompt and continuation as one text, with no space before closing punctuation.

    Examples
    --------
    >>> join_text("the king said", ", where is he?")
    'the king said, where is he?'
    """
    if not continuation:
        return prompt
    glue = "" if continuation[0] in PUNCTUATION_NO_SPACE_BEFORE else " "
    return f"{prompt.rstrip()}{glue}{continuation}"
