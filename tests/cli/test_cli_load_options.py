"""How a space is read, from the command line: --encoding, --unicode-errors, --verify, an empty --space,
a fastText .bin's unknown words, and the shipped minilm-distilled space."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from cli_checks import assert_user_error
from click.testing import CliRunner
from gensim.models import KeyedVectors
from gensim.models.fasttext import load_facebook_vectors
from gensim.test.utils import datapath

from cli.main import cli
from embedspace.catalog import load_space
from embedspace.errors import InvalidInput
from embedspace.io.shipped import distilled_dir

LATIN1 = datapath("pang_lee_polarity_fasttext.vec")  # gensim's test file: Latin-1 keys


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def neighbours(result) -> list[tuple[str, float]]:
    assert result.exit_code == 0, result.output
    return [(row["neighbor"], row["cosine"]) for row in json.loads(result.stdout)]


def test_encoding_reads_latin1_keys_as_gensim_does():
    assert_user_error(run("neighbors", "good", "--space", LATIN1), "line 150", "bad UTF-8", "--encoding latin-1")
    ours = neighbours(run("neighbors", "clichés", "--space", LATIN1, "--encoding", "latin-1", "--topn", "5", "--json"))
    kv = KeyedVectors.load_word2vec_format(LATIN1, encoding="latin-1")
    theirs = kv.most_similar("clichés", topn=5)
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


def test_unicode_errors_replace_keeps_every_line_and_never_serves_the_other_decoding():
    replaced = load_space(LATIN1, unicode_errors="replace")
    latin = load_space(LATIN1, encoding="latin-1")  # same file, other settings: not the cached entry above
    assert len(replaced) == len(latin) and "clich\ufffds" in replaced and "clichés" in latin
    assert "clichés" not in replaced
    result = run("neighbors", "good", "--space", LATIN1, "--unicode-errors", "replace", "--topn", "3", "--json")
    assert len(neighbours(result)) == 3


def test_bad_encoding_options_are_one_line_errors():
    assert_user_error(run("neighbors", "good", "--space", LATIN1, "--encoding", "klingon"), "unknown encoding 'klingon'")
    assert_user_error(run("neighbors", "good", "--space", LATIN1, "--encoding", "utf-16"), "does not keep ASCII")
    assert_user_error(run("neighbors", "king", "--space", "word2vec", "--encoding", "latin-1"),
                      "encoding applies to files only", "'word2vec'")
    result = run("neighbors", "good", "--space", LATIN1, "--unicode-errors", "shrug")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_an_empty_space_is_refused_not_read_as_this_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_user_error(run("neighbors", "king", "--space", ""), "an empty space name")
    assert_user_error(run("neighbors", "king", "--space", "  "), "an empty space name")
    with pytest.raises(InvalidInput, match="an empty space name"):
        load_space("")


def test_verify_rebuilds_a_cache_entry_whose_source_changed_behind_its_stamp(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 2\ncat 1 0\ndog 0 1\n")
    assert neighbours(run("neighbors", "cat", "--space", str(path), "--verify", "--json"))[0][0] == "dog"
    status = path.stat()
    path.write_text("2 2\ncat 1 0\ndog 1 0\n")  # the same size; mtime put back below
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    rows = neighbours(run("neighbors", "cat", "--space", str(path), "--verify", "--json"))
    assert rows == [("dog", pytest.approx(1.0))]  # the new content, never the stale entry


def test_a_fasttext_bin_answers_for_words_outside_its_vocabulary(tmp_path):
    path = tmp_path / "crime.bin"
    shutil.copy(datapath("crime-and-punishment.bin"), path)
    kv = load_facebook_vectors(str(path))
    assert "evenings" not in kv.key_to_index  # a word the model composes from its n-grams
    result = run("neighbors", "evenings", "--space", str(path), "--topn", "3", "--json")
    ours = neighbours(result)
    theirs = kv.most_similar("evenings", topn=3)
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    assert "'evenings' is not one of the 291 candidate words" in result.stderr


def test_minilm_distilled_is_a_shipped_space():
    result = run("spaces", "--json")
    assert result.exit_code == 0, result.output
    info = {row["name"]: row for row in json.loads(result.stdout)}["minilm-distilled"]
    assert info["available"] and info["dims"] == 384 and info["size"] > 5000
    folder = distilled_dir()
    space = load_space("minilm-distilled")
    assert space.index_to_key == folder.joinpath("vocab.txt").read_text("utf-8").split()
    np.testing.assert_array_equal(space.vectors, np.load(folder / "vectors.npy").astype(np.float32))
    rows = neighbours(run("neighbors", "king", "--space", "minilm-distilled", "--topn", "5", "--json"))
    assert len(rows) == 5 and "king" not in [k for k, _ in rows]
