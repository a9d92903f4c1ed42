"""Errors the transformer raises on input a user can get wrong (bad tokens, settings, files).

Each subclasses :class:`runtime.errors.UserError`, so the CLI shows it as one line.
"""
from __future__ import annotations

from runtime.errors import UserError


class TransformerError(UserError):
    """Base class of the transformer's user errors."""


class InvalidInput(TransformerError, ValueError):
    """A value given to the model is out of range or malformed (a ValueError, with one clear line).

    Examples
    --------
    >>> isinstance(InvalidInput("temperature must be >= 0"), ValueError)
    True
    """


class UnsupportedCheckpoint(TransformerError, ValueError):
    """A checkpoint's config or tensors do not fit the model (a missing field, a tensor of the wrong shape).

    Examples
    --------
    >>> isinstance(UnsupportedCheckpoint("hidden_act is 'relu'"), ValueError)
    True
    """
