"""The interactive pages' data and HTML, without a browser (tests/browser opens them in Chromium)."""
import base64
import json
import re

import numpy as np
import pytest

from embedspace.errors import FormatError, InvalidInput
from embedspace.io.export import write_coordinates_csv
from embedspace.space import Space
from embedspace.viz import interactive
from embedspace.viz.explore import explore_view, page_neighbours, read_coordinates
from embedspace.viz.interactive import (
    Arrow,
    NeighbourTable,
    ScatterView,
    page_html,
    page_script,
    scatter_payload,
    script_json,
    view_fragment,
    write_page,
)
from embedspace.viz.interactive_charts import BarChart, LineChart, nice_ticks
from embedspace.viz.interactive_views import analogy_view, projection_details
from embedspace.viz.plots import plot_analogy
from embedspace.viz.projections import PCA, TSNE, project

HOSTILE = ["</script><script>window.pwned=1</script>", "quote\"'", "line\u2028break", "<b>bold</b>&amp;", "\ud800"]


def decode(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def data_of(html: str) -> dict:
    """The JSON payload of the first view in ``html``."""
    found = re.search(r'<script type="application/json" class="es-data">(.*?)</script>', html, re.DOTALL)
    return json.loads(found.group(1))


def test_palette_is_matplotlibs_tab10():
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    assert list(interactive.PALETTE) == [to_hex(c) for c in colormaps["tab10"].colors]


def test_script_json_round_trips_hostile_words_and_cannot_close_the_element():
    text = script_json({"words": HOSTILE})
    assert not re.search("[<>&\u2028\u2029]", text)
    assert "</script" not in text.lower()
    text.encode("utf-8")  # a lone surrogate is escaped, so the page is valid UTF-8
    assert json.loads(text)["words"] == HOSTILE


def test_payload_arrays_decode_to_the_given_values():
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(5, 3))
    table = NeighbourTable(np.array([[1, 5], [0, -1], [3, 4], [2, 0], [1, 2]]), rng.random((5, 2)), extra=["far"])
    view = ScatterView(coords, list("abcde"), groups=["x", "y", "x", "z", "y"], neighbours=table)
    payload = scatter_payload(view)
    np.testing.assert_array_equal(decode(payload["coords"], "<f4").reshape(5, 3), coords.astype(np.float32))
    assert payload["groups"]["names"] == ["x", "y", "z"]
    assert decode(payload["groups"]["index"], "u1").tolist() == [0, 1, 0, 2, 1]
    assert payload["groups"]["colours"] == list(interactive.PALETTE[:3])
    assert payload["words"] == list("abcde") + ["far"]
    assert decode(payload["neighbours"]["index"], "<i4").reshape(5, 2).tolist() == table.indices.tolist()
    np.testing.assert_array_equal(decode(payload["neighbours"]["score"], "<f4"), table.scores.astype(np.float32).ravel())
    assert payload["labels"] == "all"  # few points: every word written, as in the picture


def test_many_points_label_on_hover_and_many_groups_use_two_bytes():
    n = 400
    view = ScatterView(np.zeros((n, 2)), [f"w{i}" for i in range(n)], groups=[f"g{i}" for i in range(n)])
    payload = scatter_payload(view)
    assert payload["labels"] == "hover"
    assert decode(payload["groups"]["index"], "<u2").tolist() == list(range(n))


@pytest.mark.parametrize("make", [
    lambda: ScatterView(np.zeros((3, 4)), ["a", "b", "c"]),
    lambda: ScatterView(np.zeros((3, 3)), ["a", "b"]),
    lambda: ScatterView(np.array([[0, 0], [np.nan, 1]]), ["a", "b"]),
    lambda: ScatterView(np.zeros((2, 2)), ["a", "b"], groups=["x"]),
    lambda: ScatterView(np.zeros((2, 2)), ["a", "b"], view_id="1bad id"),
    lambda: ScatterView(np.zeros((2, 2)), ["a", "b"], neighbours=NeighbourTable(np.array([[2], [0]]), np.zeros((2, 1)))),
    lambda: scatter_payload(ScatterView(np.zeros((2, 2)), ["a", "b"], arrows=[Arrow([0, 0, 0], [1, 1, 1])])),
    lambda: BarChart(["a", "b"], [1.0]),
    lambda: LineChart({}),
    lambda: page_html([ScatterView(np.zeros((2, 2)), ["a", "b"])] * 2, title="twice"),
])
def test_bad_views_raise_user_errors(make):
    with pytest.raises(InvalidInput):
        make()


