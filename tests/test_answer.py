"""The answerer: typed answers, list answers, honest declines, spans, and independence from --top-k.

Fixture corpora with invented facts, searched with the deterministic hash embedder.
"""

import pytest

from kb.answer import LANGUAGE_NOTE, AnswerSettings, answer_citations, answer_lines, answer_question, gather_evidence
from kb.build import build_index
from kb.config import Settings
from kb.testing import HashEmbedder
from kb.index import IndexReader
from kb.search import Searcher

from conftest import write


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("answers") / "corpus"
    write(corpus / "widgets.md", """
        ---
        title: "Fixture Widget Act"
        date: 2031-05-02
        jurisdiction: UK
        regulator: FCA
        type: law
        ---
        # Widget Act

        Published on 2 May 2031

        ## Definitions

        In this Act:

        - (1) The term "widget" means a small regulated gadget.
        - (2) The term "widget supervisor" means—
          - (A) with respect to a bank, the Banking Board;
          - (B) with respect to a federal widget dealer, the Widget Commissioner.

        ## Authorisation

        1. The Widget Commissioner shall acknowledge an application within five working days of receipt.

        2. The Widget Commissioner may refuse to review an application that remains incomplete after the deadline.

        3. The application fee is 700 credits for dealers.

        4. The application shall contain the following information:
        - a business plan;
        - a description of the governance arrangements;
        - proof of good repute.

        ## Application

        This Act shall apply from 1 March 2032.
        """)
    write(corpus / "gadgets.md", """
        ---
        title: "Fixture Gadget Regulation"
        date: 2030-01-15
        jurisdiction: EU
        type: regulation
        ---
        # Gadget Regulation

        Gadget dealers shall carry out penetration tests at least every 3 years.

        Gadget dealers shall report major incidents to the Gadget Authority without undue delay.
        """)
    settings = Settings(corpus=corpus, index=corpus.parent / "index", model="hash:64")
    build_index(settings)
    return Searcher(IndexReader.open(settings.index), HashEmbedder(64))


def searcher_for(tmp_path, files):
    """A searcher over a corpus of `files` (name → text), indexed with the hash embedder."""
    corpus = tmp_path / "corpus"
    for name, text in files.items():
        write(corpus / name, text)
    settings = Settings(corpus=corpus, index=tmp_path / "index", model="hash:64")
    build_index(settings)
    return Searcher(IndexReader.open(settings.index), HashEmbedder(64))


def ask(searcher, question, k=5, **settings):
    return answer_question(searcher, question, k, settings=AnswerSettings(**settings))


def test_a_when_question_is_answered_by_a_dated_sentence_of_the_right_event(searcher):
    answer = ask(searcher, "From when does the Widget Act apply?")
    assert answer.answerable and answer.text == "This Act shall apply from 1 March 2032."
    assert answer.span.text == "1 March 2032" and answer.span.kind == "date"
    assert answer.text[answer.span.start:answer.span.end] == answer.span.text
    assert answer.dates == ("2032-03-01",)


def test_a_publication_question_is_answered_by_the_documents_own_date_line(searcher):
    answer = ask(searcher, "When was the Fixture Widget Act published?")
    assert answer.answerable and "2 May 2031" in answer.text


def test_an_item_is_answered_with_its_lead_in(searcher):
    answer = ask(searcher, "Who is the widget supervisor of a federal widget dealer?")
    assert answer.answerable and "the Widget Commissioner" in answer.text
    assert '(2) The term "widget supervisor" means— … (B) with respect to a federal widget dealer' in answer.text
    assert answer.span.kind == "organisation"


def test_a_list_question_is_answered_with_the_list(searcher):
    answer = ask(searcher, "What must the widget application contain?")
    assert answer.answerable and "business plan" in answer.text and "good repute" in answer.text


def test_typed_questions_need_a_value_of_their_type(searcher):
    amount = ask(searcher, "How much is the widget application fee?")
    assert amount.answerable and amount.span.text == "700 credits"
    duration = ask(searcher, "How often must gadget dealers run penetration tests?")
    assert duration.answerable and "every 3 years" in duration.span.text
    yes_no = ask(searcher, "Can the Widget Commissioner refuse to review an incomplete application?")
    assert yes_no.answerable and "may refuse to review" in yes_no.text


