"""Static vs contextual at corpus scale: contextuality per layer, senses, distilled static spaces."""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from cli.common import echo_json, echo_table, json_option

MEASURE_NAMES = ("self_similarity", "intra_similarity", "mev", "static_cosine", "static_share")


def default_corpus() -> Path:
    """The corpus that ``data/build_word2vec.py --corpus-only`` builds (a usage error when it is not built)."""
    from embedspace.training.corpus import corpus_dir

    path = corpus_dir() / "corpus.txt"
    if not path.is_file():
        raise click.UsageError(f"no --corpus given and {path} is not built: give a text file (one sentence per "
                               "line) or build ours with `python data/build_word2vec.py --corpus-only`")
    return path


def corpus_options(per_word: int):
    """The options every corpus-scale command shares (defined once)."""
    from embedspace.contextual.settings import BATCH_SIZE, ENGINES, GROUP_SIZE, MAX_TOKENS

    options = [
        click.option("--corpus", "-c", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                     help="A UTF-8 text file, one sentence per line. Default: our corpus.txt (if built)."),
        click.option("--model", "-m", default="minilm", show_default=True,
                     help="minilm (pretrained all-MiniLM-L6-v2), mini (our GPT) or a mini model folder."),
        click.option("--per-word", "-n", type=click.IntRange(1), default=per_word, show_default=True,
                     help="Sentences (lines) kept per word, spread over the corpus."),
        click.option("--max-tokens", type=click.IntRange(4, 256), default=MAX_TOKENS, show_default=True,
                     help="Longer lines are not used (tokens, specials included)."),
        click.option("--batch-size", type=click.IntRange(1), default=BATCH_SIZE, show_default=True,
                     help="Lines per forward pass."),
        click.option("--group-size", type=click.IntRange(1), default=GROUP_SIZE, show_default=True,
                     help="Lines per shard (the unit of resuming and of Ray tasks)."),
        click.option("--seed", type=int, default=0, show_default=True, help="Which lines a word keeps; random words."),
        click.option("--run-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Where shards go (default: a cache folder named after the settings; a rerun resumes)."),
        click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
                     help="local: this process; ray: Ray Data workers (pip install 'embedspace[ray]')."),
        click.option("--address", default=None, help="--engine ray: a running cluster's address (default: start one)."),
        click.option("--workers", type=click.IntRange(1), default=2, show_default=True,
                     help="--engine ray: encoders side by side."),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


class Bars:
    """click progress bars on stderr: the corpus scan (bytes), then the extraction (sentences, with rates)."""

    def __init__(self, stack: contextlib.ExitStack):
        self.stack, self.scan_bar, self.bar = stack, None, None

    def scan(self, done: int, total: int) -> None:
        if self.scan_bar is None:
            self.scan_bar = click.progressbar(length=total, label="scanning corpus", file=sys.stderr)
            self.scan_bar.__enter__()
        self.scan_bar.update(done - self.scan_bar.pos)

    def extract(self, progress) -> None:
        if self.scan_bar is not None:
            self.scan_bar.__exit__(None, None, None)
            self.scan_bar = None
        if self.bar is None:
            self.bar = self.stack.enter_context(click.progressbar(
                length=progress.sentences_todo, label="extracting", file=sys.stderr,
                item_show_func=lambda p: p and f"{p.sentences_per_s:.0f} sentences/s, {p.tokens_per_s:.0f} tokens/s"))
        self.bar.update(progress.sentences - self.bar.pos, progress)

    def close(self) -> None:
        if self.scan_bar is not None:
            self.scan_bar.__exit__(None, None, None)


def run_extraction(encoder, words, options: dict):
    """:func:`extract_occurrences` with the shared options, showing progress bars; the run folder."""
    from embedspace.contextual.engines import extract_occurrences, make_engine

    corpus = options.pop("corpus") or default_corpus()
    engine = make_engine(options.pop("engine"), encoder, options.pop("address"), options.pop("workers"))
    with contextlib.ExitStack() as stack:
        bars = Bars(stack)
        try:
            run = extract_occurrences(corpus, words, options.pop("model"), encoder=encoder, engine=engine,
                                      folder=options.pop("run_dir"), progress=bars.extract, scan_progress=bars.scan,
                                      **options)
        finally:
            bars.close()
    click.echo(f"{run.manifest['lines']} sentence(s) of {corpus} in {run.folder}", err=True)
    return run


