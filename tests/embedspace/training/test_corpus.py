"""The corpus readers, on tiny synthetic copies of each source's format written in tmp_path."""
from __future__ import annotations

import gzip
import json

import pytest

from embedspace.errors import FormatError
from embedspace.training.corpus import (
    DICTD_DIGITS,
    TokenizedLines,
    corpus_dir,
    dedupe,
    dictd_number,
    read_gcide,
    read_gutenberg,
    read_kjv,
    read_wordnet_glosses,
    shakespeare_files,
    split_sentences,
    strip_gutenberg,
    tokenize,
)

PLAY = """\
The Project Gutenberg EBook of Hamlet. This eBook is for the use of anyone anywhere.

*** START OF THIS PROJECT GUTENBERG EBOOK HAMLET ***

ACT I.

[Francisco at his post. Enter to him Bernardo.]

Ber.
Who's there?

Fran.
Nay, answer me: stand, and unfold yourself. Long live the king!

HAMLET
O that this too too solid flesh would melt,
Thaw, and resolve itself into a dew!

*** END OF THIS PROJECT GUTENBERG EBOOK HAMLET ***

Updated editions will replace the previous one. Section 1. General Terms of Use.
"""


def test_strip_gutenberg_keeps_only_the_body():
    body = strip_gutenberg(PLAY)
    assert "Project Gutenberg" not in body and "General Terms" not in body
    assert "Who's there?" in body


def test_strip_gutenberg_without_markers_keeps_everything():
    assert strip_gutenberg("Just a poem.\nTwo lines.") == "Just a poem.\nTwo lines."


def test_read_gutenberg_gives_sentences_without_speakers_or_stage_directions(tmp_path):
    path = tmp_path / "hamlet_gut.txt"
    path.write_text(PLAY, encoding="utf-8")
    assert list(read_gutenberg(path)) == [
        "ACT I.",
        "Who's there?",
        "Nay, answer me: stand, and unfold yourself.",
        "Long live the king!",
        "O that this too too solid flesh would melt, Thaw, and resolve itself into a dew!",
    ]


