"""Charts of the transformer: attention heatmaps, next-token bars at several temperatures, drift over layers.

Each takes the numbers its caller computed (attention weights, probabilities, per-layer cosines) and
draws them; none computes a model quantity itself. Every function takes an optional ``ax`` (``fig``
for grids) and returns it.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from embedspace.errors import InvalidInput
from embedspace.viz.figures import LABEL_SIZE, TEXT_SIZE, TITLE_SIZE, new_axes
from runtime import ranking


# -- attention -----------------------------------------------------------------------------------
def check_attention(weights: np.ndarray, tokens: Sequence[str], ndim: int) -> np.ndarray:
    """``weights`` as a float array of ``ndim`` dims whose last two are [T, T], T = len(tokens)."""
    weights = np.asarray(weights, dtype=np.float64)
    t = len(tokens)
    if weights.ndim != ndim or weights.shape[-2:] != (t, t):
        want = "[T, T]" if ndim == 2 else "[H, T, T]"
        raise InvalidInput(f"attention weights must be {want} with T = {t} tokens, got shape {weights.shape}")
    return weights


def draw_heatmap(ax, weights: np.ndarray, tokens: Sequence[str], numbers: bool, fontsize: float):
    """One [T, T] attention pattern on ``ax`` (queries down, keys across); returns the image."""
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
    ticks = np.arange(len(tokens))
    ax.set_xticks(ticks, tokens, rotation=45, ha="right", rotation_mode="anchor", fontsize=fontsize)
    ax.set_yticks(ticks, tokens, fontsize=fontsize)
    if numbers:
        for (i, j), value in np.ndenumerate(weights):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=fontsize - 1,
                    color="black" if value > 0.6 else "white")
    return image


def plot_attention(weights: np.ndarray, tokens: Sequence[str], ax=None, title: str | None = None):
    """A heatmap of one attention pattern: row = the token attending, column = the token attended to.

    Parameters
    ----------
    weights : ndarray [T, T]
        Rows sum to 1 (softmax over keys).
    tokens : sequence of str [T]
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    The axes (a colour bar is added beside it). Cells show their weight when T <= 12.

    Examples
    --------
    >>> ax = plot_attention(np.eye(3), ["the", "car", "is"])
    >>> [t.get_text() for t in ax.get_xticklabels()], len(ax.images)
    (['the', 'car', 'is'], 1)
    """
    weights = check_attention(weights, tokens, ndim=2)
    size = max(4.5, 0.5 * len(tokens) + 2.5)
    ax = new_axes(ax, figsize=(size + 1.2, size))
    image = draw_heatmap(ax, weights, tokens, numbers=len(tokens) <= 12, fontsize=TEXT_SIZE + 1)
    ax.figure.colorbar(image, ax=ax, label="attention weight", shrink=0.8)
    ax.set_xlabel("attended to (key)", fontsize=LABEL_SIZE)
    ax.set_ylabel("attending (query)", fontsize=LABEL_SIZE)
    ax.set_title(title or "Attention pattern", fontsize=TITLE_SIZE)
    return ax


def plot_attention_grid(weights: np.ndarray, tokens: Sequence[str], fig=None, title: str | None = None):
    """Every head's attention pattern [H, T, T] in a grid sharing one colour bar.

    Returns
    -------
    The figure; its first H axes hold the heads in order (titled ``head 0``, ``head 1``, ...).

    Examples
    --------
    >>> fig = plot_attention_grid(np.full((3, 2, 2), 0.5), ["a", "b"])
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['head 0', 'head 1', 'head 2']
    """
    weights = check_attention(weights, tokens, ndim=3)
    heads = weights.shape[0]
    columns = math.ceil(math.sqrt(heads))
    rows = math.ceil(heads / columns)
    if fig is None:
        from matplotlib.figure import Figure

        cell = min(3.4, max(2.4, 0.2 * len(tokens) + 1.2))
        fig = Figure(figsize=(cell * columns + 1.4, cell * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    fontsize = TEXT_SIZE - 1 if len(tokens) <= 10 else TEXT_SIZE - 2
    for head, ax in enumerate(axes[:heads]):
        image = draw_heatmap(ax, weights[head], tokens, numbers=False, fontsize=fontsize)
        ax.set_title(f"head {head}", fontsize=LABEL_SIZE)
        if head % columns:  # token names on the left column and the bottom row only
            ax.tick_params(labelleft=False)
        if head + columns < heads:
            ax.tick_params(labelbottom=False)
    for ax in axes[heads:]:
        ax.set_axis_off()
    fig.colorbar(image, ax=list(axes[:heads]), label="attention weight", shrink=0.7)
    fig.suptitle(title or f"Attention patterns of {heads} heads (row attends to column)", fontsize=TITLE_SIZE)
    return fig


# -- temperature -------------------------------------------------------------------------------
def plot_temperatures(probabilities: Mapping[float, np.ndarray], tokens: Sequence[str], top_k: int = 10, ax=None,
                      title: str | None = None):
    """One next-token distribution at several temperatures, as grouped bars.

    The pictures compute no softmax: the caller gives each temperature's distribution, e.g.
    :func:`embedspace.contextual.generation.distributions` (softmax(logits / T) over the whole
    vocabulary). The ``top_k`` tokens most likely at the highest temperature are shown at every
    temperature (every T > 0 ranks the tokens alike, by logit; the flattest distribution loses the
    fewest to rounding), and the legend gives each T's entropy.

    Parameters
    ----------
    probabilities : mapping of temperature -> ndarray [V]
        Each temperature's probabilities over the vocabulary, in the order to draw them.
    tokens : sequence of str [V]
    top_k : int
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    The axes; one bar container per temperature.

    Examples
    --------
    >>> probs = {1.0: np.array([0.5, 0.3, 0.15, 0.05]), 2.0: np.array([0.38, 0.3, 0.2, 0.12])}
    >>> ax = plot_temperatures(probs, ["a", "b", "c", "d"], top_k=3)
    >>> len(ax.containers), [t.get_text() for t in ax.get_xticklabels()]
    (2, ['a', 'b', 'c'])
    """
    rows = check_distributions(probabilities, len(tokens))  # {T: [V]}
    if top_k < 1:
        raise InvalidInput(f"top_k must be at least 1, got {top_k}")
    shown = ranking.top_k(rows[max(rows)], top_k)  # [k]
    ax = new_axes(ax, figsize=(max(6.5, 0.22 * len(shown) * len(rows) + 2.0), 4.8))
    width = 0.8 / len(rows)
    x = np.arange(len(shown))
    for i, (temperature, probs) in enumerate(rows.items()):
        entropy = -np.sum(probs[probs > 0] * np.log2(probs[probs > 0]))
        ax.bar(x + (i - (len(rows) - 1) / 2) * width, probs[shown], width=width, zorder=2,
               label=f"T = {temperature:g} (entropy {entropy:.2f} bits)")
    ax.set_xticks(x, [tokens[i] for i in shown], rotation=30, ha="right", rotation_mode="anchor",
                  fontsize=TEXT_SIZE + 1)
    ax.set_xlabel("next token", fontsize=LABEL_SIZE)
    ax.set_ylabel("probability", fontsize=LABEL_SIZE)
    ax.grid(True, axis="y", alpha=0.3, zorder=0)
    ax.legend(fontsize=TEXT_SIZE, framealpha=0.85)
    names = ", ".join(f"{t:g}" for t in rows)
    ax.set_title(title or f"Next-token probabilities at T = {names}", fontsize=TITLE_SIZE)
    return ax


def check_distributions(probabilities: Mapping[float, np.ndarray], n_tokens: int) -> dict[float, np.ndarray]:
    """``{T: probabilities [V]}`` as float arrays, checked: at least one T, each [V] for V tokens, none negative."""
    if not probabilities:
        raise InvalidInput("give the probabilities at one temperature at least")
    rows = {float(t): np.asarray(p, dtype=np.float64) for t, p in probabilities.items()}
    for temperature, probs in rows.items():
        if probs.shape != (n_tokens,):
            raise InvalidInput(f"expected probabilities [V] for {n_tokens} tokens at T = {temperature:g}, "
                               f"got shape {probs.shape}")
        if np.any(probs < 0):
            raise InvalidInput(f"probabilities cannot be negative (T = {temperature:g})")
    return rows


# -- layer drift ---------------------------------------------------------------------------------
def plot_layer_drift(cosines: Mapping[str, Sequence[float]], ax=None, title: str | None = None,
                     ylabel: str = "cosine similarity"):
    """Lines over layers: x = layer 0..L (0 = the embeddings entering the first block), y = cosine.

    Parameters
    ----------
    cosines : mapping of label -> sequence of float [L + 1]
        One line per label (e.g. ``"same sense"``, ``"to its static row"``).
    ax : matplotlib Axes, optional
    title : str, optional
    ylabel : str

    Returns
    -------
    The axes; one line per label, in order.

    Examples
    --------
    >>> ax = plot_layer_drift({"ML vs ML": [1.0, 0.9, 0.8], "ML vs fashion": [1.0, 0.7, 0.4]})
    >>> len(ax.lines), ax.get_xlabel()
    (2, 'layer (0 = embeddings entering the first block)')
    """
    if not cosines:
        raise InvalidInput("give at least one series of per-layer values")
    ax = new_axes(ax, figsize=(7.0, 4.5))
    most_layers = 0
    for label, values in cosines.items():
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1 or values.size == 0:
            raise InvalidInput(f"series {label!r} must be a non-empty list of per-layer values")
        ax.plot(np.arange(values.size), values, marker="o", linewidth=2, markersize=5, label=label)
        most_layers = max(most_layers, values.size)
    ax.set_xticks(np.arange(most_layers))
    ax.set_xlabel("layer (0 = embeddings entering the first block)", fontsize=LABEL_SIZE)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=TEXT_SIZE, framealpha=0.85, loc="best")
    ax.set_title(title or "How the vector changes from layer to layer", fontsize=TITLE_SIZE)
    return ax
