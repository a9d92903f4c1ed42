"""The small pieces every interactive view shares: group colours, the id rule, the heading and the details.

:mod:`embedspace.viz.interactive` (scatter views, pages) and :mod:`embedspace.viz.interactive_charts`
(2D charts) both build on these, so a chart and a scatter view on one page look alike.

Examples
--------
>>> codes, names, colours = group_table(["animal", "thing", "animal"], 3)
>>> codes.tolist(), names, colours == list(PALETTE[:2])
([0, 1, 0], ['animal', 'thing'], True)
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

import numpy as np

from embedspace.errors import InvalidInput

# matplotlib's tab10, so that pages and pictures colour groups alike (a test holds them equal)
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
GREY = "#737373"
VIEW_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")


def check_view_id(view_id: str) -> None:
    """An element id made of letters, digits, ``-`` and ``_``, starting with a letter."""
    if not VIEW_ID.match(view_id):
        raise InvalidInput(f"a view id is a letter followed by letters, digits, - or _; got {view_id!r}")


def group_table(groups: Sequence[str] | None, n: int) -> tuple[np.ndarray | None, list[str], list[str]]:
    """Per point, the index of its group [n]; the group names in order of first appearance; their colours."""
    if groups is None:
        return None, [], []
    names = list(dict.fromkeys(str(g) for g in groups))
    index = {name: i for i, name in enumerate(names)}
    codes = np.fromiter((index[str(g)] for g in groups), dtype=np.int64, count=n)
    return codes, names, [PALETTE[i % len(PALETTE)] for i in range(len(names))]


def head(title: str, caption: str) -> str:
    """The view's title and caption, escaped."""
    text = f'<h3 class="es-title">{html.escape(title)}</h3>' if title else ""
    return f'<div class="es-head">{text}<p class="es-caption">{html.escape(caption)}</p></div>' if caption or title \
        else ""


def details_list(details: Iterable[tuple[str, str]], heading: str = "projection") -> str:
    """The method and parameters as a ``<dl>`` under ``heading``."""
    rows = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>" for k, v in details)
    return f'<h4>{html.escape(heading)}</h4><dl class="es-details">{rows}</dl>' if rows else ""
