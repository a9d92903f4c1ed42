"""Our transformer: parameter counts, training the mini GPT, next-token tables and generation."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.common import echo_json, echo_table, json_option, pass_session
from embedspace.session import Session

PRESET_NAMES = ("gpt3", "gpt2", "minilm", "mini")


def human(n: int) -> str:
    """A parameter count the way papers print it: 124.4 M, 174.6 B."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return str(n)


def model_option(command):
    """``--model``: a mini model folder (default: the shipped data/mini)."""
    return click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="A model folder written by train-mini. Default: the shipped mini model.")(command)


@click.command("params")
@click.option("--preset", type=click.Choice(PRESET_NAMES), default=None, help="Start from a known model.")
@click.option("--vocab", type=click.IntRange(1), help="Vocabulary size V.")
@click.option("--ctx", type=click.IntRange(1), help="Context length (learned position rows).")
@click.option("--n-embd", type=click.IntRange(1), help="Width C of the residual stream.")
@click.option("--n-layer", type=click.IntRange(1), help="Number of blocks.")
@click.option("--n-head", type=click.IntRange(1), help="Attention heads per block.")
@click.option("--n-inner", type=click.IntRange(1), help="MLP width (default 4 x n-embd).")
@click.option("--untied", is_flag=True, help="A separate W_U instead of W_E transposed.")
@json_option
def params_command(preset, vocab, ctx, n_embd, n_layer, n_head, n_inner, untied, as_json) -> None:
    """Count a transformer's parameters exactly, by group: W_E, positions, attention, MLP, norms, W_U.

    Start from --preset (default gpt2) and change any dimension.

    Example:

    \b
        embedspace params --preset gpt3
        embedspace params --n-embd 256 --n-layer 8 --n-head 8 --vocab 16000 --ctx 128 --json
    """
    from embedspace.training.mini import PRESETS, PUBLISHED_TOTALS, TransformerConfig, count_params

    base = PRESETS[preset or "gpt2"].to_dict()
    changes = {"vocab_size": vocab, "n_ctx": ctx, "n_embd": n_embd, "n_layer": n_layer, "n_head": n_head,
               "n_inner": n_inner}
    if n_embd and not n_inner:
        changes["n_inner"] = 4 * n_embd
    changed = {k: v for k, v in changes.items() if v is not None}
    base.update(changed)
    if untied:
        base["tied_embeddings"] = False
    cfg = TransformerConfig.from_dict(base)
    counts = count_params(cfg)
    if not cfg.lm_head:  # an encoder (MiniLM): it has no W_U at all, so no row for one
        del counts["W_U"]
    if as_json:
        echo_json([{"group": g, "parameters": n} for g, n in counts.items()])
        return
    click.echo(f"{preset or 'custom'}: V={cfg.vocab_size} T={cfg.n_ctx} C={cfg.n_embd} L={cfg.n_layer} "
               f"H={cfg.n_head} F={cfg.n_inner} {unembedding(cfg)}")
    total = counts["total"]
    rows = [(g, f"{n:,}", f"{100 * n / total:.2f} %", human(n)) for g, n in counts.items()]
    echo_table(rows, ("group", "parameters", "share", "about"))
    if preset in PUBLISHED_TOTALS and not changed and not untied:
        click.echo(f"published: {PUBLISHED_TOTALS[preset]}; the exact count above is {human(total)}")


def unembedding(cfg) -> str:
    """What the model's W_U is, in words: tied to W_E, separate, or absent (an encoder without an LM head)."""
    if not cfg.lm_head:
        return "no W_U (an encoder: no LM head)"
    return "W_U tied to W_E" if cfg.tied_embeddings else "W_U separate"


def note_unknown(words: list[str]) -> None:
    """One note on stderr naming the prompt's words the mini model does not know (they are read as <unk>)."""
    if words:
        count = "1 word of the prompt is" if len(words) == 1 else f"{len(words)} words of the prompt are"
        click.echo(f"note: {count} not in the model's vocabulary and read as <unk>: {', '.join(words)}", err=True)