def test_an_amount_the_corpus_does_not_give_is_declined(searcher):
    answer = ask(searcher, "What annual licence fee must a gadget dealer pay?")
    assert not answer.answerable and answer.text is None
    assert answer.passages  # the closest passages are still shown, as such


def test_a_duration_in_other_units_does_not_answer(searcher):
    answer = ask(searcher, "Within how many hours must gadget dealers report major incidents?")
    assert not answer.answerable


def test_another_jurisdictions_text_is_not_an_answer(searcher):
    answer = ask(searcher, "How often must UK gadget dealers run penetration tests?")
    assert not answer.answerable
    assert any("The corpus has this for EU (Fixture Gadget Regulation), not for UK." in note for note in answer.notes)


def test_a_question_in_another_language_is_declined_with_the_reason(searcher):
    answer = ask(searcher, "Wie oft müssen Händler die Gadgets testen?")
    assert not answer.answerable and LANGUAGE_NOTE in answer.notes
    english = ask(searcher, "What annual licence fee must a gadget dealer pay?")
    assert not english.answerable and LANGUAGE_NOTE not in english.notes


def test_the_decline_note_speaks_of_the_passages_that_give_the_value(tmp_path):
    # The guidance names the Sprocket Office but gives no fee; the Widget Act gives one but never
    # names it: the passages shown name it, so the note must not say that none does.
    searcher = searcher_for(tmp_path, {
        "guidance.md": """
            # Sprocket Office guidance

            The Sprocket Office supervises sprocket dealers and their registration.

            The Sprocket Office reminds sprocket dealers of their registration duties.
            """,
        "act.md": """
            # Widget Act

            The registration fee is 700 credits for widget dealers.
            """})
    answer = ask(searcher, "What registration fee does the Sprocket Office charge sprocket dealers?")
    assert not answer.answerable
    assert answer.notes == ("Where the passages read give an amount, it is not about Sprocket Office.",)
    assert any("Sprocket Office" in hit.chunk.text for hit in answer.passages)


def test_another_law_that_mentions_the_asked_law_answers_only_for_itself(tmp_path):
    # A regulation that refers to the Widget Act defines its own "microdealer": not the Widget Act's.
    files = {"gadgets.md": """
            ---
            title: "Fixture Gadget Regulation"
            type: regulation
            ---
            # Gadget Regulation

            This Regulation applies to widget dealers authorised under the Widget Act.

            The annual turnover ceiling that defines a microdealer is EUR 2 million.
            """}
    question = "What annual turnover ceiling defines a microdealer under the Widget Act?"
    declined = ask(searcher_for(tmp_path / "one", files), question)
    assert not declined.answerable and any("Widget Act" in note for note in declined.notes)
    files["act.md"] = """
            ---
            title: "Fixture Widget Act"
            type: law
            ---
            # Widget Act

            The annual turnover ceiling that defines a microdealer is EUR 1 million.
            """
    answered = ask(searcher_for(tmp_path / "two", files), question)
    assert answered.answerable and "EUR 1 million" in answered.text


def test_the_noun_of_an_act_answers_for_its_verb(tmp_path):
    # "render a decision" is what "decide" asks about; the notice period around it is not.
    searcher = searcher_for(tmp_path, {"notices.md": """
            # Sprocket Board: complete applications

            The Sprocket Board shall notify the applicant within 10 days that a complete application was received.
            """, "timing.md": """
            # Timing

            The Sprocket Board shall render a decision on a complete application within 90 days.
            """})
    question = "How many days does the Sprocket Board have to decide on a complete application?"
    answer = ask(searcher, question)
    assert answer.answerable and answer.span.text.startswith("90 days")
    evidence = gather_evidence(searcher, question, 5)
    decision = next(c for c in evidence.candidates if "render a decision" in c.text)
    notice = next(c for c in evidence.candidates if "notify" in c.text)
    assert decision.focus == 1.0 > notice.focus  # every focus term, "decide" too, is in the decision


