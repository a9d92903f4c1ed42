"""The registry of named spaces: explicit registration, the shipped registry, plugins by entry point, the Session."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from embedspace.catalog import default_registry, known_spaces, load_space, shipped_registry
from embedspace.errors import InvalidInput, UnknownSpaceError
from embedspace.io.registry import Provider, Registry, SpaceInfo
from embedspace.session import Session
from embedspace.space import Space


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))


def recording_provider(calls: list, name: str = "plug") -> Provider:
    def loader(**options):
        calls.append(options)
        return Space(["a", "b"], np.eye(2), name=name)

    return Provider(loader, lambda: SpaceInfo(name, True, size=2, dims=2, origin="a test"))


# -- explicit registration ----------------------------------------------------------------------------------
def test_a_registered_space_loads_with_the_options():
    calls = []
    registry = Registry({"plug": recording_provider(calls)})
    assert load_space("plug", limit=5, registry=registry).name == "plug"
    assert calls == [{"limit": 5, "keep_all_tokens": False, "verify": False}]
    assert known_spaces(registry) == [SpaceInfo("plug", True, size=2, dims=2, origin="a test")]


def test_a_registry_is_what_its_owner_put_in_it():
    registry = shipped_registry()
    assert list(registry) == ["minilm", "word2vec", "mini", "minilm-we", "minilm-distilled"]
    registry.register("plug", recording_provider([]))
    registry.unregister("mini")
    assert list(registry) == ["minilm", "word2vec", "minilm-we", "minilm-distilled", "plug"]
    assert list(shipped_registry()) == ["minilm", "word2vec", "mini", "minilm-we", "minilm-distilled"]  # a new one each time
    with pytest.raises(UnknownSpaceError,
                       match=r"'plug' is neither a space name \(minilm, word2vec, mini, minilm-we, minilm-distilled\)"):
        load_space("plug")  # the default names know nothing of a registry someone else filled


def test_a_name_wins_over_a_file_of_that_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plug").write_text("1 2\nx 1 0\n")
    calls = []
    assert load_space("plug", registry=Registry({"plug": recording_provider(calls)})).name == "plug" and calls
    assert load_space("plug").index_to_key == ["x"]  # not a name of the default registry: the file


def test_a_session_asks_its_own_registry():
    calls = []
    with Session(registry=Registry({"plug": recording_provider(calls)})) as session:
        first = session.space("plug", limit=1)
        assert session.space("plug", limit=1, progress=print) is first  # progress is no part of the request
        session.space("plug", limit=2)
        assert [info.name for info in session.spaces()] == ["plug"]
    assert calls == [{"limit": 1, "keep_all_tokens": False, "verify": False},
                     {"limit": 2, "keep_all_tokens": False, "verify": False}]


def test_a_failing_describe_reads_as_unavailable():
    def broken():
        raise RuntimeError("weights missing")

    registry = Registry({"broken": Provider(lambda **options: None, broken)})
    [info] = registry.describe()
    assert not info.available and info.reason == "RuntimeError: weights missing"


@pytest.mark.parametrize("name", ["", "a/b", "..", "a b"])
def test_bad_names_are_refused(name):
    with pytest.raises(InvalidInput, match="space name"):
        Registry().register(name, recording_provider([]))


def test_only_providers_are_registered():
    with pytest.raises(InvalidInput, match="expected a Provider"):
        Registry().register("plug", lambda **options: None)


# -- plugins: an installed package's entry point --------------------------------------------------------------
def install_plugin(root, module: str, entry_points: str, source: str) -> None:
    """A package on ``root`` (put on sys.path) with a dist-info declaring ``entry_points``, as pip installs one."""
    (root / f"{module}.py").write_text(source)
    info = root / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[embedspace.spaces]\n{entry_points}\n")


PLUGIN = """
import numpy as np
from embedspace.io.registry import Provider, SpaceInfo
from embedspace.space import Space

def load(*, limit=None, **options):
    return Space(["x", "y", "z"][:limit], np.eye(3)[:limit], name="plugged")

PROVIDER = Provider(load, lambda: SpaceInfo("plugged", True, size=3, dims=3, origin="es_test_plugin"))
"""


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    install_plugin(tmp_path, "es_test_plugin", "plugged = es_test_plugin:PROVIDER\nword2vec = es_test_plugin:PROVIDER",
                   PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("es_test_plugin", None)


def test_a_plugin_space_loads_by_name_and_is_imported_only_then(plugin):
    assert "plugged" in default_registry() and "es_test_plugin" not in sys.modules
    assert load_space("plugged", limit=2).index_to_key == ["x", "y"]
    assert "es_test_plugin" in sys.modules


def test_a_plugin_is_listed_and_cannot_take_a_shipped_name(plugin):
    infos = {info.name: info for info in known_spaces()}
    assert infos["plugged"] == SpaceInfo("plugged", True, size=3, dims=3, origin="es_test_plugin")
    assert infos["word2vec"].origin.startswith("shipped word2vec model")
    assert list(default_registry())[:4] == ["minilm", "word2vec", "mini", "minilm-we"]


def test_a_plugin_space_works_on_the_command_line(plugin):
    from click.testing import CliRunner

    from cli.main import cli

    result = CliRunner().invoke(cli, ["neighbors", "x", "--space", "plugged", "--json"])
    assert result.exit_code == 0, result.output
    assert "plugged" in CliRunner().invoke(cli, ["spaces"]).stdout


def test_a_broken_plugin_is_unavailable_in_the_listing_and_fails_loudly(tmp_path, monkeypatch):
    install_plugin(tmp_path, "es_test_broken", "broken = es_test_broken:PROVIDER", "import es_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    info = {info.name: info for info in known_spaces()}["broken"]
    assert not info.available and "es_no_such_dependency" in info.reason
    with pytest.raises(ModuleNotFoundError, match="es_no_such_dependency"):
        load_space("broken")