@click.command("train-mini")
@click.option("--corpus", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Text file, one sentence or paragraph per line (optional with --resume).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("mini"), show_default=True,
              help="Model folder to write (replaced whole at the end).")
@click.option("--run-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Checkpoints and tokenized corpus. Default: OUT.run (with --resume: the folder it names)")
@click.option("--resume", "resume", type=click.Path(exists=True, path_type=Path), default=None,
              help="Continue from a checkpoint folder or a run folder, with the run's own settings.")
@click.option("--restart", is_flag=True,
              help="Start over: delete the run folder's checkpoints and tokens, and replace another run's model in OUT.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None, help="Default: $EMBEDSPACE_DEVICE or cpu.")
@click.option("--steps", type=click.IntRange(1), default=2000, show_default=True,
              help="Steps of the whole run; with --resume, extends the run to this many.")
@click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True)
@click.option("--lr", type=click.FloatRange(0, min_open=True), default=3e-3, show_default=True)
@click.option("--vocab", type=click.IntRange(4), default=8192, show_default=True, help="Vocabulary size.")
@click.option("--n-embd", type=click.IntRange(1), default=128, show_default=True)
@click.option("--n-layer", type=click.IntRange(1), default=4, show_default=True)
@click.option("--n-head", type=click.IntRange(1), default=4, show_default=True)
@click.option("--ctx", "ctx_length", type=click.IntRange(2), default=64, show_default=True, help="Context length.")
@click.option("--checkpoint-every", type=click.IntRange(0), default=200, show_default=True)
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=None,
              help="CPU threads, each running a row group of every batch. Default: every core for all but tiny models.")