def test_a_date_of_something_else_the_question_does_not_name_is_weaker(tmp_path):
    # Asked when the gateway opens, a consultation's opening date is a date of another thing.
    files = {"cp.md": """
            ---
            title: "Widget Authority consultation on gadget firms"
            ---
            # Consultation on gadget firms

            Consultation opens: 16/12/2031
            """}
    question = "When does the Widget Authority authorisation gateway for gadget firms open?"
    without = gather_evidence(searcher_for(tmp_path / "one", files), question, 5)
    opening = next(c for c in without.candidates if "Consultation opens" in c.text)
    assert not opening.subject
    files["gateway.md"] = """
            # Gadget firms

            The Widget Authority gateway for gadget firms opens on 1 March 2032.
            """
    answer = ask(searcher_for(tmp_path / "two", files), question)
    assert answer.answerable and "1 March 2032" in answer.text


def test_the_documents_a_question_names_are_read_when_the_search_misses_them(tmp_path):
    # "UK banks" draws the Gizmo Act's passages on banks, none of which gives a date, before its date:
    # the act, which the question names, is searched again, so that its date is read (and, an EU act
    # asked for the UK, declined with what the corpus holds, when it scores high enough to say so).
    sections = "\n\n".join(f"## Banks {i}\n\nWhen UK banks apply the Gizmo Act, UK bank {i} does apply it to bank gizmo "
                            f"records of the banks of the UK." for i in range(14))
    files = {"gizmo.md": f"""---
title: "Gizmo Act"
jurisdiction: EU
---
# Gizmo Act

{sections}

## Application

The Gizmo Act shall apply from 17 January 2032.
"""}
    searcher = searcher_for(tmp_path, files)
    evidence = gather_evidence(searcher, "When does the Gizmo Act apply to UK banks?", 5)
    assert any("17 January 2032" in hit.chunk.text for hit in evidence.hits)
    assert any("17 January 2032" in c.text for c in evidence.candidates)
    assert not ask(searcher, "When does the Gizmo Act apply to UK banks?").answerable  # an EU act, asked for the UK


def test_the_body_that_answers_who_is_not_the_one_the_question_names(tmp_path):
    # "GD" is the question's own "gadget dealing", by its initials: the span is the Widget Board (WBA).
    searcher = searcher_for(tmp_path, {"regime.md": """
            # Proposed regimes

            Under the two proposed licensing regimes, the WBA will be the standard setter, responsible for the
            requirements applicable to licensed and registered GD dealing and custodian service providers.
            """})
    answer = ask(searcher, "Who will be the standard setter under the proposed licensing regimes for gadget "
                           "dealing and custodian service providers?")
    assert answer.answerable and answer.span.text == "WBA"


def test_a_quoted_term_the_corpus_never_uses_is_declined(searcher):
    answer = ask(searcher, "When does the 'sprocket levy' apply?")
    assert not answer.answerable and any("sprocket levy" in note for note in answer.notes)


def test_the_answer_does_not_depend_on_top_k(searcher):
    question = "How quickly must the Widget Commissioner acknowledge an application?"
    answers = [ask(searcher, question, k) for k in (1, 3, 8)]
    assert len({a.text for a in answers}) == 1 and answers[0].answerable
    one = answers[0]
    assert one.citation in {hit.rank for hit in one.passages}  # the cited passage is shown even beyond -k 1


def test_answer_lines_are_the_units_own_lines(searcher):
    answer = ask(searcher, "How quickly must the Widget Commissioner acknowledge an application?")
    corpus = searcher.index.corpus
    cited = next(hit for hit in answer.passages if hit.rank == answer.citation).chunk
    first, last = answer_lines(answer)
    lines = (corpus / cited.meta.source).read_text().splitlines()[first - 1:last]
    assert "within five working days" in " ".join(lines)


def test_switching_parts_off_changes_the_answer(searcher):
    question = "Who is the widget supervisor of a federal widget dealer?"
    assert '"widget supervisor" means' not in (ask(searcher, question, units=False).text or "")  # no lead-in
    assert ask(searcher, "How much is the widget application fee?", question_types=False).span is None