def test_shakespeare_files_take_one_copy_of_each_work(tmp_path):
    for name in ("hamlet_gut.txt", "hamlet_gut_f.txt", "sonnets_gut.txt", "metadata.txt"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert [p.name for p in shakespeare_files(tmp_path)] == ["hamlet_gut.txt", "sonnets_gut.txt"]


def test_read_kjv_gives_one_verse_per_line(tmp_path):
    path = tmp_path / "kjv.jsonl"
    records = [{"citation": "Genesis 1:1", "text": "In the beginning God created  the heaven\nand the earth."},
               {"citation": "John 11:35", "text": "Jesus wept."}]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    assert list(read_kjv(path)) == ["In the beginning God created the heaven and the earth.", "Jesus wept."]


def test_read_kjv_names_the_file_and_line_of_a_bad_record(tmp_path):
    path = tmp_path / "kjv.jsonl"
    path.write_text('{"text": "Jesus wept."}\n{"verse": 3}\n', encoding="utf-8")
    with pytest.raises(FormatError, match=r"kjv.jsonl, line 2"):
        list(read_kjv(path))


def test_read_wordnet_glosses_skips_the_licence_header(tmp_path):
    header = "  1 This software and database is being provided to you, the LICENSEE | not a gloss  \n"
    (tmp_path / "data.noun").write_text(
        header + "00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived or known  \n",
        encoding="utf-8")
    (tmp_path / "data.verb").write_text(
        header + '00001740 29 v 04 breathe 0 001 @ 00002084 v 0000 | draw air into the lungs; "she breathes"  \n',
        encoding="utf-8")
    (tmp_path / "data.adj").write_text(header, encoding="utf-8")
    (tmp_path / "data.adv").write_text(header + "00001740 02 r 01 barely 0 000 | only just  \n", encoding="utf-8")
    assert list(read_wordnet_glosses(tmp_path)) == [
        "that which is perceived or known", 'draw air into the lungs; "she breathes"', "only just"]


def dictd_code(number: int) -> str:
    """Encode a dictd index number (the inverse of dictd_number, written independently)."""
    digits = ""
    while True:
        number, remainder = divmod(number, 64)
        digits = DICTD_DIGITS[remainder] + digits
        if number == 0:
            return digits


def test_dictd_number_decodes_base64_positions():
    assert dictd_number("A") == 0 and dictd_number("/") == 63 and dictd_number("BA") == 64
    for number in (0, 5, 63, 64, 4095, 123456789):
        assert dictd_number(dictd_code(number)) == number


def write_gcide(tmp_path):
    entries = {
        "00-database-info": "00-database-info\n   This file is licensed under the GPL, a licence notice.\n",
        "Zythum": ('Zythum \\Zy"thum\\ (z[i^]"th[u^]m), n. [L., fr. Gr. zy^qos a kind\n'
                   "   of beer; -- so called by the Egyptians.]\n"
                   "   A kind of ancient malt beverage; a liquor made from {malt} and\n"
                   "   wheat. [Written also {zythem}.]\n"
                   "   [1913 Webster]\n"
                   "\n"
                   "         Drink it hot. --Holland.\n"
                   "   [1913 Webster]\n"),
        "acidity": ("acidity \\acidity\\ n.\n"
                    "   1. the quality of being sour; sourness\n"
                    "\n"
                    "   Syn: sourness, tartness\n"
                    "        [WordNet 1.5]\n"),
    }
    data, index = b"", []
    for key, text in entries.items():
        raw = text.encode("utf-8")
        index.append(f"{key}\t{dictd_code(len(data))}\t{dictd_code(len(raw))}")
        data += raw + b"\n"
    index.append(f"zythum\t{index[1].split(chr(9), 1)[1]}")  # a second key for the same entry
    with gzip.open(tmp_path / "gcide.dict.dz", "wb") as handle:
        handle.write(data)
    (tmp_path / "gcide.index").write_text("\n".join(index) + "\n", encoding="utf-8")
    return tmp_path / "gcide.dict.dz", tmp_path / "gcide.index"


def test_read_gcide_gives_clean_paragraphs_without_licence_or_headwords(tmp_path):
    assert list(read_gcide(*write_gcide(tmp_path))) == [
        "A kind of ancient malt beverage; a liquor made from malt and wheat.",
        "Drink it hot. --Holland.",
        "the quality of being sour; sourness",
        "sourness, tartness",
    ]


def test_tokenize_lower_cases_words_and_keeps_inner_apostrophes():
    assert tokenize("O Romeo, Romeo! wherefore art thou\u2019 'Romeo'? 'Tis 1597.") == [
        "o", "romeo", "romeo", "wherefore", "art", "thou", "romeo", "tis", "1597"]
    assert tokenize("lov'd the Queen's self-love_x") == ["lov'd", "the", "queen's", "self", "love", "x"]
    assert tokenize("-- ; !") == []


def test_split_sentences_at_end_marks_before_capitals():
    assert split_sentences("It is 3.5 feet. Yes! no? And\nso 'Tis done.") == [
        "It is 3.5 feet.", "Yes! no?", "And so 'Tis done."]


def test_dedupe_drops_repeats_across_calls_sharing_a_set():
    seen: set[int] = set()
    first = list(dedupe(["draw air into the lungs", "Ay.", "Ay."], seen=seen))
    second = list(dedupe(["Draw air, into the lungs!", "a new gloss of four words"], seen=seen))
    assert first == ["draw air into the lungs", "Ay.", "Ay."]
    assert second == ["a new gloss of four words"]


def test_tokenized_lines_can_be_read_twice(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("The King rules.\n\n--\nThe Queen rules!\n", encoding="utf-8")
    lines = TokenizedLines(path)
    assert list(lines) == list(lines) == [["the", "king", "rules"], ["the", "queen", "rules"]]
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        TokenizedLines(tmp_path / "missing.txt")


def test_corpus_dir_follows_embedspace_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBEDSPACE_CACHE", str(tmp_path))
    assert corpus_dir() == tmp_path / "corpus"


def test_the_corpus_words_are_the_mini_tokenizers_words():
    # one regex for both vocabularies (transformer.word_tokenizer.TOKEN): the same words, in the same order;
    # before and after it was defined once, the corpus gave exactly these words for this sentence
    from transformer.word_tokenizer import split_words

    tricky = "\u2018Tis the King\u2019s_own rock\u2019n\u2019roll, isn't it? 'Twas o'er--"
    assert tokenize(tricky) == ["tis", "the", "king's", "own", "rock'n'roll", "isn't", "it", "twas", "o'er"]
    assert tokenize(tricky) == [t for t in split_words(tricky) if t[0].isalnum()]