@click.pass_context
def train_mini_command(ctx, corpus, out, run_dir, resume, restart, device, steps, batch_size, lr, vocab, n_embd,
                       n_layer, n_head, ctx_length, checkpoint_every, seed, threads) -> None:
    """Train a word-level GPT on a text file (AdamW, warm-up + cosine, checkpoints).

    Ctrl-C saves a checkpoint and stops; --resume continues the same run, with its own settings
    (--steps may extend it). A run folder holding another run is refused: continue that one, choose
    another --out or --run-dir, or start over with --restart. The progress bar shows the loss and
    tokens/s. The result is a model folder for `next`, `generate` and the `mini` space.

    Example:

    \b
        embedspace train-mini --corpus corpus.txt --out mini --steps 2000   # slow: minutes; corpus.txt: your text
        embedspace train-mini --resume mini.run --out mini --steps 3000     # slow: continues to step 3000
        embedspace generate "the king said" --model mini
    """
    from click.core import ParameterSource

    from embedspace.io.saving import check_not_shipped
    from embedspace.training.mini import TrainConfig, TransformerConfig, train_mini

    if corpus is None and resume is None:
        raise click.UsageError("give --corpus FILE (or --resume CHECKPOINT)")
    for folder in (out, run_dir):
        if folder is not None:
            check_not_shipped(folder)
    given = [name for name in ("batch_size", "lr", "vocab", "n_embd", "n_layer", "n_head", "ctx_length",
                               "checkpoint_every", "seed")
             if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)]
    steps_given = ctx.get_parameter_source("steps") not in (ParameterSource.DEFAULT, None)
    if resume is not None and given:
        names = ", ".join("--" + ("ctx" if n == "ctx_length" else n.replace("_", "-")) for n in given)
        raise click.UsageError(f"{names}: a resumed run keeps its own settings (only --steps may extend it); "
                               "start a new run with --restart to change them")
    if resume is None:
        cfg = TransformerConfig(vocab_size=vocab, n_ctx=ctx_length, n_embd=n_embd, n_head=n_head, n_layer=n_layer)
        tc = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, min_lr=lr / 10, seed=seed,
                         checkpoint_every=checkpoint_every, eval_every=max(1, steps // 10))
        settings = {"cfg": cfg, "tc": tc}
    else:
        settings = {"resume": resume, "steps": steps if steps_given else None}
    with click.progressbar(length=steps, label="training", show_pos=True, file=sys.stderr) as bar:
        def progress(p):
            bar.length = p.steps
            bar.label = f"loss {p.loss:.3f} | {p.tokens_per_s:,.0f} tokens/s"
            bar.update(p.step - bar.pos)

        meta = train_mini(corpus, out, run_dir, device=device, threads=threads, callback=progress, restart=restart,
                          **settings)
    val = f"{meta['val_loss']:.3f}" if meta["val_loss"] is not None else "-"
    click.echo(f"{'interrupted' if meta['interrupted'] else 'done'} at step {meta['steps']}: "
               f"{meta['tokens_seen']:,} tokens seen, validation loss {val}, {meta['seconds']:.0f} s")
    click.echo(f"model: {out}   checkpoint: {meta['checkpoint']}")


@click.command("next")
@pass_session
@click.argument("text")
@click.argument("more_temperatures", nargs=-1, type=float, metavar="")
@click.option("--temperature", "-t", type=click.FloatRange(0), multiple=True,
              help="One or more temperatures (0 = argmax), e.g. --temperature 0.5 1 2. Default 1.")
@click.option("--top-k", "-k", type=click.IntRange(1), default=10, show_default=True, help="Rows per temperature.")
@model_option
@json_option
def next_command(session: Session, text, more_temperatures, temperature, top_k, model_dir, as_json) -> None:
    """The mini GPT's most likely next words after TEXT, at each temperature.

    Low temperatures sharpen the distribution toward the top word; high ones flatten it.

    Example:

    \b
        embedspace next "once upon a time there was a" --temperature 0.5 1 2
    """
    from embedspace.contextual.generation import next_token_table, unknown_words

    temperatures = [*temperature, *more_temperatures] or [1.0]
    if any(t < 0 for t in temperatures):
        raise click.BadParameter("temperatures must be >= 0", param_hint="--temperature")
    model = session.mini_model(model_dir)
    table = next_token_table(model, text, temperatures, top_k)
    unknown = unknown_words(model, text)
    note_unknown(unknown)
    if as_json:
        echo_json([{"temperature": t["temperature"], **row, "unknown": unknown} for t in table for row in t["tokens"]])
        return
    for block in table:
        click.echo(f"temperature {block['temperature']:g}")
        echo_table([(rank, r["token"], r["probability"]) for rank, r in enumerate(block["tokens"], 1)],
                   ("rank", "token", "probability"))
        click.echo()


@click.command("generate")
@pass_session
@click.argument("prompt")
@click.option("--temperature", "-t", type=click.FloatRange(0), default=1.0, show_default=True, help="0 = argmax.")
@click.option("--max-tokens", "-n", type=click.IntRange(0), default=30, show_default=True,
              help="At most this many new words (fewer when the sentence ends).")
@click.option("--top-k", "-k", type=click.IntRange(1), default=40, show_default=True, help="Sample among the k likeliest.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same text.")
@model_option
@json_option
def generate_command(session: Session, prompt, temperature, max_tokens, top_k, seed, model_dir,
                     as_json) -> None:
    """Continue PROMPT with the mini GPT: predict, sample, append, repeat.

    Generation stops after --max-tokens words or at the end of the sentence, whichever comes
    first: the model learned its corpus one sentence per line, so it ends a sentence with <eos>
    (try another --seed or a higher --temperature for a longer one).

    Example:

    \b
        embedspace generate "the king said" --temperature 0.8 --max-tokens 20 --seed 1
    """
    from embedspace.contextual.generation import generate_text, join_text, unknown_words

    model = session.mini_model(model_dir)
    text = generate_text(model, prompt, max_tokens, temperature, top_k, seed)
    unknown = unknown_words(model, prompt)
    note_unknown(unknown)
    if as_json:
        echo_json([{"prompt": prompt, "continuation": text, "temperature": temperature, "seed": seed,
                    "unknown": unknown}])
        return
    click.echo(join_text(prompt, text))


COMMANDS = [params_command, train_mini_command, next_command, generate_command]
