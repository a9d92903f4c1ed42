"""Every file MiniLM reads is the official one (weights, config, vocabulary, tokenizer), and a record of
verified files spares re-reading 90 MB while never trusting a file that changed."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from transformer import minilm_files
from transformer.minilm_files import (
    MINILM_SHA256S,
    ChecksumMismatch,
    ModelNotFound,
    find_minilm_dir,
    verify_checksum,
)
from transformer.pretrained import load_minilm


@pytest.fixture(scope="module")
def official() -> Path:
    try:
        return find_minilm_dir()
    except ModelNotFound as error:
        pytest.skip(str(error))


@pytest.fixture
def copy(official, tmp_path) -> Path:
    """The model folder with its small files copied (to tamper with) and the weights linked."""
    folder = tmp_path / "model"
    folder.mkdir()
    for name in MINILM_SHA256S:
        if name == "model.safetensors":
            (folder / name).symlink_to(official / name)
        else:
            shutil.copy2(official / name, folder / name)
    return folder


@pytest.fixture
def hashed(monkeypatch) -> list:
    """The files hashed, in order (sha256_of is spied on, still computed)."""
    seen, real = [], minilm_files.sha256_of
    monkeypatch.setattr(minilm_files, "sha256_of", lambda path, *a: seen.append(Path(path).name) or real(path, *a))
    return seen


def test_the_recorded_hashes_are_the_installed_wheels(official):
    for name, digest in MINILM_SHA256S.items():
        assert hashlib.sha256((official / name).read_bytes()).hexdigest() == digest, name


def test_two_words_swapped_in_the_vocabulary_are_refused(copy):
    lines = (copy / "vocab.txt").read_text("utf-8").split("\n")
    tower, banana = lines.index("tower"), lines.index("banana")
    lines[tower], lines[banana] = lines[banana], lines[tower]
    (copy / "vocab.txt").write_text("\n".join(lines), "utf-8")
    with pytest.raises(ChecksumMismatch, match=r"vocab.txt is not the official all-MiniLM-L6-v2 checkpoint's vocab.txt"):
        verify_checksum(copy)


def test_a_swapped_tokenizer_or_a_changed_config_is_refused(copy, official):
    tokenizer = json.loads((copy / "tokenizer.json").read_text("utf-8"))
    vocab = tokenizer["model"]["vocab"]
    vocab["tower"], vocab["banana"] = vocab["banana"], vocab["tower"]
    (copy / "tokenizer.json").write_text(json.dumps(tokenizer), "utf-8")
    with pytest.raises(ChecksumMismatch, match="tokenizer.json"):
        load_minilm(copy)
    shutil.copy2(official / "tokenizer.json", copy / "tokenizer.json")
    config = json.loads((copy / "config.json").read_text("utf-8"))
    (copy / "config.json").write_text(json.dumps({**config, "layer_norm_eps": 10}), "utf-8")
    with pytest.raises(ChecksumMismatch, match="config.json"):
        load_minilm(copy)


def test_verified_files_are_not_hashed_again_until_they_change(copy, tmp_path, hashed):
    stamps = tmp_path / "verified.json"
    verify_checksum(copy, stamps=stamps)
    assert sorted(hashed) == sorted(MINILM_SHA256S)
    hashed.clear()
    verify_checksum(copy, stamps=stamps)
    assert hashed == []                                                     # 90 MB not read again
    # rewritten in place with the same size and its mtime put back: the ctime still moves
    vocab = copy / "vocab.txt"
    status = vocab.stat()
    text = vocab.read_text("utf-8")
    vocab.write_text(text.replace("tower\n", "towex\n", 1), "utf-8")
    os.utime(vocab, ns=(status.st_atime_ns, status.st_mtime_ns))
    with pytest.raises(ChecksumMismatch, match="vocab.txt"):
        verify_checksum(copy, stamps=stamps)
    # replaced by a rename with the right content: a new inode, hashed again, then trusted
    replacement = copy / "vocab.new"
    replacement.write_text(text, "utf-8")
    os.replace(replacement, vocab)
    hashed.clear()
    verify_checksum(copy, stamps=stamps)
    assert hashed == ["vocab.txt"]


def test_without_a_record_every_file_is_hashed_every_time(copy, hashed):
    verify_checksum(copy)
    verify_checksum(copy)
    assert len(hashed) == 2 * len(MINILM_SHA256S)


def test_a_damaged_record_is_ignored(copy, tmp_path, hashed):
    stamps = tmp_path / "verified.json"
    stamps.write_text("{not json")
    verify_checksum(copy, stamps=stamps)
    assert len(hashed) == len(MINILM_SHA256S) and json.loads(stamps.read_text())


def test_a_record_others_could_write_is_not_trusted(copy, tmp_path, hashed):
    stamps = tmp_path / "verified.json"
    verify_checksum(copy, stamps=stamps)
    assert stat.S_IMODE(stamps.stat().st_mode) == 0o644
    hashed.clear()
    stamps.chmod(0o666)  # in a shared cache, another user could have vouched for a swapped file
    verify_checksum(copy, stamps=stamps)
    assert sorted(hashed) == sorted(MINILM_SHA256S)
