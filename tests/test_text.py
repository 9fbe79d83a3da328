from kb.text import LineIndex, normalise_for_dedup, split_sentences


def sentences(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_splits_sentences_and_keeps_abbreviations_together():
    text = "The FCA is consulting. Applications open in 2026. See 12 U.S.C. 5901 for terms. Mr. Smith agreed!"
    assert sentences(text) == [
        "The FCA is consulting.",
        "Applications open in 2026.",
        "See 12 U.S.C. 5901 for terms.",
        "Mr. Smith agreed!",
    ]


def test_section_numbers_and_decimals_do_not_end_sentences():
    assert sentences("Rule 3.2.1 applies to 2.5 per cent of assets. It ends here.") == [
        "Rule 3.2.1 applies to 2.5 per cent of assets.",
        "It ends here.",
    ]


def test_list_items_start_new_sentences():
    text = "The term means:\n- (1) a bank\n- (2) a firm"
    assert sentences(text) == ["The term means:", "- (1) a bank", "- (2) a firm"]


def test_sentence_spans_cover_every_word():
    text = "One two. Three four!  Five six?\nSeven"
    words = [w for s, e in split_sentences(text) for w in text[s:e].split()]
    assert words == text.split()


def test_normalise_for_dedup_ignores_case_punctuation_and_spacing():
    assert normalise_for_dedup("The  FCA, is\nconsulting.") == normalise_for_dedup("the fca is consulting")


def test_line_index_maps_offsets_to_lines():
    text = "a\nbb\n\nccc"
    lines = LineIndex(text, first_line=10)
    assert [lines.line_of(i) for i in (0, 2, 3, 5, 6)] == [10, 11, 11, 12, 13]


def test_line_range_of_a_sentence_inside_a_chunk():
    from kb.models import Chunk, DocumentMeta

    meta = DocumentMeta(doc_id="a.md", source="a.md", title="A")
    text = "First line.\nSecond line starts. It ends\nhere. Third line."
    chunk = Chunk(meta, text, (), 0, len(text), 10, 12)
    start = text.index("It ends")
    assert chunk.line_range(start, text.index("here.") + 5) == (11, 12)
    assert chunk.line_range(0, 5) == (10, 10)
    record = Chunk(meta, text, (), 0, len(text), 7, 7)  # a .jsonl record cites its one line
    assert record.line_range(start, len(text)) == (7, 7)
