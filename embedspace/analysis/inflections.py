"""Which answers merely inflect an input word (``kings`` for ``king``, ``germans`` for ``germany``).

The chapter's demos read ``king - man + woman = queen`` past ``kings``, and ``germany - japan + sushi``
past ``germans``; :func:`inflection_filter` lets a query do the same, by one small, stated rule.

**The rule.** Two words are *variants* of each other when they share a stem (after lower-casing).
A word's stems are the word itself and what is left of it when

- one inflectional suffix of :data:`INFLECTIONS` (``s``, ``es``, ``'s``, ``ed``, ``d``, ``ing``, ``er``,
  ``ers``, ``est``) is cut off and at least 3 letters are left, or
- one derivational suffix of :data:`DERIVATIONS` (``y``, ``ly``, ``ic``, ``an``, ``ans``, ``ian``,
  ``ians``, ``ese``, ``ish``, ``ness``) is cut off and at least 4 letters are left;

and of each such stem, the stem with a final ``e`` dropped, a doubled final consonant undoubled
(``runn`` -> ``run``) and a final ``i`` read as ``y`` (``citi`` -> ``city``). So ``king``/``kings``,
``germany``/``german``/``germans``/``germanic``, ``italy``/``italian``, ``japan``/``japanese`` and
``bake``/``baking`` are variants; ``man``/``many`` (``man`` is only 3 letters), ``man``/``men``
(irregular) and ``king``/``queen`` are not.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

INFLECTIONS = ("s", "es", "'s", "ed", "d", "ing", "er", "ers", "est")  # cut when >= 3 letters are left
DERIVATIONS = ("y", "ly", "ic", "an", "ans", "ian", "ians", "ese", "ish", "ness")  # cut when >= 4 are left
MIN_INFLECTED_STEM = 3
MIN_DERIVED_STEM = 4


def stems(word: str) -> set[str]:
    """The stems of ``word`` under the module's rule (the word itself included).

    Examples
    --------
    >>> sorted(stems("germans"))
    ['germ', 'german', 'germans']
    >>> sorted(stems("cities"))
    ['citi', 'citie', 'cities', 'city']
    """
    word = word.lower()
    cut = {word}
    for suffixes, shortest in ((INFLECTIONS, MIN_INFLECTED_STEM), (DERIVATIONS, MIN_DERIVED_STEM)):
        for suffix in suffixes:
            if word.endswith(suffix) and len(word) - len(suffix) >= shortest:
                cut.add(word[: -len(suffix)])
    found = set(cut)
    for stem in cut - {word}:
        if len(stem) > MIN_INFLECTED_STEM and stem.endswith("e"):
            found.add(stem[:-1])  # bake -> bak, as baking -> bak
        if len(stem) > MIN_INFLECTED_STEM and stem[-1] == stem[-2] and stem[-1] not in "aeiou":
            found.add(stem[:-1])  # runn(ing) -> run
        if stem.endswith("i"):
            found.add(stem[:-1] + "y")  # citi(es) -> city
    if len(word) > MIN_INFLECTED_STEM and word.endswith("e"):
        found.add(word[:-1])
    return found


def are_variants(first: str, second: str) -> bool:
    """Whether two words share a stem (see the module's rule).

    Examples
    --------
    >>> are_variants("king", "kings"), are_variants("germany", "germanic"), are_variants("man", "many")
    (True, True, False)
    """
    return not stems(first).isdisjoint(stems(second))


def inflection_filter(words: Iterable[str]) -> Callable[[str], bool]:
    """``keep(key)``: False for a key that is a variant of one of ``words``, True otherwise.

    For :func:`embedspace.queries.best_keys` and the queries that take ``keep``.

    Examples
    --------
    >>> keep = inflection_filter(["king", "man", "woman"])
    >>> [key for key in ["kings", "queen", "women", "kingly", "many"] if keep(key)]
    ['queen', 'women', 'many']
    """
    wanted = [stems(word) for word in words if isinstance(word, str)]

    def keep(key: str) -> bool:
        found = stems(key)
        return all(found.isdisjoint(other) for other in wanted)

    return keep
