"""The sections on transformers: a word in context, sense separation, attention, temperature, parameters.

They ask the encoders MiniLM and the mini GPT (through :meth:`embedspace.tour.inputs.Tour.encoder`),
the mini model itself and the transformer's presets; see :class:`embedspace.tour.run.SectionSpec`.
"""
from __future__ import annotations

from collections.abc import Sequence

from embedspace.contextual.attention import head_choices
from embedspace.contextual.compare import (
    ContextComparison,
    compare_contexts,
    load_sense_sentences,
    sense_separation,
)
from embedspace.contextual.generation import distributions, generate_text, next_token_table
from embedspace.tour.figures import attention_figure, drift_figure, separation_figure
from embedspace.tour.inputs import ENCODER_NAMES, Tour, Unavailable
from embedspace.tour.report import Note, Section, Table, scored
from embedspace.viz.plots import plot_temperatures
from transformer.config import PRESETS, count_params

MODEL_SENTENCES = (  # "model" twice in the machine-learning sense, once in the fashion sense
    ("ML 1", "The engineers trained a machine learning model on the data."),
    ("ML 2", "We evaluated the deep learning model on the test set."),
    ("fashion", "She worked as a fashion model in Paris."),
)
ATTENTION_SENTENCE = "The car is blue"
ATTENTION_PAIR = ("blue", "car")  # the query token and the key token it should read from
TEMPERATURES = (0.5, 1.0, 2.0)
PROMPT = "and the lord said unto"


def section_context(tour: Tour, section: Section) -> str:
    """"model" in two senses, layer by layer, with the layer-drift chart."""
    labels = [label for label, _ in MODEL_SENTENCES]
    section.add(Table(["label", "sentence"], [list(pair) for pair in MODEL_SENTENCES]))
    results = {}
    for name in ENCODER_NAMES:
        try:
            encoder = tour.encoder(name)
        except Unavailable as error:
            section.add(Note(str(error)))
            continue
        try:
            results[name] = compare_contexts(encoder, [s for _, s in MODEL_SENTENCES], "model", layers=(0, -1))
        except (KeyError, ValueError) as error:  # e.g. a vocabulary without "model"
            section.add(Note(f"{name}: {error}"))
    if not results:
        raise Unavailable("no encoder could place 'model' in the sentences")
    summary = []
    for name, result in results.items():
        curves = drift_curves(result, labels)
        rows = [[layer, *(values[layer] for values in curves.values())] for layer in range(result.n_layers + 1)]
        section.add(Table(["layer", *curves], rows, caption=f"{name}: cosine of 'model' between contexts "
                                                            "and to its static W_E row"))
        section.add(Note(f"{name}: {result.note}."))
        last = result.n_layers
        section.add(Table(["sentence", "layer 0 neighbours", f"layer {last} neighbours"],
                          [[label, scored(o.neighbours[0]), scored(o.neighbours[last])]
                           for label, o in zip(labels, result.occurrences)],
                          caption=f"{name}: nearest W_E words of the contextual vector"))
        same, different = result.pairs[0].cosines[-1], result.pairs[1].cosines[-1]
        summary.append(f"{name} last layer ML/ML {same:.2f} vs ML/fashion {different:.2f}")
    figure = drift_figure({name: drift_curves(result, labels) for name, result in results.items()}, "model")
    section.add(tour.save(figure, "context_model_drift.png",
                          "Cosine of 'model' between contexts (same sense: ML 1 vs ML 2) and to its static W_E "
                          "row, by layer (0 = what enters the first block)"))
    return "; ".join(summary)


def drift_curves(result: ContextComparison, labels: Sequence[str]) -> dict[str, list[float]]:
    """The comparison's layer-drift curves (every pair, then each context vs W_E), named by ``labels``."""
    curves = result.layer_drift(max_pairs=len(result.pairs))
    names = [f"{labels[p.a]} vs {labels[p.b]}" for p in result.pairs] + [f"W_E vs {label}" for label in labels]
    return dict(zip(names, curves.values()))


def section_senses(tour: Tour, section: Section) -> str:
    """Sense separation over the bundled sentence pairs, per layer and encoder."""
    items = load_sense_sentences()
    words = sorted({item.word for item in items})
    section.add(Note(f"{len(items)} sentences for {len(words)} words: {', '.join(words)} "
                     "(data/sentences/senses.tsv). A triplet is an anchor sentence, another sentence with the "
                     "same sense of the word, and one with a different sense; it is won at a layer when the "
                     "same-sense sentence puts the word closer to the anchor. Chance is 50 %."))
    results = {}
    for name in ENCODER_NAMES:
        try:
            results[name] = sense_separation(tour.encoder(name), items)
        except (Unavailable, ValueError) as error:  # ValueError: no word of the set in its vocabulary
            section.add(Note(f"{name}: {error}" if isinstance(error, ValueError) else str(error)))
    if not results:
        raise Unavailable("no encoder could score the sentence set")
    depth = max(r.n_layers for r in results.values())
    rows = []
    for layer in range(depth + 1):
        row = [layer]
        for result in results.values():
            inside = layer <= result.n_layers
            row += [f"{result.win_rate[layer]:.0%}" if inside else "", result.mean_gap[layer] if inside else ""]
        rows.append(row)
    headers = ["layer"] + [h for name in results for h in (f"{name} triplets won", f"{name} mean gap")]
    section.add(Table(headers, rows))
    ax = separation_figure({f"{name} ({r.n_triplets} triplets)": r.win_rate for name, r in results.items()},
                           "Sense separation: same sense closer than a different sense")
    section.add(tour.save(ax, "sense_separation.png", "Share of triplets (anchor, same-sense, different-sense "
                          "sentence) in which the same-sense sentence is closer, by layer; 50 % is chance"))
    for result in results.values():
        section.add(Note(f"{result.model}: {result.n_triplets} triplets; {result.note}."
                         + (f" Left out: {'; '.join(f'{w} ({why})' for w, why in result.skipped.items())}."
                            if result.skipped else "")))
    return ", ".join(f"{r.model} {r.win_rate[-1]:.0%} won at the last layer" for r in results.values())


