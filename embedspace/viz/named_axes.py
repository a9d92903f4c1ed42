"""Projections onto directions you name: each axis a word, an expression (``"italy - germany"``) or a vector.

Coordinates are projections onto the unit axes, scikit-learn style like the learned projections of
:mod:`embedspace.viz.layouts`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embedspace.analysis.probes import direction_from_expression
from embedspace.errors import InvalidInput
from embedspace.space import Space
from embedspace.viz.layouts import as_matrix


@dataclass(eq=False)
class NamedAxes:
    """Coordinates along directions you name: each axis a word, an expression, or a vector.

    An axis spelled as text (``"italy - germany"``, ``"king"``, ``"cats - cat + dogs"``) is
    evaluated in ``space`` as a probe direction is (raw vectors combined, see
    :func:`embedspace.analysis.probes.direction_from_expression`); a :class:`embedspace.analysis.probes.Direction` or a vector [D] is taken as
    it is. Each axis is scaled to unit length, so a coordinate is the length of a row's projection
    onto it.

    Parameters
    ----------
    axes : sequence of (str, probes.Direction or ndarray [D])
        The directions, in order.
    space : Space, optional
        Needed when an axis is spelled as text.
    orthogonalize : bool
        Gram-Schmidt in the given order: each axis loses its components along the earlier ones,
        so the coordinates are independent (the first axis is unchanged).
    normalize : bool
        Scale the projected rows to unit length first (coordinates become cosines for
        unorthogonalised axes).
    random_state : None
        Accepted for a uniform interface; named axes involve no randomness.

    Attributes
    ----------
    directions_ : ndarray [k, D]
        The unit axes (orthonormal when ``orthogonalize``).
    labels_ : list of str
        A name for each axis (the text, a Direction's name, or ``"axis 2"`` for a bare vector).

    Examples
    --------
    >>> space = Space(["a", "b", "c"], np.array([[1, 0, 0], [0, 2, 0], [1, 1, 1]], dtype=np.float32))
    >>> axes = NamedAxes(["a", "b - a"], space=space).fit()
    >>> axes.labels_, np.round(axes.transform(space.vectors), 3).tolist()
    (['a', 'b - a'], [[1.0, -0.447], [0.0, 1.789], [1.0, 0.447]])
    """

    axes: Sequence[str | np.ndarray]
    space: Space | None = None
    orthogonalize: bool = False
    normalize: bool = False
    random_state: None = None

    def fit(self, X=None, y=None) -> NamedAxes:
        """Resolve the axes into unit directions; ``X`` is not needed; returns ``self``."""
        if len(self.axes) == 0:
            raise InvalidInput("give at least one axis")
        raw = np.stack([self._direction(axis) for axis in self.axes]).astype(np.float64)  # [k, D]
        self.labels_ = [axis_label(axis, i) for i, axis in enumerate(self.axes)]
        self.directions_ = gram_schmidt(raw, self.labels_) if self.orthogonalize else unit_axes(raw, self.labels_)
        return self

    def _direction(self, axis) -> np.ndarray:
        if isinstance(axis, str):
            if self.space is None:
                raise InvalidInput(f"axis {axis!r} is spelled as text: give a space to evaluate it in")
            return direction_from_expression(self.space, axis).vector
        vector = np.asarray(getattr(axis, "vector", axis), dtype=np.float64)  # a probes.Direction or a vector
        if vector.ndim != 1:
            raise InvalidInput(f"an axis vector must be 1-D [D], got shape {vector.shape}")
        return vector

    def transform(self, X) -> np.ndarray:
        """Projections of the rows onto the axes: [N, D] -> [N, k]."""
        rows = as_matrix(X, self.normalize).astype(np.float64)
        if rows.shape[1] != self.directions_.shape[1]:
            raise InvalidInput(f"rows have {rows.shape[1]} dimensions but the axes have {self.directions_.shape[1]}")
        return rows @ self.directions_.T  # [N, D] @ [D, k]

    def fit_transform(self, X, y=None) -> np.ndarray:
        """``fit()`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def axis_labels(self) -> list[str]:
        """The axis names, for plot labels."""
        return list(self.labels_)


def axis_label(axis, index: int) -> str:
    """The text of an axis, a Direction's name, or ``"axis 2"`` for a bare vector."""
    if isinstance(axis, str):
        return axis
    return getattr(axis, "name", None) or f"axis {index + 1}"


def unit_axes(raw: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Each direction [k, D] scaled to unit length; a zero direction raises, naming it."""
    norms = np.linalg.norm(raw, axis=1)
    for label, norm in zip(labels, norms):
        if norm < 1e-12:
            raise InvalidInput(f"axis {label!r} is the zero vector")
    return raw / norms[:, None]


def gram_schmidt(raw: np.ndarray, labels: Sequence[str], tol: float = 1e-6) -> np.ndarray:
    """Orthonormal axes [k, D] by Gram-Schmidt in order; an axis in the span of earlier ones raises.

    Examples
    --------
    >>> np.round(gram_schmidt(np.array([[1.0, 0], [1, 1]]), ["x", "y"]), 3).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    basis = []
    for label, vector in zip(labels, raw):
        norm = np.linalg.norm(vector)
        if norm < 1e-12:
            raise InvalidInput(f"axis {label!r} is the zero vector")
        residual = vector.copy()
        for axis in basis:
            residual -= (residual @ axis) * axis  # modified Gram-Schmidt: subtract from the residual
        if np.linalg.norm(residual) < tol * norm:
            raise InvalidInput(f"axis {label!r} lies along the earlier axes: nothing is left after orthogonalising")
        basis.append(residual / np.linalg.norm(residual))
    return np.stack(basis)