@contextlib.contextmanager
def held_encoder(model: str):
    """The encoder ``--model`` names, closed when the command ends."""
    from embedspace.contextual.engines import close_encoder, open_encoder

    encoder = open_encoder(model)
    try:
        yield encoder
    finally:
        close_encoder(encoder)


@click.command("contextuality")
@click.argument("words", nargs=-1, required=True)
@corpus_options(per_word=100)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw a measure's curves over layers to this .png/.svg/.pdf file.")
@click.option("--measure", type=click.Choice(MEASURE_NAMES), default="self_similarity", show_default=True,
              help="With --plot: the measure drawn.")
@click.option("--adjusted", is_flag=True, help="With --plot: draw the anisotropy-adjusted figure.")
@json_option
def contextuality_command(words, plot_path, measure, adjusted, as_json, **options) -> None:
    """How contextual each WORD is, layer by layer, over its occurrences in a corpus (Ethayarajh 2019).

    Per layer: self-similarity (mean cosine between the word's occurrences in different sentences),
    intra-sentence similarity, and the variance share of the first principal direction (MEV); each
    also minus the same figure for random words (anisotropy); and beside them the static W_E row's
    figures (mean cosine with the occurrences, variance share along it).

    Example:

    \b
        embedspace contextuality bank light king --corpus corpus.txt --per-word 50   # corpus.txt: your text
        embedspace contextuality bank --corpus corpus.txt --model mini --plot bank.png --measure self_similarity
    """
    from embedspace.contextual.measures import measure_words
    from embedspace.contextual.occurrences import target_keys

    with held_encoder(options["model"]) as encoder:
        run = run_extraction(encoder, words, options)
        report = measure_words(run, target_keys(encoder, words), static=encoder.static_vector)
    if plot_path is not None:
        from embedspace.contextual.corpus_plots import plot_contextuality
        from embedspace.viz.plots import save_figure

        click.echo(f"wrote {save_figure(plot_contextuality(report, measure, adjusted), plot_path)}", err=True)
    if as_json:
        echo_json(report.to_dict())
        return
    echo_report(report)


def echo_report(report) -> None:
    """The report as readable tables: the baseline, then one table per word."""
    click.echo(f"{report.model}: layers 0..{report.layers}; anisotropy from {report.baseline_words} random words"
               + (f"; W_E rows' own anisotropy {report.static_anisotropy:.4f}" if report.static_anisotropy else ""))
    click.echo("random words' mean cosine per layer: " + " ".join(f"{v:.3f}" for v in report.anisotropy))
    for w in report.words:
        click.echo(f"\n{w.word}: {w.occurrences} occurrence(s) in {w.sentences} sentence(s) "
                   f"(of {w.corpus_lines} usable lines holding it)")
        columns = [w.self_similarity, w.self_similarity_adjusted, w.intra_similarity_adjusted, w.mev,
                   w.mev_adjusted] + [c for c in (w.static_cosine, w.static_share) if c is not None]
        headers = ("layer", "self-sim", "adjusted", "intra adj", "MEV", "MEV adj") + (
            ("cos W_E", "share W_E") if w.static_cosine is not None else ())
        echo_table([(layer, *(float(c[layer]) for c in columns)) for layer in range(report.layers + 1)], headers)
    for word, why in report.missing.items():
        click.echo(f"\n{word}: {why}")


@click.command("senses")
@click.argument("word")
@corpus_options(per_word=200)
@click.option("--layer", "-l", type=int, default=-1, show_default=True, help="The layer clustered (-1: the last).")
@click.option("--max-clusters", type=click.IntRange(2, 20), default=6, show_default=True,
              help="The largest number of clusters tried (the best silhouette wins).")
