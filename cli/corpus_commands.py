"""Corpus and word2vec: train a word2vec space on a text file, in the shipped format."""
from __future__ import annotations

import json
import sys
import time

import click


@click.command("train-word2vec")
@click.argument("corpus_file", type=click.Path(exists=True, dir_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--dims", default=100, show_default=True, type=click.IntRange(1), help="Vector size.")
@click.option("--window", default=5, show_default=True, type=click.IntRange(1, 10_000),
              help="Context window (each side; gensim trains on sentences of at most 10,000 words).")
@click.option("--epochs", default=5, show_default=True, type=click.IntRange(1), help="Passes over the corpus.")
@click.option("--min-count", default=5, show_default=True, type=click.IntRange(1), help="Drop rarer words.")
@click.option("--negative", default=5, show_default=True, type=click.IntRange(0), help="Negative samples.")
@click.option("--sample", default=1e-3, show_default=True, type=click.FloatRange(0), help="Subsampling threshold.")
@click.option("--sg/--cbow", default=True, show_default=True, help="Skip-gram or CBOW.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1), help="Training threads.")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(0, 2**32 - 1), help="Random seed.")
@click.option("--limit", default=None, type=click.IntRange(1), help="Keep only the N most frequent words.")
@click.option("--evaluate", is_flag=True, help="Measure gensim's questions-words.txt accuracy (restrict 30000).")
def train_word2vec_command(corpus_file: str, out_dir: str, dims: int, window: int, epochs: int, min_count: int,
                           negative: int, sample: float, sg: bool, workers: int, seed: int, limit: int | None,
                           evaluate: bool) -> None:
    """Train word2vec (gensim) on a plain-text file and write the shipped format to OUT_DIR.

    CORPUS_FILE holds natural text, one sentence per line; it is lower-cased and split into
    word tokens. OUT_DIR gets vectors.npy (float16), vocab.txt and meta.json, written as a whole
    folder (a new or empty folder, or one this command wrote); use it as a space with --space OUT_DIR.

    Example:

    \b
        embedspace train-word2vec corpus.txt my-w2v --dims 200 --epochs 10   # corpus.txt: your text
        embedspace neighbors king --space my-w2v
    """
    from embedspace import Space
    from embedspace.io.saving import check_destination
    from embedspace.training.corpus import TokenizedLines
    from embedspace.training.word2vec import analogy_accuracy, save_shipped, to_shipped, train_model

    check_destination(out_dir, reading=[corpus_file])   # before training: shipped data, the corpus, other files
    params = {"vector_size": dims, "window": window, "epochs": epochs, "min_count": min_count, "negative": negative,
              "sample": sample, "sg": int(sg), "workers": workers, "seed": seed}
    with click.progressbar(length=epochs, label="word2vec epochs", file=sys.stderr) as bar:
        start = time.perf_counter()
        model = train_model(TokenizedLines(corpus_file), progress=lambda done, total: bar.update(1), **params)
        seconds = time.perf_counter() - start
    shipped = to_shipped(Space.from_keyed_vectors(model.wv, origin=str(out_dir), name="word2vec"), limit)
    meta = {"trainer": "gensim.models.Word2Vec", "params": params, "corpus_tokens": model.corpus_total_words,
            "trained_vocabulary_size": len(model.wv), "training_seconds": round(seconds, 1),
            "sources": [str(corpus_file)]}
    if evaluate:
        meta["evaluation"] = {"file": "gensim questions-words.txt", "restrict_vocab": 30000,
                              **analogy_accuracy(shipped, restrict_vocab=30000)}
    save_shipped(shipped, out_dir, meta)
    click.echo(f"{out_dir}: {len(shipped)} words x {shipped.dim} dims, trained in {seconds:.1f} s", err=True)
    if evaluate:
        click.echo(json.dumps({k: meta["evaluation"][k] for k in ("accuracy", "correct", "covered")}))


COMMANDS = [train_word2vec_command]
