"""Plots: inspect the returned axes (artists, labels, data), never pixels."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch

from embedspace.errors import InvalidInput
from embedspace.space import Space
from embedspace.viz import charts, figures, plots
from transformer.generate import distribution


@pytest.fixture
def royal():
    """king - man + woman lands exactly on queen (all rows unit length); 'apple' is far away."""
    s = np.sqrt(0.5)
    keys = ["king", "man", "woman", "queen", "apple"]
    rows = [[s, s, 0, 0, 0], [s, 0, s, 0, 0], [0, 0, s, s, 0], [0, s, 0, s, 0], [0, 0, 0, 0, 1]]
    return Space(keys, np.array(rows, dtype=np.float32))


def offsets(ax) -> np.ndarray:
    return np.vstack([c.get_offsets() for c in ax.collections])


def test_plots_do_not_touch_pyplot_state(royal):
    before = plt.get_fignums()
    plots.plot_points(np.zeros((2, 2)), ["a", "b"])
    plots.plot_analogy(royal, "king", "man", "woman")
    assert plt.get_fignums() == before


def test_plot_points_2d_groups_labels_and_legend():
    coords = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5]])
    labels = ["cat", "dog", "car", "bus", "cow"]
    groups = ["animal", "animal", "vehicle", "vehicle", "animal"]
    ax = plots.plot_points(coords, labels, groups, title="Five words", axis_labels=["PC1 (50%)", "PC2 (30%)"])
    assert ax.get_title() == "Five words"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("PC1 (50%)", "PC2 (30%)")
    assert len(ax.collections) == 2  # one scatter per group
    assert sorted(map(tuple, offsets(ax))) == sorted(map(tuple, coords))
    assert sorted(t.get_text() for t in ax.texts) == sorted(labels)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["animal", "vehicle"]
    colours = [tuple(c.get_facecolors()[0]) for c in ax.collections]
    assert colours[0] != colours[1]


def test_labels_of_coincident_points_are_moved_apart():
    coords = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]])
    ax = plots.plot_points(coords, ["left", "right", "far"])
    first, second = (t for t in ax.texts if t.get_text() in ("left", "right"))
    assert first.xyann != second.xyann  # different offsets from the same point
    assert all(t.get_path_effects() for t in ax.texts)  # white outline on every label


def test_labels_of_coincident_3d_points_are_moved_apart():
    coords = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, -1.0, 0.5]])
    ax = plots.plot_points(coords, ["one", "two", "far", "away"])
    positions = {t.get_text(): np.array(t.get_position_3d()) for t in ax.texts}
    assert not np.allclose(positions["one"], positions["two"])
    for label, point in zip(["one", "far", "away"], coords[[0, 2, 3]]):  # each label stays near its point
        assert np.linalg.norm(positions[label] - point) < 0.3


def test_plot_points_3d():
    coords = np.random.default_rng(0).normal(size=(6, 3))
    ax = plots.plot_points(coords, list("abcdef"), axis_labels=["x", "y", "z"])
    assert ax.name == "3d"
    assert len(ax.texts) == 6 and ax.get_zlabel() == "z"
    assert ax.get_title() == "6 words" and ax.get_legend() is None


def test_plot_points_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\[N, 2\] or \[N, 3\]"):
        plots.plot_points(np.zeros((3, 4)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="2 labels for 3 points"):
        plots.plot_points(np.zeros((3, 2)), ["a", "b"])
    with pytest.raises(ValueError, match="1 groups for 2 points"):
        plots.plot_points(np.zeros((2, 2)), ["a", "b"], groups=["g"])
    with pytest.raises(ValueError, match="3D axes"):
        plots.plot_points(np.zeros((2, 3)), ["a", "b"], ax=figures.new_axes())


def test_plot_analogy_draws_the_parallelogram(royal):
    ax = plots.plot_analogy(royal, "king", "man", "woman")
    assert ax.get_title() == "king − man + woman ≈ queen"
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 3
    king, man, woman, queen, star = (c.get_offsets()[0] for c in ax.collections)
    np.testing.assert_allclose(star, king - man + woman, atol=1e-6)  # a + (c - b)
    np.testing.assert_allclose(star, queen, atol=1e-6)  # planted: the analogy is exact here
    notes = [t.get_text() for t in ax.texts]
    assert {"king", "man", "woman", "queen"} <= set(notes)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["man → woman (length 1.00)", "king → queen", "king + (woman − man)",
                      "star to queen: 0.00 in the space\n(0.00 in this plane, 0.00 off it)",
                      "king − man + woman: nearest queen (cosine 1.00)"]
    assert ax.get_xlabel() == "woman − man"  # the plane of the analogy, no longer its words' PCA (issue 11)


def test_plot_analogy_with_an_expected_word_that_is_not_the_nearest(royal):
    ax = plots.plot_analogy(dict(zip(royal.index_to_key, royal.vectors)), "king", "man", "woman", expected="apple")
    assert len(ax.collections) == 6  # king, man, woman, apple, queen (nearest) and the star
    assert ax.get_title().endswith("≈ queen")
    assert "king → apple" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_analogy_unknown_word_names_it(royal):
    with pytest.raises(KeyError, match="kingg"):
        plots.plot_analogy(royal, "kingg", "man", "woman")


def test_plot_probe_sorts_bars_and_colours_groups():
    words = ["cat", "cats", "dog", "dogs"]
    scores = [-0.3, 0.8, -0.1, 0.5]
    ax = plots.plot_probe(words, scores, groups=["one", "many", "one", "many"], title="cats - cat")
    bars = ax.patches
    assert len(bars) == 4
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "dogs", "cats"]  # bottom to top
    np.testing.assert_allclose([b.get_width() for b in bars], sorted(scores))
    assert bars[0].get_facecolor() == bars[1].get_facecolor() != bars[2].get_facecolor()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["one", "many"]
    assert ax.get_title() == "cats - cat" and ax.get_xlabel()
    with pytest.raises(ValueError, match="2 words but scores of shape"):
        plots.plot_probe(["a", "b"], [1.0])


def test_plot_attention_heatmap():
    tokens = ["the", "car", "is", "blue"]
    weights = np.tril(np.ones((4, 4)))
    weights /= weights.sum(axis=1, keepdims=True)
    ax = charts.plot_attention(weights, tokens, title="head 3")
    assert len(ax.images) == 1
    np.testing.assert_array_equal(ax.images[0].get_array(), weights)
    assert [t.get_text() for t in ax.get_xticklabels()] == tokens
    assert [t.get_text() for t in ax.get_yticklabels()] == tokens
    assert len(ax.figure.axes) == 2  # the heatmap and its colour bar
    assert len(ax.texts) == 16 and ax.texts[1].get_text() == "0.00"
    assert ax.get_title() == "head 3" and ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match=r"\[T, T\] with T = 3"):
        charts.plot_attention(weights, tokens[:3])


def test_plot_attention_grid():
    weights = np.random.default_rng(0).dirichlet(np.ones(3), size=(5, 3))  # [5, 3, 3]
    fig = charts.plot_attention_grid(weights, ["a", "b", "c"])
    heads = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in heads] == [f"head {h}" for h in range(5)]
    np.testing.assert_array_equal(heads[4].images[0].get_array(), weights[4])
    hidden = [ax for ax in fig.axes if not ax.images and not ax.axison]
    assert len(hidden) == 1  # a 3 x 2 grid for 5 heads leaves one cell empty
    assert "5 heads" in fig.get_suptitle()

    def shows(axis):
        return axis.get_major_ticks()[0].label1.get_visible()

    # token names only on the left column (heads 0, 3) and on the lowest head of each column (2, 3, 4)
    assert [shows(ax.yaxis) for ax in heads] == [True, False, False, True, False]
    assert [shows(ax.xaxis) for ax in heads] == [False, False, True, True, True]
    with pytest.raises(ValueError, match=r"\[H, T, T\]"):
        charts.plot_attention_grid(weights[0], ["a", "b", "c"])


def reference_softmax(logits, temperature):
    e = np.exp(np.asarray(logits, dtype=np.float64) / temperature)
    return e / e.sum()


def test_plot_temperatures_bars_are_softmax_at_each_temperature():
    logits = np.array([3.0, 1.0, 0.5, 2.0, -1.0, 0.0])
    tokens = ["a", "b", "c", "d", "e", "f"]
    probabilities = {t: distribution(logits, t) for t in (0.5, 1, 2)}  # the one softmax with temperature
    ax = charts.plot_temperatures(probabilities, tokens, top_k=3)
    assert len(ax.containers) == 3
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "d", "b"]
    for container, temperature in zip(ax.containers, (0.5, 1, 2)):
        heights = [bar.get_height() for bar in container]
        np.testing.assert_allclose(heights, reference_softmax(logits, temperature)[[0, 3, 1]], rtol=1e-12)
    tallest = [max(bar.get_height() for bar in c) for c in ax.containers]
    assert tallest[0] > tallest[1] > tallest[2]  # lower temperature, sharper distribution
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("T = 0.5 (entropy") and "T = 0.5, 1, 2" in ax.get_title()
    assert ax.get_ylabel() == "probability"


def test_plot_temperatures_draws_the_given_probabilities_and_refuses_bad_ones():
    probabilities = {1.0: np.array([0.1, 0.4, 0.2, 0.3]), 0.0: np.array([0.0, 1.0, 0.0, 0.0])}
    ax = charts.plot_temperatures(probabilities, list("wxyz"), top_k=4)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "z", "y", "w"]  # ranked at the highest T
    assert [[r.get_height() for r in c] for c in ax.containers] == [[0.4, 0.3, 0.2, 0.1], [1.0, 0.0, 0.0, 0.0]]
    with pytest.raises(InvalidInput, match="top_k must be at least 1"):
        charts.plot_temperatures(probabilities, list("wxyz"), top_k=0)
    with pytest.raises(InvalidInput, match="for 3 tokens"):
        charts.plot_temperatures(probabilities, list("wxy"))
    with pytest.raises(InvalidInput, match="cannot be negative"):
        charts.plot_temperatures({1.0: np.array([0.5, 0.6, -0.1])}, list("abc"))
    with pytest.raises(InvalidInput, match="at one temperature"):
        charts.plot_temperatures({}, list("abc"))


def test_the_mini_models_temperature_bars_are_the_softmax_of_its_logits():
    from embedspace.contextual.generation import distributions, encode_prompt, special_ids
    from embedspace.io.mini_model import load_mini_model
    from transformer.generate import next_token_logits

    model = load_mini_model()
    prompt = "and the lord said unto"
    ax = charts.plot_temperatures(distributions(model, prompt, (0.5, 1, 2)), model.tokenizer.id_to_token, top_k=10)
    logits = next_token_logits(model.params, model.cfg, encode_prompt(model, prompt))  # [V], float64
    logits[special_ids(model)] = -np.inf
    shown = np.argsort(-logits, kind="stable")[:10]  # independent of top_k: a full stable sort
    assert [t.get_text() for t in ax.get_xticklabels()] == [model.tokenizer.id_to_token[i] for i in shown]
    for container, temperature in zip(ax.containers, (0.5, 1, 2)):
        scaled = np.exp((logits - logits.max()) / temperature)
        np.testing.assert_allclose([r.get_height() for r in container], (scaled / scaled.sum())[shown], rtol=1e-12)


def test_plot_layer_drift_lines_over_layers():
    curves = {"same sense": [0.5, 0.6, 0.8], "different sense": [0.5, 0.4, 0.2]}
    ax = charts.plot_layer_drift(curves, title="model")
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), curves["different sense"])
    assert list(ax.get_xticks()) == [0, 1, 2]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(curves)
    assert ax.get_title() == "model" and ax.get_ylabel() == "cosine similarity"
    with pytest.raises(ValueError, match="at least one series"):
        charts.plot_layer_drift({})


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".PDF", b"%PDF")])
def test_save_figure_by_extension(tmp_path, suffix, magic):
    ax = plots.plot_probe(["a", "b"], [0.1, 0.2])
    path = figures.save_figure(ax, tmp_path / "sub" / f"probe{suffix}")
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_save_figure_accepts_a_figure_and_refuses_unknown_formats(tmp_path):
    fig = charts.plot_attention_grid(np.full((2, 2, 2), 0.5), ["a", "b"])
    assert figures.save_figure(fig, tmp_path / "grid.png").stat().st_size > 0
    with pytest.raises(ValueError, match=r"\.png, \.svg or \.pdf"):
        figures.save_figure(fig, tmp_path / "grid.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]