def test_ask_json_gives_the_answer_span_and_the_terminal_shows_the_decline_reason(searcher, tmp_path):
    import json

    from typer.testing import CliRunner

    from kb.cli import app

    env = {"KB_MODEL": "hash:64", "KB_INDEX": str(searcher.index.root), "COLUMNS": "200", "NO_COLOR": "1"}
    result = CliRunner().invoke(app, ["ask", "How much is the widget application fee?", "--json"], env=env)
    data = json.loads(result.output)
    span = data["answer_span"]
    assert data["answer_type"] == "amount" and span["kind"] == "amount"
    assert data["answer"][span["start"]:span["end"]] == span["text"] == "700 credits"
    declined = CliRunner().invoke(app, ["ask", "How often must UK gadget dealers run penetration tests?"], env=env)
    assert "No passage in the corpus answers this." in declined.output
    assert "The corpus has this for EU (Fixture Gadget Regulation), not for UK." in declined.output


def test_a_primary_text_that_agrees_is_cited_over_the_news(tmp_path):
    searcher = searcher_for(tmp_path, {
        "news.md": """
        ---
        title: "Fixture news: sprocket gateway to open"
        date: 2031-02-01
        type: news
        ---
        # Sprocket gateway

        The sprocket gateway opens on 1 June 2032, the Sprocket Board said.
        """,
        "rules.md": """
        ---
        title: "Fixture Sprocket Rules"
        date: 2031-01-15
        type: law
        ---
        # Sprocket Rules

        ## Commencement

        The sprocket gateway opens for applications on 1 June 2032.
        """,
    })
    answer = ask(searcher, "When does the sprocket gateway open?")
    cited = next(hit for hit in answer.passages if hit.rank == answer.citation).chunk
    assert answer.answerable and "1 June 2032" in answer.text and cited.meta.source == "rules.md"


def test_a_definition_made_of_conditions_is_answered_with_all_of_them(tmp_path):
    searcher = searcher_for(tmp_path, {
        "order.md": """
        ---
        title: "Fixture Gizmo Order"
        date: 2031-03-01
        type: regulation
        ---
        # Gizmo Order

        ## Qualifying gizmo

        7.(1) Subject to sub-paragraph (3), a “qualifying gizmo” is any gizmo which is—

        (a) portable; and

        (b) rechargeable.

        (2) A gizmo is portable where it weighs less than 2 kilograms.

        (3) A gizmo that is built into a vehicle is not a qualifying gizmo.
        """,
    })
    answer = ask(searcher, "What is a qualifying gizmo?")
    assert answer.answerable and "(a) portable; and (b) rechargeable." in answer.text, answer.text


def test_a_reference_must_be_what_the_answer_is_about(tmp_path):
    searcher = searcher_for(tmp_path, {
        "cp31-07.md": """
        ---
        title: "CP31/07: Widget custody (consultation page)"
        date: 2031-03-01
        type: consultation
        ---
        # CP31/07: Widget custody

        This consultation builds on our earlier CP31/02.

        Consultation closes: 12/05/2031
        """,
        "letters.md": """
        ---
        title: "Fixture Bulletin 2031-4"
        date: 2031-04-02
        type: guidance
        ---
        # Fixture Bulletin 2031-4

        The Board today issued Interpretive Letter 1190, which rescinds Interpretive Letter 1175 (June 3, 2030).
        """,
    })
    assert ask(searcher, "When does the CP31/07 consultation close?").answerable
    other = ask(searcher, "When does the consultation on CP31/02 close?")  # mentioned, but not what the page is
    assert not other.answerable and any("CP31/02" in note for note in other.notes)
    rescinded = ask(searcher, "Which interpretive letter did the Board rescind when it issued IL 1190?")
    assert rescinded.answerable and rescinded.span.text == "Interpretive Letter 1175"


def test_the_opposite_qualifier_is_not_the_answer(tmp_path):
    searcher = searcher_for(tmp_path, {
        "duty.md": """
        ---
        title: "Fixture Widget Duty letter"
        date: 2031-05-01
        type: guidance
        ---
        # Widget Duty

        The Duty comes into force for closed widget products on 31 July 2032.

        The Duty came into force for open widget products in July 2031.
        """,
    })
    answer = ask(searcher, "When did the Duty come into force for open widget products?")
    assert answer.answerable and answer.span.text == "July 2031"
    from kb.answer import _contrary
    from kb.index.lexical import tokenize
    from kb.question import analyse

    question = analyse("When did the Duty come into force for open widget products?")
    assert _contrary(question, set(tokenize("for closed widget products on 31 July 2032")))
    assert not _contrary(question, set(tokenize("for open widget products in July 2031")))