def section_attention(tour: Tour, section: Section) -> str:
    """MiniLM's attention on "The car is blue": per layer, the head where blue looks most at car."""
    query, key = ATTENTION_PAIR
    run = tour.encoder("minilm").run([ATTENTION_SENTENCE])[0]
    choices = head_choices(run, query, key)  # [L]
    section.add(tour.save(attention_figure(run.attentions, run.tokens, choices), "attention_car_is_blue.png",
                          f"MiniLM attention on '{ATTENTION_SENTENCE}': rows attend to columns; in each block, "
                          f"the head where '{query}' attends most to '{key}'"))
    rows = [[c.block, c.head, c.weight, run.tokens[c.focus]] for c in choices]
    section.add(Table(["block", "head", f"{query} -> {key}", f"{query} attends most to"], rows,
                      caption=f"The head of each block in which '{query}' attends most to '{key}'"))
    best = max(choices, key=lambda c: c.weight)
    return f"strongest {query} -> {key}: block {best.block}, head {best.head} ({best.weight:.2f})"


def section_temperature(tour: Tour, section: Section) -> str:
    """The mini GPT's next-token distribution after one prompt at T = 0.5, 1, 2."""
    model = tour.session.mini_model()
    ax = plot_temperatures(distributions(model, PROMPT, TEMPERATURES), model.tokenizer.id_to_token, top_k=10,
                           title=f"mini GPT: the word after '{PROMPT}'")
    section.add(tour.save(ax, "temperatures.png", f"Probabilities of the ten likeliest words after '{PROMPT}' "
                          "at three temperatures: softmax(logits / T)"))
    table = next_token_table(model, PROMPT, TEMPERATURES, k=5)
    rows = [[f"T = {t['temperature']:g}", ", ".join(f"{r['token']} ({r['probability']:.2f})" for r in t["tokens"]),
             generate_text(model, PROMPT, max_tokens=12, temperature=t["temperature"], seed=0)] for t in table]
    section.add(Table(["temperature", "five likeliest next words", "a continuation (seed 0)"], rows,
                      caption=f"Prompt: '{PROMPT}'"))
    top = table[0]["tokens"][0]
    return f"after '{PROMPT}': {top['token']} ({top['probability']:.2f} at T = {TEMPERATURES[0]:g})"


def param_cell(cfg, group: str, count: int) -> str:
    """A parameter count as a table cell; a W_U that is not a matrix of its own says why it counts 0.

    Examples
    --------
    >>> param_cell(PRESETS["minilm"], "W_U", 0), param_cell(PRESETS["gpt2"], "W_U", 0)
    ('none (no LM head)', 'tied to W_E')
    """
    if group == "W_U" and not count:
        return "tied to W_E" if cfg.lm_head else "none (no LM head)"
    return f"{count:,}"


def section_parameters(tour: Tour, section: Section) -> str:
    """GPT-3's parameter tally beside our two models."""
    names = [n for n in ("gpt3", "gpt2", "minilm", "mini") if n in PRESETS]
    counts = {n: count_params(PRESETS[n]) for n in names}
    groups = list(counts[names[0]])
    rows = [[group] + [param_cell(PRESETS[n], group, counts[n][group]) for n in names] for group in groups]
    section.add(Table(["parameters"] + names, rows))
    gpt3 = counts.get("gpt3")
    if gpt3 is None:
        raise Unavailable("the gpt3 preset is missing")
    cfg = PRESETS["gpt3"]
    section.add(Note(
        f"GPT-3's W_E alone is {cfg.vocab_size:,} tokens x {cfg.n_embd:,} dims = {gpt3['W_E']:,} numbers; "
        f"the whole model has {gpt3['total']:,} parameters ({gpt3['total'] / 1e9:.1f} B; published as 175 B). "
        f"Each of its {cfg.n_layer} blocks holds {(gpt3['attention'] + gpt3['MLP']) / cfg.n_layer / 1e9:.2f} B, "
        f"{gpt3['MLP'] / (gpt3['attention'] + gpt3['MLP']):.0%} of them in the MLP; W_E is "
        f"{gpt3['W_E'] / gpt3['total']:.2%} of the model."))
    return f"GPT-3: W_E = {gpt3['W_E']:,}, total = {gpt3['total'] / 1e9:.1f} B"
