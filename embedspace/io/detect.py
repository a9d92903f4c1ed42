"""Which format a vector file is in, judged from its first (decompressed) bytes.

- a pickle (gensim's ``.kv`` / ``.model``) starts with byte ``0x80``;
- fastText's native ``.bin`` starts with its magic number (or, in the old layout without one,
  with a header whose every field is plausible);
- a first line ``V D`` is a word2vec header: a text record after it means text, anything else binary;
- no header means GloVe.

A UTF-8 byte-order mark is skipped; a UTF-16 or UTF-32 one is an error that says how to convert.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path

from embedspace.errors import FormatError
from embedspace.io.streams import open_source, read_head

FORMATS = ("word2vec-bin", "word2vec-txt", "glove", "fasttext", "fasttext-bin", "gensim")
TEXT_FORMATS = ("word2vec-txt", "glove", "fasttext")
PICKLE_SUFFIXES = (".kv", ".model", ".pkl", ".pickle")
SNIFF_BYTES = 1 << 16
UTF8_BOM = b"\xef\xbb\xbf"
WIDE_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}
FASTTEXT_MAGIC = 793712314  # int32 at the start of fastText's native .bin (since version 11)
FASTTEXT_VERSIONS = (11, 12)
# fastText's args in the old layout (no magic): dim ws epoch minCount neg wordNgrams loss model bucket minn maxn
# lrUpdateRate (int32 each), t (float64); then the dictionary's size, nwords, nlabels (int32)
OLD_FASTTEXT_HEAD = struct.Struct("<12id3i")


def detect_format(path: str | os.PathLike) -> str:
    """The format of a vector file, judged from its first bytes (and ``.vec`` for fastText text).

    Compressed files (gzip, bzip2, xz) are judged by their decompressed content.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "v.txt").write_text("cat 0.5 1.0\\ndog 1.0 0.5\\n")
    >>> detect_format(folder / "v.txt")
    'glove'
    >>> _ = (folder / "v.txt").write_text("2 2\\ncat 0.5 1.0\\ndog 1.0 0.5\\n")
    >>> detect_format(folder / "v.txt")
    'word2vec-txt'
    """
    path = Path(path)
    with open_source(path) as source:
        head = read_head(source, SNIFF_BYTES)
    return format_of(path, head)


def format_of(path: Path, head: bytes) -> str:
    """The format of content that begins with ``head`` (``path`` names it; its suffix may help)."""
    if not head:
        raise FormatError(path, "empty file")
    name = content_name(path)
    if head.startswith(b"\x80") or name.suffix in PICKLE_SUFFIXES:
        return "gensim"
    if is_fasttext_bin(head):
        return "fasttext-bin"
    for bom, encoding in WIDE_BOMS.items():
        if head.startswith(bom):
            raise FormatError(path, f"{encoding} text (it starts with a {encoding} byte-order mark): convert it "
                                    f"to UTF-8 first, e.g. iconv -f {encoding} -t UTF-8")
    head = head.removeprefix(UTF8_BOM)
    first, _, rest = head.partition(b"\n")
    header = parse_header(first)
    if header is None:
        return "glove"
    if looks_like_text_record(rest.partition(b"\n")[0], header[1]):
        return "fasttext" if name.suffix == ".vec" else "word2vec-txt"
    return "word2vec-bin"


def content_name(path: Path) -> Path:
    """``path`` without a compression suffix: ``vectors.vec.gz`` -> ``vectors.vec``."""
    return path.with_suffix("") if path.suffix.lower() in (".gz", ".bz2", ".xz") else path


def is_fasttext_bin(head: bytes) -> bool:
    """True when ``head`` starts like fastText's native .bin: its magic number, or a plausible old header."""
    if len(head) >= 8:
        magic, version = struct.unpack_from("<2i", head)
        if magic == FASTTEXT_MAGIC and version in FASTTEXT_VERSIONS:
            return True
    return len(head) >= OLD_FASTTEXT_HEAD.size and plausible_old_fasttext(OLD_FASTTEXT_HEAD.unpack_from(head))


def plausible_old_fasttext(fields: tuple) -> bool:
    """True when every field of an old-layout fastText header is in its possible range."""
    dim, ws, epoch, min_count, neg, word_ngrams, loss, model, bucket, minn, maxn, lr_rate, t, size, nwords, nlabels = fields
    return (0 < dim <= 1 << 20 and 0 < ws <= 10_000 and 0 < epoch <= 1_000_000 and 0 <= min_count
            and 0 <= neg <= 10_000 and 0 < word_ngrams <= 100 and loss in (1, 2, 3) and model in (1, 2, 3)
            and 0 <= bucket and 0 <= minn <= maxn <= 100 and 0 < lr_rate and 0.0 < t <= 1.0
            and 0 <= nwords and 0 <= nlabels and size == nwords + nlabels)


def parse_header(line: bytes) -> tuple[int, int] | None:
    """``(V, D)`` from a ``b"V D"`` header line, or None when the line is not a header.

    Examples
    --------
    >>> parse_header(b"3000000 300\\r"), parse_header(b"cat 0.5")
    ((3000000, 300), None)
    """
    fields = line.removeprefix(UTF8_BOM).split()
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        return None
    return int(fields[0]), int(fields[1])


def looks_like_text_record(line: bytes, dim: int) -> bool:
    """True when ``line`` reads as ``key x1 ... x_dim`` in text (the key's bytes need not decode)."""
    fields = line.decode("utf-8", "replace").rstrip().split(" ")
    if len(fields) != dim + 1:
        return False
    try:
        for field in fields[1:]:
            float(field)
    except ValueError:
        return False
    return True