def test_the_answer_must_come_from_a_source_that_names_what_is_asked_about(searcher):
    # the fixture corpus has no text on a "Sprocketium" regime; the Widget Act "shall apply from 1 March 2032"
    answer = ask(searcher, "When does the Sprocketium regime apply?")
    assert not answer.answerable and any("Sprocketium" in note for note in answer.notes)
    assert ask(searcher, "When does the Widget Act apply?").answerable


def test_a_document_of_no_known_jurisdiction_does_not_answer_for_a_place_the_corpus_never_names(tmp_path):
    searcher = searcher_for(tmp_path, {
        "note.md": "# Note\n\nThe Sprocketium regime begins on 5 May 2032.\n",
    })
    assert not ask(searcher, "When does the Hong Kong sprocket regime begin?").answerable
    assert ask(searcher, "When does the Sprocketium regime begin?").answerable


def test_a_rulebook_that_never_says_where_it_applies_answers_for_the_place_its_corpus_names(tmp_path):
    searcher = searcher_for(tmp_path, {
        "about.md": "# About\n\nThese rules are made by the Sprocket Authority of Hong Kong.\n",
        "rules.md": "# Rules\n\n## Fees\n\nA sprocket licence costs 400 credits a year.\n",
        "other.md": "# Other\n\n## Fees\n\nIn Singapore, a gizmo licence costs 900 credits a year.\n",
    })
    answer = ask(searcher, "How much does a sprocket licence cost a year in Hong Kong?")
    assert answer.answerable and "400 credits" in answer.text
    declined = ask(searcher, "How much does a gizmo licence cost a year in Hong Kong?")
    assert not declined.answerable
    assert declined.notes and "for SG" in declined.notes[0] and "None" not in declined.notes[0]


def test_a_term_defined_by_one_item_of_a_list_of_definitions_is_answered_with_that_item(searcher):
    answer = ask(searcher, "What does the term widget mean?")
    assert answer.answerable and 'The term "widget" means a small regulated gadget.' in answer.text
    assert "widget supervisor" not in answer.text  # not the whole list of definitions


def test_who_published_a_document_is_answered_by_its_own_date_line(tmp_path):
    searcher = searcher_for(tmp_path, {
        "paper.md": """
        ---
        title: "Sprocket regime: policy paper"
        date: 2031-06-03
        ---
        # Sprocket regime: policy paper

        Sprocket Treasury policy paper, published 3 June 2031.

        In 2029 the Sprocket Council published a policy paper with detailed proposals for the sprocket regime.
        """,
    })
    answer = ask(searcher, "Who published the policy paper on the sprocket regime?")
    assert answer.answerable and answer.text.startswith("Sprocket Treasury policy paper"), answer.text


def test_the_rest_of_a_list_cut_by_the_chunker_is_read_even_when_the_search_did_not_return_it(tmp_path):
    filler = " ".join(["such an institution must keep its records in good order"] * 2)
    items = "".join(f"  - ({label}) with respect to a {kind}, {filler}, the {body};\n" for label, kind, body in
                    [("A", "bank", "Banking Board"), ("B", "credit union", "Credit Union Board"),
                     ("C", "state dealer", "State Office")])
    write(tmp_path / "corpus" / "act.md", "# Widget Act\n\n## Definitions\n\n- (25) The term “widget supervisor” means—\n"
          + items + "  - (D) with respect to a federal widget dealer, the Widget Commissioner.\n")
    settings = Settings(corpus=tmp_path / "corpus", index=tmp_path / "index", model="hash:64", chunk_tokens=110,
                        overlap_tokens=0)
    build_index(settings)
    searcher = Searcher(IndexReader.open(settings.index), HashEmbedder(64))
    question = "What does the term widget supervisor mean for a federal widget dealer?"
    assert "(D)" not in searcher.search(question, k=1)[0].chunk.text  # the search returns the lead-in's passage
    answer = answer_question(searcher, question, 1, settings=AnswerSettings(passages=1))
    assert answer.answerable
    assert answer.text == "(25) The term “widget supervisor” means— … (D) with respect to a federal widget dealer, the Widget Commissioner."
    cited = next(hit for hit in answer.passages if hit.rank == answer.citation)
    assert "(D)" in cited.chunk.text and answer.citation == 2  # the next passage, cited and listed after the one shown