@click.option("--examples", type=click.IntRange(1), default=3, show_default=True, help="Sentences per cluster.")
@click.option("--topn", type=click.IntRange(1), default=8, show_default=True, help="Neighbours per cluster.")
@click.option("--space", "context_space", default="word2vec", show_default=True,
              help="The static space read through each cluster's context words.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the occurrences' 2D projection, coloured by cluster, to this file.")
@json_option
def senses_command(word, layer, max_clusters, examples, topn, context_space, plot_path, as_json, **options) -> None:
    """Cluster WORD's occurrences in a corpus at one layer: each cluster with sentences and static neighbours.

    The number of clusters is the one with the best silhouette (cosine), from 2 to --max-clusters.
    Each cluster shows the sentences nearest its centre, the model's W_E words nearest its centre,
    and the words of --space nearest the mean of its context words (minus all contexts' mean).

    Example:

    \b
        embedspace senses bank --corpus corpus.txt --layer 5   # corpus.txt: your text
        embedspace senses spring --corpus corpus.txt --plot spring.png --json
    """
    from embedspace.catalog import load_space
    from embedspace.contextual.occurrences import target_keys
    from embedspace.contextual.senses import word_senses

    with held_encoder(options["model"]) as encoder:
        run = run_extraction(encoder, [word], options)
        key = target_keys(encoder, [word])[0]
        centroid = {f"{encoder.name} W_E": encoder.space}
        report = word_senses(run, key, layer, max_clusters, examples, topn, centroid,
                             {context_space: load_space(context_space)})
    if plot_path is not None:
        from embedspace.contextual.corpus_plots import plot_senses
        from embedspace.viz.plots import save_figure

        click.echo(f"wrote {save_figure(plot_senses(report), plot_path)}", err=True)
    if as_json:
        echo_json(report.to_dict())
        return
    scores = ", ".join(f"k={k}: {v:.3f}" for k, v in report.silhouettes.items())
    click.echo(f"{report.word!r} at layer {report.layer} of {report.model}: {report.occurrences} occurrences, "
               f"{report.k} clusters (silhouette {scores})")
    for number, cluster in enumerate(report.clusters, 1):
        click.echo(f"\nsense {number}: {cluster.size} occurrence(s)")
        for sentence in cluster.examples:
            click.echo(f"  - {sentence if len(sentence) <= 110 else sentence[:107] + '...'}")
        for space, found in cluster.neighbours.items():
            click.echo(f"  {space}: " + ", ".join(f"{w} {s:.2f}" for w, s in found))


