"""Rebuild the shipped mini GPT in data/mini/ from the word2vec training corpus.

    .venv/bin/python data/train_mini.py --steps 26000 --restart   # ~1.5 hours on a quiet 2-core CPU
    .venv/bin/python data/train_mini.py --resume   # continue after Ctrl-C or a crash (--steps N extends)

``--restart`` starts over: the run folder's checkpoints and tokens are removed, and data/mini (the model
of an earlier run) may be replaced; without it a run folder or model folder of another run is refused.

1. read ``corpus_dir()/corpus.txt`` (written by data/build_word2vec.py: the same text word2vec learns from),
2. build the word tokenizer (lower-cased words and punctuation, top 8,192 tokens) and tokenize the corpus,
   holding out 1 % of the lines for validation (cached with the checkpoints in ``--run-dir``),
3. train the ``mini`` preset (causal, pre-norm, 4 layers, 4 heads, width 128, context 64, tied W_E/W_U)
   with AdamW, checkpointing every 200 steps (Ctrl-C saves and stops; ``--resume`` continues),
4. write data/mini/ (model.safetensors in float16, config.json, vocab.txt, meta.json),
5. measure the W_E space (words only) with gensim's ``evaluate_word_analogies`` on questions-words.txt
   (restrict_vocab 30 000) and king - man + woman, beside the shipped word2vec space (whole, and
   restricted to the mini model's words so that both answer the same questions), into meta.json;
   ``--baseline-word2vec`` adds a word2vec trained here on the same tokens with baseline settings.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from embedspace.catalog import load_space
from embedspace.errors import EmbedspaceError
from embedspace.io.mini_model import META_FILE, load_mini_model, mini_space
from embedspace.space import Space
from embedspace.training.corpus import corpus_dir
from embedspace.training.mini import TrainConfig, train_mini
from embedspace.training.word2vec import analogy_accuracy
from transformer.config import PRESETS

HERE = Path(__file__).resolve().parent


def report_progress(progress) -> None:
    if progress.step % 20 == 0 or progress.val_loss is not None:
        val = f" val {progress.val_loss:.3f}" if progress.val_loss is not None else ""
        print(f"{time.strftime('%H:%M:%S')} step {progress.step}/{progress.steps} loss {progress.loss:.3f}{val} "
              f"lr {progress.lr:.2e} {progress.tokens_per_s:,.0f} tokens/s", flush=True)


def measure(space) -> dict:
    """Analogy accuracy (gensim) and where queen ranks for king - man + woman."""
    result = analogy_accuracy(space, restrict_vocab=30000)
    top = space.to_keyed_vectors().most_similar(positive=["king", "woman"], negative=["man"], topn=10)
    words = [w for w, _ in top]
    result["king-man+woman"] = words
    result["queen_rank"] = words.index("queen") + 1 if "queen" in words else None
    return result


def baseline_word2vec(tokens_path: Path) -> Space:
    """word2vec with the spaces issue's baseline settings on the same tokens (skip-gram, 100 dims,
    window 5, min_count 5, 5 epochs), for a reference trained on exactly this corpus."""
    from gensim.models import Word2Vec

    sentences = [line.split() for line in tokens_path.read_text(encoding="utf-8").splitlines()]
    model = Word2Vec(sentences, vector_size=100, window=5, min_count=5, sg=1, epochs=5, workers=2, seed=0)
    return Space(list(model.wv.index_to_key), model.wv.vectors, origin="baseline word2vec", name="word2vec baseline")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=corpus_dir() / "corpus.txt")
    parser.add_argument("--out", type=Path, default=HERE / "mini")
    parser.add_argument("--run-dir", type=Path, default=corpus_dir().parent / "mini-run")
    parser.add_argument("--steps", type=int, default=26000)
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads, each running a row group of every batch (default: every core)")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --run-dir "
                        "(with the same settings; a larger --steps extends the run, stretching its schedule)")
    parser.add_argument("--restart", action="store_true", help="start over: remove --run-dir's checkpoints and "
                        "tokens, and replace the model in --out even if another run wrote it")
    parser.add_argument("--evaluate-only", action="store_true", help="only step 5, on the model in --out")
    parser.add_argument("--baseline-word2vec", action="store_true",
                        help="step 5 also trains and measures a baseline word2vec on the same tokens (~4 min)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not args.evaluate_only:
        tc = TrainConfig(steps=args.steps, batch_size=32, lr=3e-3, min_lr=3e-4, warmup_steps=100,
                         weight_decay=0.1, eval_every=250, eval_batches=8, checkpoint_every=200, seed=0)
        meta = train_mini(args.corpus, args.out, args.run_dir, PRESETS["mini"], tc, resume=args.resume,
                          restart=args.restart, threads=args.threads, callback=report_progress)
        print(f"trained: {meta['tokens_seen']:,} tokens seen, val loss {meta['val_loss']:.3f}, {meta['seconds']:.0f} s")
    meta_path = args.out / META_FILE
    meta = json.loads(meta_path.read_text())
    mini = mini_space(load_mini_model(args.out))
    meta["analogies"] = {"mini W_E": measure(mini)}
    references = {}
    try:
        references["word2vec"] = load_space("word2vec")
    except EmbedspaceError as error:
        print(f"shipped word2vec not measured: {error}")
    if args.baseline_word2vec:
        references["word2vec baseline"] = baseline_word2vec(corpus_dir() / "tokens.txt")
    for name, word2vec in references.items():
        shared = [key for key in word2vec.index_to_key if key in mini]   # so that the same questions get covered
        meta["analogies"][name] = measure(word2vec)
        meta["analogies"][f"{name} on mini's words"] = measure(Space(shared, word2vec[shared]))
    partial = meta_path.with_suffix(".json.partial")
    partial.write_text(json.dumps(meta, indent=1) + "\n")
    partial.replace(meta_path)
    for name, result in meta["analogies"].items():
        print(f"{name}: {result['accuracy']:.1%} of {result['covered']} covered questions; "
              f"king - man + woman -> {result['king-man+woman'][:5]} (queen rank {result['queen_rank']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
