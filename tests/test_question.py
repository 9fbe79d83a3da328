"""Question analysis: the answer type asked for, what the answer must address, and where."""

import pytest

from kb.index.lexical import tokenize
from kb.question import AnswerType as T
from kb.places import places_fit
from kb.question import Event, analyse, question_sentence, seems_english


@pytest.mark.parametrize("question, kind", [
    # dates, and what the date is of
    ("When do widget licences open?", T.START),
    ("When did the Authority publish its gadget guidance?", T.DATE),
    ("On what date was the sprocket notice issued?", T.DATE),
    ("In what year did the regime begin?", T.START),
    ("From when do the sprocket rules apply?", T.START),
    ("From what date does the gadget regulation apply?", T.START),
    ("When does the widget regulation come into force?", T.START),
    # deadlines
    ("By when must firms apply?", T.DEADLINE),
    ("What is the deadline for returns?", T.DEADLINE),
    ("What is the last day to comment on the widget proposals?", T.DEADLINE),
    ("Until when can stakeholders respond to the consultation?", T.DEADLINE),
    ("When must the annual sprocket return be filed?", T.DEADLINE),
    # durations
    ("How long does the Board have to decide on an application?", T.DURATION),
    ("Within how many days must a dealer register?", T.DURATION),
    ("How often must firms test their gadgets?", T.DURATION),
    ("How quickly must an incident be reported?", T.DURATION),
    ("How much extra time did firms get?", T.DURATION),
    # amounts
    ("How much is the application fee?", T.AMOUNT),
    ("What amount must be held in reserve?", T.AMOUNT),
    ("What penalties can the Board impose?", T.AMOUNT),
    ("What is the maximum fine for a breach?", T.AMOUNT),
    ("What's the most the overseer can charge per day?", T.AMOUNT),
    ("Below what annual turnover can a club be exempted?", T.AMOUNT),
    ("Upper turnover limit for a 'small firm'?", T.AMOUNT),
    # organisations and places
    ("Who supervises sprocket firms?", T.ORGANISATION),
    ("Which regulator supervises sprockets?", T.ORGANISATION),
    ("Which firms may hold client gadgets?", T.ORGANISATION),
    ("Which government bodies launched the consultation?", T.ORGANISATION),
    ("When a bank reports an incident to its supervisor, who is the report passed on to?", T.ORGANISATION),
    ("Where does a firm file its application?", T.PLACE),
    # references
    ("Which consultation paper sets out the gadget rules?", T.REFERENCE),
    ("What's the reference number of the widget guidance?", T.REFERENCE),
    ("Under which legal provision is the guidance issued?", T.REFERENCE),
    ("Which Act gave the Board its powers?", T.REFERENCE),
    # yes / no
    ("Can the Board refuse an incomplete application?", T.YES_NO),
    ("Does the gadget regulation apply to small firms?", T.YES_NO),
    ("Is the Board bound by what its guidance says?", T.YES_NO),
    ("Our scheme has twelve members. Does the regulation apply to us?", T.YES_NO),
    ("We want to use our own testers every time — is that allowed?", T.YES_NO),
    ("If an applicant misses the deadline, can the Board decline the application?", T.YES_NO),
    # lists, definitions, the rest
    ("Which activities does the widget regime cover?", T.LIST),
    ("What kinds of behaviour count as market manipulation?", T.LIST),
    ("Which three areas did the speech discuss?", T.LIST),
    ("What does an application have to contain?", T.LIST),
    ("What is a payment widget?", T.DEFINITION),
    ("How does the Act define 'digital gadget'?", T.DEFINITION),
    ("What counts as inside information?", T.DEFINITION),
    ("What record must firms keep of their contracts?", T.OTHER),
    ("Why do gadgets need registration?", T.OTHER),
])
def test_answer_type(question, kind):
    assert analyse(question).type is kind


@pytest.mark.parametrize("question, event", [
    ("When did the Authority publish its gadget guidance?", Event.PUBLISH),
    ("When do widget licences open?", Event.START),
    ("By when must firms apply?", Event.END),
    ("What is the date of the letter?", Event.PUBLISH),
    ("How long is the transition?", None),
    ("Who published the gadget guidance?", Event.PUBLISH),  # the publisher: the document's own line names it
    ("Which body issued the policy note?", Event.PUBLISH),
    ("Who may issue gadget tokens?", None),  # issuing tokens, not a document
])
def test_what_a_date_question_is_about(question, event):
    assert analyse(question).event is event


def test_focus_terms_leave_out_question_words_and_the_kind_asked_for():
    question = analyse("When does the Widget Authority's gateway open for sprocket dealers?")
    assert question.focus == frozenset(tokenize("Widget Authority gateway open sprocket dealers"))
    assert "agenc" not in analyse("Which agency supervises sprocket dealers?").focus