def test_a_page_is_self_contained_and_shares_one_script():
    views = [ScatterView(np.eye(3), ["a", "b", "c"], view_id="one"), BarChart(["a", "b"], [1, -1], view_id="two"),
             LineChart({"s": [1, 0.5]}, view_id="three")]
    html = page_html(views, title="all kinds")
    assert html.count(page_script()) == 1 and html.count("<script>") == 2
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\((?!#)", html)  # nothing to fetch
    assert "default-src 'none'" in html  # and the browser is told to fetch nothing
    assert all(f'id="{name}"' in html for name in ("one", "two", "three"))


def test_fragments_escape_titles_and_details():
    view = ScatterView(np.eye(3), HOSTILE[:3], title="<i>t</i>", details=[("<k>", "<v>")], view_id="v")
    fragment = view_fragment(view)
    assert "<i>" not in fragment and "&lt;i&gt;t&lt;/i&gt;" in fragment and "&lt;k&gt;" in fragment
    assert data_of(fragment)["words"] == HOSTILE[:3]


def test_write_page_is_atomic_and_wants_html(tmp_path):
    view = ScatterView(np.eye(3), ["a", "b", "c"])
    with pytest.raises(InvalidInput):
        write_page(tmp_path / "page.png", [view], title="x")
    path = write_page(tmp_path / "sub" / "page.html", [view], title="x")
    assert [p.name for p in path.parent.iterdir()] == ["page.html"]


def test_the_bar_chart_sorts_like_plot_probe():
    chart = BarChart(["cat", "cats", "dogs"], [-0.4, 0.6, 0.5], groups=["one", "many", "many"], view_id="c")
    fragment = view_fragment(chart)
    tips = re.findall(r'data-tip="([^"]*)"', fragment)
    assert tips == ["cats: 0.6000 (many)", "dogs: 0.5000 (many)", "cat: -0.4000 (one)"]
    widths = [float(w) for w in re.findall(r'<rect class="es-bar" x="[^"]*" y="[^"]*" width="([^"]*)"', fragment)]
    np.testing.assert_allclose(np.array(widths) / widths[0], [1, 5 / 6, 4 / 6], atol=1e-2)  # lengths ∝ |score|


def test_nice_ticks_cover_the_range_with_round_steps():
    ticks = nice_ticks(-3.2, 11.7)
    assert ticks[0] >= -3.2 and ticks[-1] <= 11.7 and len(set(np.round(np.diff(ticks), 9))) == 1
    assert 0.0 in ticks


def test_projection_details_report_the_fitted_parameters():
    X = np.random.default_rng(0).normal(size=(30, 6)) * [5, 3, 1, 1, 1, 1]
    pca = PCA(n_components=3, random_state=7).fit(X)
    details = dict(projection_details(pca))
    shares = [float(s) for s in re.findall(r"PC\d ([\d.]+)%", details["explained variance"])]
    np.testing.assert_allclose(shares, 100 * pca.explained_variance_ratio_, atol=0.05)
    assert details["seed"] == "7"
    tsne = dict(projection_details(TSNE(perplexity=30, random_state=0, max_iter=250).fit(X[:10])))
    assert tsne["perplexity"] == "3 (asked 30)"


def test_analogy_view_opens_on_the_plane_of_the_picture():
    rng = np.random.default_rng(2)
    words = ["king", "man", "woman", "queen", "apple", "car"]
    space = Space(words, rng.normal(size=(6, 10)).astype(np.float32))
    view = analogy_view(space, "king", "man", "woman", expected="queen")
    ax = plot_analogy(space, "king", "man", "woman", expected="queen")
    drawn = [tuple(c.get_offsets()[0]) for c in ax.collections[: len(view.labels)]]  # the picture's words, in order
    picture = dict(zip(dict.fromkeys(["king", "man", "woman", "queen", ax.get_title().split("≈ ")[1]]), drawn))
    for word, xyz in zip(view.labels, view.coords):
        np.testing.assert_allclose(xyz[:2], picture[word], atol=1e-5)
    assert view.camera == {"azimuth": 0, "elevation": 90, "fit": True} and view.dims == 3
    star = np.asarray(view.markers[0].at)  # the plane of the analogy now, not a PCA of its words (issue 11)
    at = dict(zip(view.labels, view.coords))
    np.testing.assert_allclose(star, at["king"] + at["woman"] - at["man"], atol=1e-5)
    np.testing.assert_allclose(star[:2], ax.collections[len(view.labels)].get_offsets()[0], atol=1e-5)


def test_read_coordinates_round_trips_plot_coords_csv(tmp_path):
    coords = np.array([[1.5, -2, 0.25], [0, 1e-3, 7]])
    path = write_coordinates_csv(tmp_path / "xyz.csv", ["a,b", "c"], coords, groups=["g", "h"])
    found = read_coordinates(path)
    assert found.keys == ["a,b", "c"] and found.groups == ["g", "h"]
    np.testing.assert_allclose(found.coords, coords, rtol=1e-6)
    tsv = tmp_path / "plain.tsv"
    tsv.write_text("x\t1\t2\ny\t3\t4\n")
    assert read_coordinates(tsv).coords.tolist() == [[1, 2], [3, 4]] and read_coordinates(tsv).groups is None


@pytest.mark.parametrize("content, line", [("key,x,y\na,1,2\nb,1\n", 3), ("a,1\n", 1), ("", None),
                                           ("a,1,2,3,4,g,extra\n", 1)])
def test_read_coordinates_names_the_bad_line(tmp_path, content, line):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(FormatError) as error:
        read_coordinates(path)
    assert line is None or f"line {line}:" in str(error.value)


def test_explore_neighbours_match_similar_by_vector_and_map_outside_words():
    rng = np.random.default_rng(4)
    space = Space([f"w{i}" for i in range(120)], rng.normal(size=(120, 12)).astype(np.float32), name="r")
    words = ["w3", "w50", "w7", "w99"]
    view = explore_view(space, words=words, groups=["a", "b", "a", "b"], topn=6)
    page_words = list(view.labels) + list(view.neighbours.extra)
    for i, word in enumerate(words):
        expected = space.similar_by_vector(space[word], topn=6, exclude=[word])
        assert [page_words[j] for j in view.neighbours.indices[i]] == [k for k, _ in expected]
        np.testing.assert_allclose(view.neighbours.scores[i], [s for _, s in expected], atol=1e-6)
    coords, _ = project(space, words, "pca", n_components=3)
    np.testing.assert_allclose(view.coords, coords, atol=1e-5)  # the same PCA as `plot`
    assert dict(view.details)["points"] == "4 (the words given)"


def test_explore_of_a_whole_space_keeps_every_point_and_no_extra_word():
    space = Space([f"w{i}" for i in range(60)], np.random.default_rng(5).normal(size=(60, 8)).astype(np.float32))
    view = explore_view(space, topn=3, method="pca", dims=2)
    assert view.coords.shape == (60, 2) and view.neighbours.extra == []
    assert "every word of the space, no sampling" in dict(view.details)["points"]


def test_page_neighbours_numbers_outside_words_after_the_points():
    class Found:
        indices = np.array([[4, 0, -1], [2, 4, 3]])
        scores = np.zeros((2, 3))

    space = Space(list("abcde"), np.eye(5, dtype=np.float32))
    table = page_neighbours(Found, np.array([1, 0]), space)  # points: b, a
    assert table.extra == ["c", "d", "e"]
    assert table.indices.tolist() == [[4, 1, -1], [2, 4, 3]]


def test_the_vendored_script_is_regl_2_1_1_as_published_and_safe_inline():
    import hashlib
    from importlib import resources

    assets = resources.files("embedspace.viz").joinpath("assets")
    regl = assets.joinpath("regl.min.js").read_bytes()
    assert hashlib.sha256(regl).hexdigest() == "6d14aa47e560de0d0f0d37ec7b4868274245125a6de4022010e9c0fdcc5a4b62"
    assert "MIT" in assets.joinpath("regl.LICENSE").read_text()
    for name in ("regl.min.js", "viewer.js", "viewer.css"):
        assert "</script" not in assets.joinpath(name).read_text().lower(), name  # would end the inline element
