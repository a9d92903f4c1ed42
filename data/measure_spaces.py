"""The measurements behind two choices: minilm's layers and candidates, and all-but-the-top for mini.

    .venv/bin/python data/measure_spaces.py layers      # minilm: each layer read alone vs W_E (~3 min)
    .venv/bin/python data/measure_spaces.py isotropy    # every shipped space with and without all-but-the-top

Every figure is measured with embedspace.analysis.evaluate (gensim's semantics, all keys, case folded):
questions-words (3CosAdd accuracy over the questions whose four words are keys), SimLex-999 and
WordSim-353 (Spearman's rho over the pairs whose two words are keys). The tables are in docs/spaces.md
("The open vocabulary") and docs/analysis.md ("Anisotropy").

``layers`` compares, on one vocabulary (the 21,719 whole words of MiniLM's W_E of two ASCII letters or
more, so every row is asked the same questions), W_E itself with each word read alone by MiniLM
(embedspace.contextual.isolated) at each layer and at the shipped pair of layers; then the shipped
candidates (data/wordlists/frequent_words.txt) at the layers that did best.
"""
from __future__ import annotations

import sys
import warnings


def scores(space) -> str:
    """questions-words accuracy, SimLex-999 and WordSim-353 rho, with how many questions / pairs counted."""
    from embedspace.analysis.evaluate import evaluate_analogies, evaluate_similarity

    analogies = evaluate_analogies(space, methods=["add"], restrict_vocab=None)["add"]
    simlex = evaluate_similarity(space, "simlex999", restrict_vocab=None)
    wordsim = evaluate_similarity(space, "wordsim353", restrict_vocab=None)
    asked = len(analogies.total.correct) + len(analogies.total.incorrect)
    return (f"{100 * analogies.accuracy:.1f} % ({asked:,}) | {simlex.spearman:.3f} ({simlex.pairs}) | "
            f"{wordsim.spearman:.3f} ({wordsim.pairs})")


def demos(space) -> str:
    """The chapter's arithmetic on ``space``: the first answers, inflections left out."""
    from embedspace.analysis.arithmetic import calc

    found = []
    for expression in ("king - man + woman", "italy - germany + hitler", "germany - japan + sushi"):
        answers = calc(space, expression, topn=3, skip_inflections=True)
        found.append(", ".join(key for key, _ in answers))
    return " | ".join(found)


def layers() -> None:
    from embedspace.catalog import load_space
    from embedspace.contextual.encoders import load_encoder
    from embedspace.contextual.isolated import isolated_layers
    from embedspace.contextual.minilm_space import MINILM_LAYERS, candidate_words
    from embedspace.io.open_vocabulary import OpenVocabularySpace
    from embedspace.space import Space

    we = load_space("minilm-we")
    common = [key for key in we.index_to_key if len(key) > 1 and key.isascii()]
    print(f"one vocabulary: {len(common):,} words\n| space | questions-words | SimLex-999 | WordSim-353 |\n|---|---|---|---|")
    print(f"| W_E (minilm-we) | {scores(Space(common, we[common], name='we'))} |")
    with load_encoder("minilm") as encoder:
        per_layer = isolated_layers(encoder, common, range(encoder.n_layer + 1))  # [L+1, N, C], unit rows
        for layer, vectors in enumerate(per_layer):
            print(f"| layer {layer} | {scores(Space(common, vectors, name=f'L{layer}'))} |", flush=True)
        shipped = sum(per_layer[layer] for layer in MINILM_LAYERS)
        print(f"| layers {' + '.join(map(str, MINILM_LAYERS))} (shipped) | {scores(Space(common, shipped, name='open'))} |")
        words = candidate_words()
        print(f"\nthe shipped candidates: {len(words):,} words\n| layers | questions-words | SimLex-999 | WordSim-353 "
              "| king - man + woman; italy - germany + hitler; germany - japan + sushi (--no-inflections) |\n|---|---|---|---|---|")
        candidates = isolated_layers(encoder, words, (2, 6))
        for chosen in ((2,), (6,), MINILM_LAYERS):
            vectors = sum(candidates[(2, 6).index(layer)] for layer in chosen)
            space = OpenVocabularySpace(words, vectors, load_space("minilm").reader, name="open", unique_keys=True)
            print(f"| {' + '.join(map(str, chosen))} | {scores(space)} | {demos(space)} |", flush=True)


def isotropy() -> None:
    from embedspace.analysis.geometry import typical_cosine
    from embedspace.catalog import load_space

    print("| space | D removed | typical cosine | questions-words | SimLex-999 | WordSim-353 | tower's neighbours |\n"
          "|---|---|---|---|---|---|---|")
    for name, removed in (("mini", (0, 1, 2, 3, 4, 5, 6, 8, 10)), ("word2vec", (0, 2)), ("minilm", (0, 4)),
                          ("minilm-we", (0, 4))):
        for d in removed:
            space = load_space(name, remove_top=d)
            tower = ", ".join(key for key, _ in space.similar_by_vector(space["tower"], topn=5, exclude=["tower"]))
            print(f"| {name} | {d} | {typical_cosine(space):.3f} | {scores(space)} | {tower} |", flush=True)


if __name__ == "__main__":
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    {"layers": layers, "isotropy": isotropy}[sys.argv[1] if len(sys.argv) > 1 else "layers"]()