def test_the_clause_that_asks_is_found_after_a_preamble_or_condition():
    assert question_sentence("Our scheme has twelve members. Does the Act apply to us?") == "Does the Act apply to us?"
    assert question_sentence("If a firm misses the deadline, can the Board refuse it?") == "can the Board refuse it?"
    question = analyse("If a firm misses the deadline, can the Board refuse the application?")
    assert question.main_focus == frozenset(tokenize("Board refuse application"))
    assert question.main_focus < question.focus


def test_places_and_regulators_named():
    question = analyse("Which UK regulator will supervise widget custody, and when does the FCA decide?")
    assert question.jurisdictions == {"UK"} and question.regulators == {"FCA"}
    assert analyse("When does the SEC custody rule take effect?").jurisdictions == {"US"}
    assert analyse("Can you tell us when it applies?").jurisdictions == frozenset()  # "us" the pronoun
    assert analyse("What do Hong Kong and Singapore require?").jurisdictions == {"HK", "SG"}


def test_places_fit_free_zones_and_unknowns():
    assert places_fit(frozenset({"ADGM"}), "UAE") and places_fit(frozenset({"UAE"}), "ADGM")
    assert not places_fit(frozenset({"UK"}), "EU")
    assert places_fit(frozenset({"UK"}), None)  # an undated, unplaced document is not ruled out


def test_anchors_counts_and_what_must_be_named():
    question = analyse("What does 'digital gadget' mean under section 12(3) of CP31/07?")
    assert set(question.anchors) == {"digital gadget", "section 12(3)", "CP31/07"}
    assert analyse("What's the deadline? It's in Bob's note.").anchors == ()  # apostrophes are not quotes
    # a numbered regulation is named by its whole number, not by its year ("2024" is in any 2024 date)
    assert analyse("When does the gadget regulation 2031/1624 apply?").anchors == ("regulation 2031/1624",)
    assert analyse("What are the four outcomes of the widget duty?").count == 4
    assert analyse("What annual fee does the Board charge?").required_terms == frozenset({"fee"})
    assert analyse("What headcount limit applies?").required_terms == frozenset()  # a measure word, not a kind
    assert analyse("Within how many hours must an incident be notified?").time_unit == "hour"
    assert analyse("What counts as inside information about a gadget?").definiendum == "inside information"
    assert analyse("What does the term widget dealer mean?").definiendum == "widget dealer"  # "the term" is not part of it
    assert analyse("What is a 12% controller under the Gadget Act?").definiendum == "12% controller"
    assert analyse("What is a 12% controller?").type is T.DEFINITION
    assert analyse("What is the definition of gadget service provider under the Act?").definiendum == "gadget service provider"
    assert analyse("Which government bodies launched it?").plural


def test_forms_an_outside_test_found():
    assert analyse("How long does the Secretary of the Treasury have to decide?").jurisdictions == frozenset()
    assert analyse("When is someone treated as engaging in insider dealing?").type is T.DEFINITION
    assert analyse("What is the effective date of the Widget Act?").type is T.START
    assert analyse("What are qualifying widgets according to the Board?").type is T.DEFINITION


@pytest.mark.parametrize("question, english", [
    ("When do widget licences open?", True),
    ("Who chairs the Autorité des marchés financiers?", True),  # a foreign name in an English question
    ("What is the Banco de España's deadline under the Ley de Mercados?", True),
    ("Does the BaFin Merkblatt on Kryptoverwahrung apply to banks?", True),
    ("Wann tritt die Verordnung in Kraft?", False),
    ("Quand le règlement entre-t-il en vigueur ?", False),
    ("¿Cuándo entra en vigor el reglamento?", False),
    ("Wanneer treedt de verordening in werking?", False),
    ("Когда вступает в силу регламент?", False),
    ("法规何时生效?", False),
])
def test_a_question_in_another_language_is_told_apart(question, english):
    assert seems_english(question) is english


@pytest.mark.parametrize("question, subject", [
    ("When does the widget authorisation gateway for gadget firms open?", "gateway"),
    ("When will the FCA gateway open?", "gateway"),
    ("When does the transitional period end?", "period"),
    ("When does DORA apply?", None),  # a name: the names check speaks for it
    ("When do the widget rules come into force?", None),  # any law's rules "come into force"
    ("When did most of the Gadget Regulations 2031 come into force?", None),
    ("When did the Board say gadget trading would start?", None),  # a clause, not a thing
    ("How much is the widget fee?", None),  # not a date question
])
def test_the_subject_of_a_date_question(question, subject):
    assert analyse(question).subject == subject
