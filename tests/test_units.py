"""Candidate units: list items read with their lead-ins, whole lists, labelled lines, sentences."""

from kb.units import units_of


def texts(units, passage_text, kind=None):
    return [u.text(passage_text) for u in units if kind is None or u.kind == kind]


NESTED = """In this chapter:

- (24) The term "widget" means a small gadget.
- (25) The term "primary widget regulator" means—
  - (A) with respect to a subsidiary of a bank, the banking agency;
  - (B) with respect to a credit union, the Credit Union Board; and
  - (C) with respect to a federal widget issuer, the Comptroller.
- (26) The term "gadget" has the meaning given in section 12."""


def test_an_item_is_read_with_its_lead_in():
    items = texts(units_of(0, NESTED), NESTED, "item")
    assert 'In this chapter: - (25) The term "primary widget regulator" means— … - (C) with respect to a federal ' \
           'widget issuer, the Comptroller.' in items  # two levels of lead-in; siblings between them left out
    # the first item follows its lead-in directly: no ellipsis
    assert any('means— - (A) with respect to a subsidiary' in t for t in items)


def test_a_whole_list_is_a_unit_too():
    lists = [u.text(NESTED) for u in units_of(0, NESTED) if u.kind == "list"]
    assert any(t.endswith('means— - (A) with respect to a subsidiary of a bank, the banking agency; - (B) with respect '
                          'to a credit union, the Credit Union Board; and - (C) with respect to a federal widget issuer, '
                          'the Comptroller.') for t in lists)


def test_flat_enumerations_nest_by_marker_kind():
    text = ("(2) The following provisions come into force 21 days after the day on which these Regulations are made—\n\n"
            "(a) this regulation;\n\n(b) regulation 2;\n\n(3) Regulation 5 comes into force on 1st September 2023.")
    items = texts(units_of(0, text), text, "item")
    assert "(2) The following provisions come into force 21 days after the day on which these Regulations are made— … " \
           "(b) regulation 2;" in items
    assert "(3) Regulation 5 comes into force on 1st September 2023." in items  # a sibling, not a child of (2)


def test_a_paragraph_numbered_with_its_first_sub_paragraph_is_that_sub_paragraph():
    # UK statutory instruments write "26F.(1)" and "2.—(1)": "(2)" below is (1)'s sibling, not one of its items.
    for opening in ("26F.(1)", "2.—(1)"):
        text = (f"{opening} A “gizmo” is any device which is—\n\n(a) portable; and\n\n(b) powered.\n\n"
                "(2) A gizmo is portable where it weighs less than 2 kilograms.")
        lists = texts(units_of(0, text), text, "list")
        assert lists == [f"{opening} A “gizmo” is any device which is— (a) portable; and (b) powered."]
        assert "(2) A gizmo is portable where it weighs less than 2 kilograms." in texts(units_of(0, text), text, "item")


def test_a_lead_in_cut_off_by_the_chunker_is_found_in_the_passage_before():
    before = ("(1) A person shall be treated as a controller if that person—\n"
              "  - (a) holds 10% of the shares;")
    text = "- (b) holds 10% of the votes; or\n  - (c) exercises significant influence."
    items = texts(units_of(0, text, before), text, "item")
    assert items[0].startswith("(1) A person shall be treated as a controller if that person— … - (b) holds 10%")
    unit = units_of(0, text, before)[0]
    assert text[unit.start:unit.end].startswith("- (b)")  # the cited span is the passage's own text


def test_a_first_line_whose_indentation_the_chunker_trimmed_is_placed_by_its_neighbours():
    # The passage before starts at "(C)", its indentation gone, its sub-items still indented: "(C)" sits one
    # step above them, so the "(3)" of the next passage is an outer paragraph, not one of its items.
    before = ("- (C) Hearings—\n"
              "      - (i) The applicant may request a hearing within 30 days.\n"
              "      - (ii) The regulator shall hold the hearing within 30 days.")
    # The passage starts at "(iii)", a closed sentence: its siblings in the passage before give its depth.
    text = ("- (iii) The regulator shall decide within 60 days of the hearing.\n"
            "  - (3) If the regulator fails to render a decision in time, the application is approved.\n"
            "  - (4) A denial does not prevent a new application.")
    units = units_of(0, text, before)
    (paragraph,) = [u for u in units if text[u.start:u.end].lstrip().startswith("- (3)") and u.kind == "item"]
    assert "Hearings" not in paragraph.lead and "(iii)" not in paragraph.lead
    (clause,) = [u for u in units if text[u.start:u.end].startswith("- (iii)") and u.kind == "item"]
    assert clause.lead.startswith("- (C) Hearings—")
    assert not any(u.kind == "list" and "(3)" in text[u.start:u.end] and "(iii)" in text[u.start:u.end] for u in units)
    # A closed item with no sibling in sight is no parent of the deeper-looking item below it.
    alone = "- (iv) The denial is a final determination.\n  - (3) If the regulator fails to decide, it is approved."
    (outer,) = [u for u in units_of(0, alone) if alone[u.start:u.end].lstrip().startswith("- (3)") and u.kind == "item"]
    assert outer.lead == ""


def test_a_list_cut_by_the_chunker_shows_its_items_from_the_next_passage():
    text = "The application shall contain the following:\n- a business plan;\n- the legal form;"
    after = "- a description of the governance arrangements;\n- proof of good repute."
    lists = [u for u in units_of(0, text, "", after) if u.kind == "list"]
    assert lists and lists[0].members == 4
    shown = lists[0].text(text)
    assert "governance arrangements" in shown and "proof of good repute" in shown
    assert text[lists[0].start:lists[0].end] == "- a business plan;\n- the legal form;"


def test_an_item_that_ends_with_or_is_joined_to_the_next_without_another_semicolon():
    text = "A “controller” means a person who—\n- (a) holds 12% of the shares; or"
    (listed,) = [u for u in units_of(0, text, "", "- (b) controls 12% of the votes;") if u.kind == "list"]
    assert listed.text(text).endswith("(a) holds 12% of the shares; or - (b) controls 12% of the votes")


def test_a_label_line_is_read_with_the_line_it_labels():
    text = "To\n\nChief Executive Officers of all national banks; and other interested parties"
    fields = [u for u in units_of(0, text) if u.kind == "field"]
    assert fields and fields[0].text(text) == "To Chief Executive Officers of all national banks; and other interested parties"


def test_sentences_never_span_paragraphs_and_every_span_is_verbatim():
    text = "Rule 1.1 applies from 1 January 2030. It covers widgets.\n\nA second paragraph follows here."
    units = units_of(3, text)
    assert [text[u.start:u.end] for u in units if u.kind == "sentence"] == [
        "Rule 1.1 applies from 1 January 2030.", "It covers widgets.", "A second paragraph follows here."]
    assert all(u.passage == 3 for u in units)