def test_who_holds_a_role_at_a_named_body_needs_an_answer_about_that_role_and_body(tmp_path):
    searcher = searcher_for(tmp_path, {
        "act.md": "# Sprocket Act\n\nThe Sprocket Secretary shall serve as Chair of the Sprocket Review Committee.\n\n"
                  "The Sprocket Secretary shall consult the Widget Board on new sprocket rules.\n",
        "board.md": "# Widget Board\n\nThe Widget Board publishes its sprocket rules yearly.\n",
    })
    # The corpus names the Widget Board, and a chair, but never the Widget Board's chair.
    assert not ask(searcher, "Who is the chair of the Widget Board?").answerable
    answer = ask(searcher, "Who is the chair of the Sprocket Review Committee?")
    assert answer.answerable and "Sprocket Secretary" in answer.text


def test_an_answer_that_runs_into_the_next_passage_cites_both():
    from kb.models import Answer, Chunk, DocumentMeta, Hit

    meta = DocumentMeta("act.md", "act.md", "Gadget Act")
    first = Chunk(meta, "“controller” means a person who—\n(a) holds 12%; or", (), 0, 50, 28, 30)
    second = Chunk(meta, "(b) controls 12% of the votes;\n“20% controller” means", (), 51, 100, 32, 33)
    other = Chunk(DocumentMeta("b.md", "b.md", "B"), "text", (), 0, 4, 1, 1)
    passages = (Hit(first, 1, 1.0), Hit(other, 2, 0.9), Hit(second, 3, 0.8))
    across = Answer("q", "the list", True, passages, citation=1, lines=(28, 32))
    assert answer_citations(across) == (1, 3)
    within = Answer("q", "the list", True, passages, citation=1, lines=(28, 30))
    assert answer_citations(within) == (1,)


def test_the_qualifier_next_to_the_value_decides_whether_it_is_the_asked_ones(tmp_path):
    # The list gives the deadline of closed gadgets and only mentions open ones in passing.
    searcher = searcher_for(tmp_path, {"letter.md": """
            # Gadget Duty letter

            This letter sets out:

            - the application of the Gadget Duty to closed gadgets;
            - action prompts for firms before the 31 July 2034 deadline for closed gadgets (our website has examples for open gadgets too); and
            - a reminder of the rules.

            The Gadget Duty came into force for open gadgets in July 2033.
            """})
    answer = ask(searcher, "When must firms apply the Gadget Duty to open gadgets?")
    assert answer.answerable and "July 2033" in answer.text


def test_how_long_is_answered_by_the_date_a_period_ends(tmp_path):
    searcher = searcher_for(tmp_path, {"transition.md": """
            # Transitional measures

            Gadget dealers that dealt in gadgets before the Act may continue to deal in gadgets until 1 July 2032.

            Gadget dealers registered on 1 March 2031 shall report to the Board.
            """})
    answer = ask(searcher, "How long may gadget dealers that dealt in gadgets before the Act continue to deal in gadgets?")
    assert answer.answerable and answer.span.text == "1 July 2032"
    # a unit asked for ("within how many days") is still a duration's
    assert not ask(searcher, "Within how many days may gadget dealers continue to deal in gadgets?").answerable


def test_a_list_is_chosen_by_what_its_lead_in_says_it_is_of(tmp_path):
    # Both lists speak of gizmo entities; only the second is a list of them ("count as" = "considered").
    searcher = searcher_for(tmp_path, {"summary.md": """
            # Gizmo Regulation summary

            The Gizmo Regulation aims to curb gizmo fraud by laying down rules on:

            - measures gizmo firms and certain other businesses (gizmo entities) must take against fraud;
            - transparency requirements for gizmo owners; and
            - limits on anonymous gizmos.

            ## Key points

            The following are among the businesses considered gizmo entities:

            - gizmo banks;
            - gizmo auditors and gizmo accountants;
            - gizmo notaries.
            """})
    answer = ask(searcher, "Which businesses count as gizmo entities under the Gizmo Regulation?")
    assert answer.answerable and "gizmo notaries" in answer.text