@click.command("distill")
@corpus_options(per_word=20)
@click.option("--layer", "-l", type=int, required=True, help="The layer pooled (0..last; -1: the last).")
@click.option("--out", "-o", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The space folder to write (vectors.npy, vocab.txt, meta.json): use it as --space OUT.")
@click.option("--pool", type=click.Choice(["mean", "pc1"]), default="mean", show_default=True,
              help="mean of the occurrence vectors, or their first principal direction.")
@click.option("--words", "words_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A file of words to distil, one per line (added to --vocab).")
@click.option("--vocab", type=click.IntRange(0), default=2000, show_default=True,
              help="Also the N most frequent words of the corpus.")
@click.option("--eval-words", is_flag=True,
              help="Also the words of questions-words, SimLex-999 and WordSim-353 (as Bommasani et al. did).")
@click.option("--float16", is_flag=True, help="Store float16 vectors (half the size; read back as float32).")
@click.option("--evaluate", is_flag=True,
              help="Evaluate it beside the model's W_E, word2vec and the isolated-word vectors, on their "
                   "common vocabulary.")
@click.option("--all-layers", is_flag=True, help="With --evaluate: every layer's distilled and isolated vectors.")
@json_option
def distill_command(layer, out, pool, words_file, vocab, eval_words, float16, evaluate, all_layers, as_json,
                    **options) -> None:
    """Distil a static space: each word's vectors over its corpus sentences at one layer, pooled into one.

    Words come from --vocab (the most frequent), --words and --eval-words; those the model
    splits into several words are left out. The result is a space folder usable as --space OUT.

    Example:

    \b
        embedspace distill --model minilm --corpus corpus.txt --layer 1 --out minilm-l1   # corpus.txt: your text
        embedspace neighbors king --space minilm-l1
        embedspace distill --corpus corpus.txt --layer 1 --out minilm-l1e --eval-words --evaluate --all-layers   # slow: minutes
    """
    from embedspace.contextual.distill import distill_space, single_words

    with held_encoder(options["model"]) as encoder:
        words = wanted_words(options["corpus"] or default_corpus(), vocab, words_file, eval_words)
        kept = single_words(encoder, words)
        click.echo(f"{len(kept)} word(s) to distil ({len(words) - len(kept)} the model splits or does not know)",
                   err=True)
        run = run_extraction(encoder, kept, dict(options))
        space = distill_space(run, layer, pool)
        write_distilled(space, out, run, layer, pool, float16)
        click.echo(f"wrote {out}: {len(space)} words x {space.dim} dims", err=True)
        if evaluate:
            rows, shared = evaluate_distilled(encoder, run, space, layer, all_layers)
    if not evaluate:
        return
    if as_json:
        echo_json({"common_vocabulary": shared, "rows": [r.to_dict() for r in rows]})
        return
    click.echo(f"on the {shared} words every space holds (3CosAdd accuracy; Spearman correlations)")
    echo_table([(r.space, r.analogy, r.analogy_questions, r.simlex, r.simlex_pairs, r.wordsim, r.wordsim_pairs)
                for r in rows], ("space", "analogies", "questions", "SimLex-999", "pairs", "WordSim-353", "pairs"))


def wanted_words(corpus: Path, vocab: int, words_file: Path | None, eval_words: bool) -> list[str]:
    """The words to distil: the most frequent, a file's, the evaluation sets' (without repeats)."""
    from embedspace.contextual.distill import evaluation_words, frequent_words

    words = []
    if vocab:
        with click.progressbar(length=corpus.stat().st_size, label="counting words", file=sys.stderr) as bar:
            words += frequent_words(corpus, vocab, progress=lambda done, total: bar.update(done - bar.pos))
    if words_file is not None:
        words += [w.strip() for w in words_file.read_text(encoding="utf-8").splitlines() if w.strip()]
    if eval_words:
        words += evaluation_words()
    if not words:
        raise click.UsageError("no words to distil: give --vocab N, --words FILE or --eval-words")
    return list(dict.fromkeys(words))


def write_distilled(space, out: Path, run, layer: int, pool: str, float16: bool) -> None:
    """The space folder, with a meta.json that says how it was made."""
    from embedspace.io.formats import write_space_dir
    from embedspace.training.word2vec import save_shipped

    manifest = run.require()
    meta = {"origin": space.origin, "name": space.name, "model": manifest["settings"]["model"], "layer": layer,
            "pool": pool, "settings": manifest["settings"] | {"keys": len(manifest["settings"]["keys"])},
            "corpus": manifest["corpus"]}
    if float16:
        save_shipped(space, out, meta)
    else:
        write_space_dir(out, space.index_to_key, space.vectors, meta | {"count": len(space), "dim": space.dim})


def evaluate_distilled(encoder, run, space, layer: int, all_layers: bool):
    """The evaluation table: distilled and isolated vectors (at ``layer`` or every layer), W_E and word2vec."""
    from embedspace.catalog import load_space
    from embedspace.contextual.distill import distill_spaces, evaluation_table, isolated_spaces
    from embedspace.contextual.encoders import check_layer

    layers = list(range(encoder.n_layer + 1)) if all_layers else [check_layer(layer, encoder.n_layer)]
    distilled = distill_spaces(run, layers)
    isolated = isolated_spaces(encoder, space.index_to_key, layers)
    spaces = {f"distilled L{n}": distilled[n] for n in layers}
    if space.name not in (s.name for s in distilled.values()):
        spaces[space.name] = space
    spaces |= {f"isolated L{n}": isolated[n] for n in layers}
    spaces |= {f"{encoder.name} W_E": encoder.space, "word2vec": load_space("word2vec")}
    return evaluation_table(spaces)


COMMANDS = [contextuality_command, senses_command, distill_command]
