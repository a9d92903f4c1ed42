"""Which attention head links two tokens: in each block, the head where one token reads most from another.

A block's attention weights are [H, T, T]: in head ``h``, row ``q`` says how much token ``q``
reads from every token (each row sums to 1). To follow one relation (an adjective and the noun it
describes: "blue" and "car" in "The car is blue"), :func:`strongest_heads` picks, in every block,
the head with the largest weight from the query token to the key token, and says which token that
head's query row favours overall. :func:`head_choices` does it on an encoder's run, finding the
two tokens by their text.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embedspace.contextual.compare import WordNotInSentence
from embedspace.contextual.encoders import EncoderRun
from embedspace.errors import InvalidInput


@dataclass(frozen=True)
class HeadChoice:
    """The head of one block in which the query token attends most to the key token."""

    block: int  # 1..L: attentions[block - 1] are this block's weights
    head: int  # 0..H-1
    weight: float  # the query token's attention on the key token in this head, in [0, 1]
    focus: int  # the token position this head's query row weighs most (the key itself when it wins)


def strongest_heads(attentions: np.ndarray, query: int, key: int) -> list[HeadChoice]:
    """For every block, the head in which position ``query`` attends most to position ``key``.

    Parameters
    ----------
    attentions : ndarray [L, H, T, T]
        Softmax weights, ``attentions[l, h, q, k]``: how much token ``q`` reads from token ``k``
        in head ``h`` of block ``l + 1`` (an :class:`~embedspace.contextual.encoders.EncoderRun`'s).
    query, key : int
        Token positions, 0..T-1.

    Returns
    -------
    list of HeadChoice
        [L], one per block in order; a tie goes to the lower head.

    Raises
    ------
    InvalidInput
        For an array that is not [L, H, T, T] or a position outside 0..T-1.

    Examples
    --------
    >>> weights = np.full((2, 3, 2, 2), 0.5)  # 2 blocks, 3 heads, 2 tokens
    >>> weights[0, 2, 1] = [0.9, 0.1]  # block 1, head 2: token 1 reads token 0
    >>> weights[1, 1, 1] = [0.2, 0.8]  # block 2, head 1: token 1 reads itself
    >>> [(c.block, c.head, c.weight, c.focus) for c in strongest_heads(weights, query=1, key=0)]
    [(1, 2, 0.9, 0), (2, 0, 0.5, 0)]
    """
    weights = np.asarray(attentions)
    if weights.ndim != 4 or weights.shape[2] != weights.shape[3]:
        raise InvalidInput(f"attention weights must be [L, H, T, T], got shape {weights.shape}")
    n_tokens = weights.shape[2]
    bad = [p for p in (query, key) if not 0 <= p < n_tokens]
    if bad:
        raise InvalidInput(f"token positions {bad} outside a sequence of {n_tokens} tokens")
    heads = weights[:, :, query, key].argmax(axis=1)  # [L, H] -> [L]
    return [HeadChoice(layer + 1, int(head), float(weights[layer, head, query, key]),
                       int(weights[layer, head, query].argmax()))  # [T] -> the favoured key
            for layer, head in enumerate(heads)]


def token_position(tokens: Sequence[str], token: str, text: str) -> int:
    """The first position of ``token`` among ``tokens``; :class:`WordNotInSentence` when absent.

    Examples
    --------
    >>> token_position(["[CLS]", "the", "car", "is", "blue", "[SEP]"], "blue", "The car is blue")
    4
    """
    try:
        return list(tokens).index(token)
    except ValueError:
        raise WordNotInSentence(token, text) from None


def head_choices(run: EncoderRun, query: str, key: str) -> list[HeadChoice]:
    """:func:`strongest_heads` on one encoder run, the two tokens given by their text.

    Parameters
    ----------
    run : EncoderRun
        One sentence through an encoder (``encoder.run([sentence])[0]``).
    query, key : str
        Tokens of the run (the first occurrence of each); a word split into several word
        pieces is not one token and is not found.

    Returns
    -------
    list of HeadChoice
        [L] one per block.

    Raises
    ------
    WordNotInSentence
        When ``query`` or ``key`` is not a token of the sentence.
    """
    return strongest_heads(run.attentions, token_position(run.tokens, query, run.text),
                           token_position(run.tokens, key, run.text))
