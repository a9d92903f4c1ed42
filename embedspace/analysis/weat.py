"""The Word Embedding Association Test (Caliskan, Bryson & Narayanan, Science 2017).

Two sets of target words X, Y (flowers, insects) and two sets of attribute words A, B
(pleasant, unpleasant). Each word's association is
``s(w, A, B) = mean_a cos(w, a) - mean_b cos(w, b)``; the effect size is
``(mean_x s(x) - mean_y s(y)) / std_{w in X u Y} s(w)`` (sample standard deviation, ddof=1),
and the one-sided p-value is the share of equal-size re-partitions (X_i, Y_i) of X u Y whose
statistic ``sum_x s(x) - sum_y s(y)`` exceeds the observed one: every partition when there are
at most ``EXACT_LIMIT`` of them, otherwise ``samples`` random ones drawn with a seed.

The standard lists of the paper are shipped in ``data/wordlists/weat/`` (:func:`shipped_tests`).
"""
from __future__ import annotations

import itertools
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embedspace.errors import FormatError, InvalidInput
from embedspace.paths import wordlists_dir
from embedspace.space import Space

log = logging.getLogger(__name__)

EXACT_LIMIT = 200_000  # partitions enumerated exactly up to this many
WEAT_DIR = wordlists_dir() / "weat"
ROLES = ("X", "Y", "A", "B")


@dataclass(frozen=True)
class WeatLists:
    """The four word lists of one test and their names (``X`` flowers, ``Y`` insects, ...)."""

    name: str
    words: dict[str, list[str]]  # role -> words
    labels: dict[str, str]  # role -> name of the set


def read_weat(path: str | os.PathLike) -> WeatLists:
    """A WEAT file: lines ``ROLE<TAB>set name<TAB>word word ...`` for roles X, Y, A, B (``#`` comments).

    Raises
    ------
    FormatError
        For a line that is not three tab-separated fields, an unknown or repeated role, or a missing role.
    """
    words, labels = {}, {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) != 3 or fields[0] not in ROLES or fields[0] in words:
                raise FormatError(path, "expected 'X|Y|A|B<TAB>name<TAB>words', each role once", line=number)
            labels[fields[0]], words[fields[0]] = fields[1].strip(), fields[2].split()
    missing = [role for role in ROLES if role not in words]
    if missing:
        raise FormatError(path, f"missing role(s) {', '.join(missing)}")
    return WeatLists(Path(path).stem, words, labels)


def shipped_tests() -> dict[str, Path]:
    """The shipped WEAT lists by name (``weat1_flowers_insects``, ...)."""
    return {p.stem: p for p in sorted(WEAT_DIR.glob("*.tsv"))}


@dataclass
class WeatResult:
    """Effect size and p-value of one WEAT, with the words actually used."""

    name: str
    labels: dict[str, str]
    effect_size: float
    p_value: float
    statistic: float  # sum_x s(x) - sum_y s(y)
    exact: bool  # every partition was enumerated
    partitions: int  # partitions counted (all, or the samples)
    used: dict[str, list[str]]
    missing: list[str] = field(default_factory=list)  # words not in the space


def resolve(space: Space, words: list[str]) -> tuple[list[str], list[str]]:
    """Keys for ``words``: the word itself, else its lower-case form; and the words not found."""
    found, missing = [], []
    for word in words:
        key = word if word in space else word.lower() if word.lower() in space else None
        if key is None:
            missing.append(word)
        else:
            found.append(key)
    return found, missing


def association(space: Space, targets: list[str], a: list[str], b: list[str]) -> np.ndarray:
    """``s(w, A, B)`` for each target [n]: mean cosine with A minus mean cosine with B."""
    t, ua, ub = space.unit(targets), space.unit(a), space.unit(b)  # [n, D], [|A|, D], [|B|, D]
    return (t @ ua.T).mean(axis=1) - (t @ ub.T).mean(axis=1)


def weat(space: Space, lists: WeatLists, samples: int = 100_000, seed: int = 0) -> WeatResult:
    """Run one WEAT on ``space`` (see the module docstring for the statistics).

    Words missing from the space are dropped (and listed); cased words fall back to lower case.

    Raises
    ------
    InvalidInput
        When a list has no word in the space.

    Examples
    --------
    >>> space = Space(["rose", "tulip", "ant", "wasp", "love", "peace", "hate", "war"],
    ...               np.array([[1, 0.1], [1, 0.2], [0.1, 1], [0.2, 1], [1, 0], [1, 0.1], [0, 1], [0.1, 1]],
    ...                        dtype=np.float32))
    >>> lists = WeatLists("toy", {"X": ["rose", "tulip"], "Y": ["ant", "wasp"], "A": ["love", "peace"],
    ...                           "B": ["hate", "war"]}, {})
    >>> result = weat(space, lists)
    >>> round(result.effect_size, 3), round(result.p_value, 3), result.exact, result.partitions
    (1.728, 0.0, True, 6)
    """
    used, missing = {}, []
    for role in ROLES:
        used[role], lost = resolve(space, lists.words[role])
        missing += lost
        if not used[role]:
            label = lists.labels.get(role, role)
            raise InvalidInput(f"no word of {lists.name} list {role} ({label}) is in space {space.name!r}")
    if missing:
        log.info("%s: %d words not in %s: %s", lists.name, len(missing), space.name, ", ".join(missing))
    s = association(space, used["X"] + used["Y"], used["A"], used["B"])  # [|X| + |Y|]
    n_x = len(used["X"])
    sx, sy = s[:n_x], s[n_x:]
    effect = float((sx.mean() - sy.mean()) / s.std(ddof=1)) if len(s) > 1 and s.std(ddof=1) > 0 else float("nan")
    p_value, exact, count = permutation_p_value(s, n_x, samples, seed)
    return WeatResult(lists.name, dict(lists.labels), effect, p_value, float(sx.sum() - sy.sum()), exact, count,
                      used, missing)


def permutation_p_value(s: np.ndarray, n_x: int, samples: int = 100_000, seed: int = 0) -> tuple[float, bool, int]:
    """One-sided p-value: share of partitions of ``s`` into n_x and the rest whose X-sum beats the observed one.

    ``sum_x s - sum_y s = 2 sum_x s - sum s``, so comparing X-sums is enough.
    Returns ``(p, exact, partitions counted)``.

    Examples
    --------
    >>> permutation_p_value(np.array([3.0, 2.0, 1.0, 0.0]), 2)
    (0.0, True, 6)
    """
    observed = s[:n_x].sum()
    total = math.comb(len(s), n_x)
    tolerance = 1e-9 * max(1.0, float(np.abs(s).sum()))  # equal sums must not count as exceeding
    if total <= EXACT_LIMIT:
        combos = np.array(list(itertools.combinations(range(len(s)), n_x)), dtype=np.int64).reshape(total, n_x)
        sums = s[combos].sum(axis=1)  # [total]
        return float(np.mean(sums > observed + tolerance)), True, total
    rng = np.random.default_rng(seed)
    sums = np.empty(samples)
    for start in range(0, samples, 10_000):  # [chunk, n] permutations, first n_x columns form X_i
        stop = min(start + 10_000, samples)
        order = rng.permuted(np.broadcast_to(np.arange(len(s)), (stop - start, len(s))), axis=1)
        sums[start:stop] = s[order[:, :n_x]].sum(axis=1)
    return float(np.mean(sums > observed + tolerance)), False, samples
