"""What a question asks for: the type of answer, the terms the answer must address, and the place.

    "What's the last day to comment on the FCA's proposed prudential regime?"
    → AnswerType.DEADLINE, focus {last, comment, fca, propos, prudenti, regim}, regulators {FCA}, UK

The answer type decides which typed spans (kb.spans) a sentence must hold to be the answer: a
"when" question is not answered by a sentence without a date, however close in meaning. The rules
are about English question forms and regulatory vocabulary, never about particular documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from kb.glossary import TERMS, named_regulators
from kb.index.lexical import tokenize
from kb.places import named_places, without_places
from kb.spans import SpanKind


class AnswerType(StrEnum):
    DATE = "date"  # when, on what date
    START = "start"  # from when: applies, takes effect, comes into force
    DEADLINE = "deadline"  # by when, the last day, until when
    DURATION = "duration"  # how long, within how many days, how often, how fast
    AMOUNT = "amount"  # how much, what fee, fine, threshold, percentage, number
    ORGANISATION = "organisation"  # who, which regulator, which firms
    PLACE = "place"  # where
    REFERENCE = "reference"  # which act, consultation paper, article; the reference number
    YES_NO = "yes-no"  # does, can, may, is ... required
    LIST = "list"  # which activities, what kinds of
    DEFINITION = "definition"  # what is X, how is X defined, what counts as X
    OTHER = "other"  # any other "what"


# The spans an answer of each type must contain (any one of them). Types not listed take any sentence.
REQUIRED_SPANS: dict[AnswerType, frozenset[SpanKind]] = {
    AnswerType.DATE: frozenset({SpanKind.DATE}),
    AnswerType.START: frozenset({SpanKind.DATE}),
    AnswerType.DEADLINE: frozenset({SpanKind.DATE, SpanKind.DURATION}),  # "within 90 days of the year end"
    AnswerType.DURATION: frozenset({SpanKind.DURATION}),
    AnswerType.AMOUNT: frozenset({SpanKind.AMOUNT}),
    AnswerType.ORGANISATION: frozenset({SpanKind.ORGANISATION}),
    AnswerType.PLACE: frozenset({SpanKind.PLACE}),
    AnswerType.REFERENCE: frozenset({SpanKind.REFERENCE}),
}
DATE_TYPES = frozenset({AnswerType.DATE, AnswerType.START, AnswerType.DEADLINE})


class Event(StrEnum):
    """What a date question asks about, and what a dated sentence says happens then."""

    START = "start"
    END = "end"
    PUBLISH = "publish"


@dataclass(frozen=True, slots=True)
class Question:
    text: str  # as asked (cleaned)
    type: AnswerType
    focus: frozenset[str]  # word tokens (kb.index.lexical.tokenize) an answer must address
    event: Event | None = None  # date questions: what the date is of
    jurisdictions: frozenset[str] = frozenset()  # canonical codes the question names ("UK", "EU")
    regulators: frozenset[str] = frozenset()  # canonical short names ("FCA", "SEC")
    anchors: tuple[str, ...] = ()  # references and quoted terms the question names ("CP25/42", "major")
    main_focus: frozenset[str] = frozenset()  # focus terms of the clause that asks (not of a condition before it)
    count: int | None = None  # "which three areas": how many items a list answer should have
    definiendum: str | None = None  # "what counts as inside information": the term to be defined
    required_terms: frozenset[str] = frozenset()  # "what annual fee": an amount answer must name a fee (or charge)
    time_unit: str | None = None  # "within how many hours": the unit a duration answer must be in
    plural: bool = False  # "which bodies", "which firms": several answers, a list fits
    names: tuple[str, ...] = ()  # proper names it asks about ("DORA", "Hong Kong", "Cunliffe"): the answer's source names one
    subject: str | None = None  # date questions: the head noun of what opens or applies ("when does the gateway open")
    notes: tuple[str, ...] = field(default=(), compare=False)  # why the type was chosen (for --explain/tests)

    @property
    def required_spans(self) -> frozenset[SpanKind]:
        return REQUIRED_SPANS.get(self.type, frozenset())

    @property
    def is_typed(self) -> bool:
        return bool(self.required_spans)


# --- the question sentence ---------------------------------------------------------------------

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def question_sentence(text: str) -> str:
    """The part that asks: the last sentence with a question mark ("Our scheme has 12 members. Does
    DORA apply to us?" asks "Does DORA apply to us?"), without a leading condition ("When a bank
    reports an incident, who is the report passed on to?" asks "who is the report passed on to?")."""
    sentences = [s for s in _SENTENCES.split(text.strip()) if s.strip()]
    asking = [s for s in sentences if "?" in s]
    sentence = (asking[-1] if asking else sentences[-1] if sentences else text).strip()
    if _CONDITION.match(sentence):
        main = _MAIN_CLAUSE.search(sentence)
        if main:
            return sentence[main.start(1):]
    return sentence


_CONDITION = re.compile(r"^\W*(?:if|when|once|after|before|where|while|although|though|since|unless|given|assuming|"
                        r"suppose|say|in\s+case)\b", re.I)
_MAIN_CLAUSE = re.compile(r",\s*((?:and\s+|then\s+|so\s+)?(?:what|what's|which|who|whom|whose|when|where|how|why|"
                          r"does|do|did|is|are|was|were|can|could|may|might|must|shall|should|will|would|has|have|had)\b.*)$",
                          re.I | re.S)


# --- type rules, tried in order ------------------------------------------------------------------

_AUX = r"(?:does|do|did|is|are|was|were|can|could|may|might|must|shall|should|will|would|has|have|had)"
_WH_WHEN_CONDITION = re.compile(r"^\W*when\s+(?:is|are|does|do)\b.{0,80}\b(?:treated|considered|regarded|deemed|counted|classed)\s+as\b|"
                             r"^\W*when\s+(?:is|are|does|do)\b.{0,80}\b(?:count|counts|qualify|qualifies)\s+as\b", re.I)
_FROM_WHEN = re.compile(r"\b(?:effective|commencement|application|start|go-live|entry\s+into\s+force)\s+date\b|"
                        r"\b(?:from|since|starting|beginning|as\s+of|with\s+effect\s+from)\s+(?:when|what\s+(?:date|day|time|year|month))\b"
                        r"|\b(?:what|which)\s+(?:date|day|year|month)\b.*\b(?:begin|began|start|started|commence\w*|take\s+effect|"
                        r"took\s+effect|come\s+into\s+force|came\s+into\s+force|apply|applies|open|opens)\b", re.I | re.S)
_START = re.compile(r"^\W*(?:and\s+|so\s+|but\s+)?(?:what|what's|whats|which|who|whom|whose|when|where|how|why|until|by|from|"
                       r"within|since|on|in|for|under|to|above|below|after|before|at|according|once)\b", re.I)
_YES_NO = re.compile(rf"^\W*{_AUX}\b|(?:^|[,;:-]\s*|\bor\s+){_AUX}\s+(?:it|that|this|they|we|i|he|she|there|the|a|an|\w+'s)\b|"
                     rf"\b(?:is|are)\s+(?:that|this|it)\s+(?:allowed|permitted|possible|required|ok|okay|legal)\b", re.I)
_WHEN_WORDS = r"(?:date|day|year|month|time|deadline|point)"
_DEADLINE = re.compile(
    r"\bwhen\s+(?:must|should|shall|do|does|did|will)\s+(?:\w+\s+){0,6}?(?:have\s+to\s+|need\s+to\s+|be\s+)?"
    r"(?:filed|submitted|reported|notified|paid|completed|made|sent|lodged|registered|file|submit|report|notify|pay|complete|"
    r"send|lodge|register|respond)\b|"
    r"\bby\s+(?:when|what\s+(?:date|day|time|point))\b|\buntil\s+(?:when|what\s+date)\b|\bdeadline\b|"
    r"\b(?:last|final|closing|latest)\s+(?:day|date)\b|\bno\s+later\s+than\s+when\b|\bdue\s+date\b|\bcut-?off\b|"
    r"\bhow\s+long\s+(?:do|does|did)\s+\w+(?:\s+\w+){0,3}\s+have\s+to\s+(?:respond|comment|reply|submit|object|apply)\b", re.I)
_WHEN_CONDITION = re.compile(r"^\W*when\s+(?:is|are|does|do)\b.{0,80}\b(?:treated|considered|regarded|deemed|counted|classed)\s+as\b|"
                             r"^\W*when\s+(?:is|are|does|do)\b.{0,80}\b(?:count|counts|qualify|qualifies)\s+as\b", re.I)
_FROM_WHEN = re.compile(r"\b(?:effective|commencement|application|start|go-live|entry\s+into\s+force)\s+date\b|"
                        r"\b(?:from|since|starting|beginning|as\s+of|with\s+effect\s+from)\s+(?:when|what\s+(?:date|day|time|year|month))\b"
                        r"|\b(?:what|which)\s+(?:date|day|year|month)\b.*\b(?:begin|began|start|started|commence\w*|take\s+effect|"
                        r"took\s+effect|come\s+into\s+force|came\s+into\s+force|apply|applies|open|opens)\b", re.I | re.S)
_START = re.compile(
    r"\b(?:from|since|starting|beginning|as\s+of|with\s+effect\s+from)\s+(?:when|what\s+(?:date|day|time|year|month))\b|"
    r"\bwhen\s+(?:does|do|did|will|would|is|are|was|were|shall)\b.*\b(?:apply|applies|take\s+effect|took\s+effect|"
    r"come\s+into\s+(?:force|effect|operation)|came\s+into\s+(?:force|effect)|enter\s+into\s+(?:force|application)|"
    r"commence|start|begin|kick\s+in|go\s+live|open|become\s+(?:effective|applicable|mandatory))\b", re.I | re.S)
_DATE = re.compile(
    rf"^\W*when\b|\b(?:what|which|on\s+what|on\s+which)\s+(?:exact\s+|precise\s+)?{_WHEN_WORDS}s?\b|"
    r"\bwhen\s+(?:exactly\s+)?(?:does|do|did|will|would|is|are|was|were|has|have|had|can|could|should|must|shall)\b|"
    r"\bin\s+what\s+year\b|\bhow\s+soon\s+will\b", re.I)
_TIME_UNITS = r"(?:seconds?|minutes?|hours?|days?|working\s+days?|business\s+days?|weeks?|months?|years?|quarters?)"
_DURATION = re.compile(
    rf"\bhow\s+(?:long|soon|quickly|fast|often|frequently|many\s+(?:\w+\s+)?{_TIME_UNITS})\b|"
    r"\bhow\s+much\s+(?:\w+\s+)?(?:time|longer|notice)\b|"
    rf"\bwithin\s+(?:how\s+(?:long|many)|what\s+(?:time|period|timeframe|time\s*frame|timescale))\b|"
    r"\b(?:what|which)\s+(?:is\s+the\s+)?(?:time\s+limit|time\s*frame|timescale|period|notice\s+period|frequency|interval|"
    r"retention\s+period|transition(?:al)?\s+period|grace\s+period)\b|\bfor\s+how\s+long\b|\bat\s+what\s+intervals?\b", re.I)
_AMOUNT_NOUNS = (r"(?:amount|amounts|sum|percentage|per\s*cent|proportion|share|shareholding|fee|fees|fine|fines|penalty|"
                 r"penalties|sanction|sanctions|threshold|thresholds|minimum|maximum|limit|limits|cap|caps|ceiling|floor|"
                 r"ratio|rate|rates|level|value|figure|number|capital|price|cost|costs|charge|charges|turnover|majority|"
                 r"headcount|range|size|multiple|leverage|margin|premium|salary|budget|levy|deposit|compensation)")
_AMOUNT = re.compile(
    rf"\bhow\s+(?:much|many|large|big|high|low|small)\b|"
    rf"\b(?:what|which|what's|whats)\s+(?:\w+[\s-]+){{0,3}}?{_AMOUNT_NOUNS}\b|"
    rf"\b(?:above|below|over|under|beyond|at|up\s+to)\s+what\s+(?:\w+\s+){{0,2}}?{_AMOUNT_NOUNS}?\b|"
    rf"\bwhat'?s?\s+(?:is\s+)?the\s+(?:most|least|highest|lowest|maximum|minimum|max|min)\b|"
    rf"^\W*(?:\w+[\s:-]+){{0,6}}?(?:maximum|minimum|upper|lower)\s+(?:\w+\s+){{0,3}}?{_AMOUNT_NOUNS}\b", re.I)
_ORGANISATION_NOUNS = (r"(?:regulators?|authority|authorities|bod(?:y|ies)|agenc(?:y|ies)|organi[sz]ations?|institutions?|"
                       r"firms?|entit(?:y|ies)|persons?|people|departments?|ministr(?:y|ies)|committees?|courts?|"
                       r"governments?|exchanges?|banks?|compan(?:y|ies)|officials?|officers?|supervisors?|"
                       r"issuers?|providers?|countr(?:y|ies)|member\s+states?|parties|party|posts?|roles?|positions?)")
_ORGANISATION = re.compile(
    rf"^\W*(?:who|whom|whose)\b|\bto\s+whom\b|\b(?:who|whom)\s+(?:must|should|shall|can|may|will|does|do|is|are)\b|"
    rf"\b(?:which|what)\s+(?:\w+[\s-]+){{0,3}}?{_ORGANISATION_NOUNS}\b|\bwhose\s+\w+", re.I)
_PLACE = re.compile(r"^\W*where\b|\bwhere\s+(?:do|does|did|is|are|was|were|should|must|can|will)\b|\bto\s+what\s+address\b|"
                    r"\bwhat\s+address\b|\bin\s+which\s+(?:country|place|city|member\s+state)\b", re.I)
_REFERENCE_NOUNS = (r"(?:act|acts|law|laws|statute|regulation|regulations|directive|rule|rules|rulebook|consultation\s+paper|"
                    r"consultation|policy\s+statement|paper|document|guidance|letter|interpretive\s+letter|bulletin|notice|"
                    r"circular|provision|section|article|paragraph|chapter|schedule|annex|instrument|order|"
                    r"reference(?:\s+number)?|citation|legislation|code|standard|report|publication)")
_REFERENCE = re.compile(
    rf"\b(?:which|what)\s+(?:\w+[\s-]+){{0,2}}?{_REFERENCE_NOUNS}\b(?!\s+(?:of|to|for)\s+(?:the|a|an)\s+\w+\s+(?:says|require))|"
    r"\bunder\s+(?:which|what)\s+(?:\w+\s+)?(?:provision|section|article|power|law|act|rule|regulation)\b|"
    r"\b(?:reference|document|paper)\s+number\b", re.I)
_DEFINITION = re.compile(
    r"^\W*what\s+(?:is|are)\s+(?:an?\s+)?(?!the\b)[\w'%-]+(?:\s+[\w'%-]+){0,3}"
    r"(?:\s+(?:according\s+to|under|in|for\s+the\s+purposes\s+of)\s+[\w'’ .-]{1,60})?\s*\?\s*$|"
    r"\bhow\s+(?:is|are|does|do)\b.*\b(?:defined|define|described|describe)\b|\bwhat\s+(?:does|do)\b.*\bmean\b|"
    r"\bwhat\s+is\s+meant\s+by\b|\b(?:what|who)\s+(?:counts|count|qualifies|qualify)\s+as\b|\bdefinition\s+of\b|"
    r"\bwhat\s+makes\s+(?:an?\s+|the\s+)?\w+|\bwhat\s+(?:is|are)\s+(?:an?\s+)?[\"'][^\"']+[\"']|"
    r"\bwhat\s+(?:does|do)\b.*\b(?:call|calls|term|terms|name)\b", re.I | re.S)
_LIST = re.compile(
    r"\b(?:which|what)\s+(?:(?:two|three|four|five|six|seven|eight|nine|ten|\d+)\s+)?(?:kinds?|types?|sorts?|categories|forms?)\s+of\b|"
    r"\b(?:which|what)\s+(?:(?:two|three|four|five|six|seven|eight|nine|ten|\d+)\s+)(?:\w+\s+){0,2}?\w+s\b|"
    r"\b(?:what|which)\s+(?:are\s+the|(?:\w+[\s-]+){0,2}?(?:activities|conditions|risks|reports|requirements|items|"
    r"elements|criteria|factors|steps|obligations|duties|powers|exemptions|exceptions|areas|businesses|assets|"
    r"services|products|measures|statements|documents|types|grounds|rights|outcomes|principles|matters|currencies|"
    r"behaviours?|behaviors?|practices|information|details|things|tasks|functions|parts|features|tools|methods|"
    r"changes|proposals|options))\b|\blist\b|\bname\s+(?:the|all)\b|\bwhat\s+(?:does|do|must|should|shall)\s+.*\b(?:contain|include|"
    r"cover|set\s+out|consist\s+of|comprise)\b", re.I | re.S)
_WHAT = re.compile(r"\bwhat\b|\bwhich\b|\bhow\b", re.I)

# Words that say which type is asked, not what about: they are not focus terms.
_TYPE_WORDS = frozenset(tokenize(
    "date day days year years month months time times deadline long soon quickly fast often frequently exactly exact "
    "precisely much many number amount figure list name names kind kinds type types sort sorts anyone someone "
    "us we our i my you your me last final latest earliest happen happens happened "
    "what's whats there here also still ever just really actually simply it its they them their be been being up all "
    "any some d s t hasn doesn isn aren wasn weren didn won wouldn couldn shouldn can't don't ll ve re "
    "under after before within without per between against about over through across during upon via along "
    "define defined definition mean means meaning someone something anything"))

_START_EVENT = re.compile(r"\b(?:apply|applies|applied|application|take\s+effect|took\s+effect|takes\s+effect|effect|effective|"
                          r"force|commence\w*|start\w*|begin\w*|began|kick\w*\s+in|go\s+live|open\w*|launch\w*\s+(?:of\s+)?the\s+regime)\b", re.I)
_END_EVENT = re.compile(r"\b(?:deadline|until|by\s+(?:when|what)|last\s+day|close|closes|closing|end|ends|expire\w*|respond\w*|"
                        r"comment\w*|submit\w*|reply|due|no\s+later)\b", re.I)
_PUBLISH_EVENT = re.compile(r"\b(?:publish\w*|issue\w*|release\w*|announc\w*|launch\w*|dated|date\s+of|deliver\w*|gave|give|"
                            r"sign\w*|adopt\w*|made|enact\w*|laid|speech)\b", re.I)


def _answer_type(asking: str) -> tuple[AnswerType, str]:
    """(type, the rule that chose it)."""
    has_wh = bool(re.search(r"\b(?:what|what's|whats|which|who|whom|whose|when|where|how)\b", asking, re.I))
    if re.match(rf"^\W*{_AUX}\b", asking, re.I) or not has_wh and _YES_NO.search(asking):
        return AnswerType.YES_NO, "yes/no form"  # "Is X bound by what ... says?" asks yes or no
    if _WHEN_CONDITION.search(asking):
        return AnswerType.DEFINITION, "when ... treated as: a condition, not a time"
    if _FROM_WHEN.search(asking):
        return AnswerType.START, "start"
    for kind, pattern in ((AnswerType.DEADLINE, _DEADLINE), (AnswerType.DURATION, _DURATION), (AnswerType.START, _START),
                          (AnswerType.DATE, _DATE), (AnswerType.DEFINITION, _DEFINITION), (AnswerType.PLACE, _PLACE)):
        if pattern.search(asking):
            return kind, kind.value
    phrase = _NOUN_PHRASE.search(asking)
    if phrase:  # "which X ...": X says what is asked for, or that it is no typed value ("what record")
        head = _head_type(phrase.group(1))
        return (head, "the noun asked about") if head else _untyped(asking)
    for kind, pattern in ((AnswerType.AMOUNT, _AMOUNT), (AnswerType.ORGANISATION, _ORGANISATION),
                          (AnswerType.LIST, _LIST)):
        if pattern.search(asking):
            return kind, kind.value
    return _untyped(asking)


def _untyped(asking: str) -> tuple[AnswerType, str]:
    if _LIST.search(asking):
        return AnswerType.LIST, "list"
    return AnswerType.OTHER, "no type cue"


# "which/what [the] NOUN PHRASE <verb or preposition>": the phrase's last noun says what is asked for.
_BOUNDARY = (r"(?:does|do|did|is|are|was|were|must|should|can|could|may|might|will|would|shall|has|have|had|makes?|made|"
             r"gave|gives?|applies|apply|counts?|sets?|said|says|gets?|got|needs?|takes?|took|brings?|withdr[ae]w|rescind\w*|"
             r"of|for|to|in|on|under|by|from|with|that|which|who|at|about|between|against|per|and\s+(?:from|by|when))")
_NOUN_PHRASE = re.compile(
    rf"\b(?:which|what|what's|whats)\s+(?:(?:is|are|was|were)\s+)?(?:the\s+|a\s+|an\s+)?"
    rf"(?!{_BOUNDARY}\b)((?:[\w'-]+\s+){{0,4}}?[\w'-]+)(?=\s+{_BOUNDARY}\b|\s*[?,.;:]|\s*$)", re.I)
_REFERENCE_COMPOUND = re.compile(r"\b(?:reference\s+number|consultation\s+paper|policy\s+statement|interpretive\s+letter|"
                                 r"legal\s+provision|statutory\s+instrument|discussion\s+paper|document\s+number)$", re.I)
_COUNTED = re.compile(r"^(?:two|three|four|five|six|seven|eight|nine|ten|\d+)\b", re.I)


# "Which interagency statements did the OCC withdraw from?" asks for several: a list, not one reference.
_LIST_PLURAL_REFERENCE = re.compile(r"\b(?:which|what)\s+(?:\w+[\s-]+){0,2}?(?:statements|documents|letters|bulletins|"
                                    r"notices|papers|reports|rules|regulations|acts|laws)\b", re.I)


def head_word(phrase: str) -> str:
    """The word of a "which/what ..." phrase that names the kind of answer (else its last word)."""
    words = phrase.casefold().split()
    named = [w for w in words if any(re.fullmatch(p, w) for p in (_ORGANISATION_NOUNS, _AMOUNT_NOUNS, _REFERENCE_NOUNS))]
    return named[-1] if named else words[-1] if words else ""  # "government bodies": the last one


def _head_type(phrase: str) -> AnswerType | None:
    """The type a "which/what ..." phrase asks for: its first word that names a kind of answer
    ("which regulator supervises ...", "what annual fee", "which government bodies"), else a plural
    or counted phrase asks for a list."""
    phrase = phrase.casefold()
    if _REFERENCE_COMPOUND.search(phrase):
        return AnswerType.REFERENCE
    words = phrase.split()
    for word in words:
        if re.fullmatch(_ORGANISATION_NOUNS, word):
            return AnswerType.ORGANISATION
        if re.fullmatch(_AMOUNT_NOUNS, word) or re.fullmatch(r"(?:maximum|minimum|max|min|highest|lowest|largest|smallest|"
                                                            r"upper|lower|total|most|least)", word):
            return AnswerType.AMOUNT
        if re.fullmatch(r"(?:date|day|year|month)s?", word):
            return AnswerType.DATE
        if re.fullmatch(r"(?:kinds?|types?|sorts?|categories|forms?)", word):
            return AnswerType.LIST
        if re.fullmatch(_REFERENCE_NOUNS, word):
            return AnswerType.LIST if _LIST_PLURAL_REFERENCE.search(f"which {word}") else AnswerType.REFERENCE
    head = words[-1]
    if _COUNTED.match(phrase) or (head.endswith("s") and not head.endswith(("ss", "us", "is")) and len(head) > 3):
        return AnswerType.LIST
    return None


# "Who published the policy note?", "which body issued the guidance?": the document's publisher, whose
# own line ("HM Treasury policy paper, published 29 April 2025") answers. ("Who may issue stablecoins?" does not ask this.)
_PUBLISHER_ASKED = re.compile(r"\bpublish\w*|\b(?:issu\w*|releas\w*|sign\w*|wrote|written|authored)\s+(?:\w+\s+){0,3}?"
                              r"(?:note|paper|guidance|bulletin|letter|report|consultation|statement|notice|circular|speech|"
                              r"document|polic\w*|order|rules?|regulations?|act|code|guide|handbook|framework)s?\b", re.I)


def _event(asking: str, kind: AnswerType) -> Event | None:
    if kind is AnswerType.ORGANISATION:
        return Event.PUBLISH if _PUBLISHER_ASKED.search(asking) else None
    if kind not in (AnswerType.DATE, AnswerType.START, AnswerType.DEADLINE):
        return None
    if kind is AnswerType.DEADLINE:
        return Event.END
    if kind is AnswerType.START:
        return Event.START
    if _PUBLISH_EVENT.search(asking):
        return Event.PUBLISH
    if _END_EVENT.search(asking):
        return Event.END
    if _START_EVENT.search(asking):
        return Event.START
    return None


# --- places and regulators the question names ----------------------------------------------------

def regulator_places(regulators: frozenset[str]) -> frozenset[str]:
    return frozenset(t.jurisdiction for t in TERMS if t.short in regulators and t.jurisdiction)


_ANCHOR_REFERENCE = re.compile(r"\b[A-Z]{1,5}\s?\d{1,4}(?:[/.-]\d{1,4})+[A-Z]?\b|\b(?:IL|CP|PS|DP|FG|SI)\s?\d{2,4}\b|"
                               r"\b\d{4}/\d{1,5}\b|\b(?:section|article|regulation|rule|paragraph)\s+\d+(?:[./]\d+)*[A-Z]?(?:\(\w+\))*",
                               re.I)
_QUOTED = re.compile(r"(?:(?<=[\s(])|^)[\"“‘']([^\"”’']{2,60})[\"”’'](?=[\s,.;:?!)]|$)")


def anchors_of(text: str) -> tuple[str, ...]:
    """References ("CP25/42", "section 5902") and quoted terms ("'major'") the question names."""
    found = [m.group(0) for m in _ANCHOR_REFERENCE.finditer(text)]
    found += [m.group(1).strip() for m in _QUOTED.finditer(text) if not re.fullmatch(r"s|t|re|ve|ll|d", m.group(1))]
    return tuple(dict.fromkeys(found))


# --- putting it together -------------------------------------------------------------------------


def analyse(text: str) -> Question:
    """The analysis of a cleaned question (see kb.search.clean_question)."""
    normal = text.translate(_QUOTES)
    asking = question_sentence(normal)
    kind, rule = _answer_type(asking)
    words = re.findall(r"[^\W_]+(?:['-][^\W_]+)*", normal)
    from kb.index.lexical import content_terms

    focus = frozenset(content_terms(" ".join(words)) - _TYPE_WORDS)
    phrase = _NOUN_PHRASE.search(asking)
    head = head_word(phrase.group(1)) if phrase else ""
    if kind in (AnswerType.ORGANISATION, AnswerType.PLACE):
        focus -= frozenset(tokenize(head))  # "which agency": the kind asked for, not a topic
    main_focus = focus & frozenset(content_terms(asking)) if asking != normal.strip() else focus
    regulators = named_regulators(normal)
    places = named_places(normal) | regulator_places(regulators)
    count = _count(asking) if kind is AnswerType.LIST else None
    anchors = anchors_of(normal)
    definiendum = _definiendum(asking) if kind is AnswerType.DEFINITION and not anchors else None
    required = frozenset()
    if kind is AnswerType.AMOUNT and re.fullmatch(_SUBSTANTIVE_AMOUNTS, head):
        required = frozenset(tokenize(head))
    unit = _TIME_UNIT_ASKED.search(asking) if kind is AnswerType.DURATION else None
    plural = kind in (AnswerType.ORGANISATION, AnswerType.PLACE) and head.endswith(("ies", "s")) \
        and not head.endswith(("ss", "us"))
    return Question(text, kind, focus, _event(asking, kind), places, regulators, anchors, main_focus,
                    count, definiendum, required, (unit.group(1) or unit.group(2)).casefold() if unit else None,
                    plural, proper_names(normal), _subject(asking) if kind in DATE_TYPES else None, (rule,))


# "When does the FCA authorisation gateway for cryptoasset firms open?": what the date is of, up to
# the verb of the event; its head noun is the last word before "for", "of", "to" ...
_SUBJECT = re.compile(
    r"^\W*when\s+(?:exactly\s+)?(?:does|do|did|will|would|is|are|was|were|shall|can)\s+(?:the\s+|a\s+|an\s+)?(.+?)\s+"
    r"(?:open|opens|apply|applies|start|begin|commence|take\s+effect|come\s+into\s+(?:force|effect|operation)|"
    r"enter\s+into|close|end|expire|go\s+live|launch|be\s+(?:launched|opened|introduced|available))\b", re.I)
_SUBJECT_CUT = re.compile(r"\s+(?:for|of|to|in|on|under|by|from|at|with)\s+.*$|'s?$|’s?$", re.I)
# Heads that name no particular thing: any provision, change or law "comes into force".
_VAGUE_SUBJECTS = frozenset(
    "it they this that these those most all some rule rules regulation regulations act law laws regime regimes framework "
    "change changes amendment amendments provision provisions requirement requirements obligation obligations "
    "measure measures part parts".split())
# A clause, not a noun phrase, stands before the verb: "did the CFTC say listed spot crypto would start".
_NOT_A_NOUN_PHRASE = frozenset("say says said would will could should must may might expect expects expected "
                               "announce announced think thinks".split())


def _subject(asking: str) -> str | None:
    """The head noun of what a date question asks about, when it is a common noun ("gateway"); names,
    pronouns and words any law uses of itself ("regulation") are left to other checks."""
    match = _SUBJECT.search(asking)
    if not match:
        return None
    phrase = _SUBJECT_CUT.sub("", match.group(1)).strip()
    words = phrase.split()
    if not words or len(words) > 6 or any(w.casefold() in _NOT_A_NOUN_PHRASE for w in words):
        return None
    head = words[-1]
    if not head.isalpha() or not head.islower() or head.casefold() in _VAGUE_SUBJECTS:
        return None
    return head


_NAME = re.compile(r"(?<![\w'’-])([A-Z][\w&’'-]*(?:\s+(?:of\s+|for\s+|and\s+)?[A-Z][\w&’'-]*)*)")
_NOT_NAMES = frozenset(
    "what when where which who whom whose why how does do did is are was were can could may might must shall should will "
    "would has have had i if a an the in on for from by under after before once our we my it this that there here "
    "january february march april may june july august september october november december".split())


def _only_places(name: str) -> bool:
    return not without_places(name)


def proper_names(text: str) -> tuple[str, ...]:
    """Capitalised names and acronyms of a question, but its first word and question words: what it is
    about ("When does the DORA regime begin?" → "DORA")."""
    names = []
    for sentence in _SENTENCES.split(text):
        for match in _NAME.finditer(sentence):
            words = match.group(1).split()
            if match.start() == 0 or words[0].casefold() in _NOT_NAMES:
                words = words[1:]
            # A possessive or a month ends a name: "Hong Kong's June 2025 consultation" names Hong Kong.
            kept = []
            for word in words:
                if word.casefold() in _NOT_NAMES:
                    break
                if word.endswith(("'s", "’s")):
                    kept.append(word[:-2])
                    break
                kept.append(word)
            name = " ".join(kept)
            # Places are not names here: the jurisdiction check answers for them, with a better note.
            if len(name) > 1 and name.casefold() not in _NOT_NAMES and not _only_places(name):
                names.append(name)
    return tuple(dict.fromkeys(names))


# Amounts of a named kind: the answer must name it too ("what annual fee" is not answered by a fine).
# Measure words ("limit", "figure", "threshold", "cap") say only that a number is wanted.
_SUBSTANTIVE_AMOUNTS = (r"(?:fee|fees|fine|fines|penalty|penalties|sanctions?|capital|price|prices|cost|costs|charge|charges|levy|"
                        r"salary|premium|premiums|turnover|leverage|compensation|deposit|deposits|payment|payments)")
_TIME_UNIT_ASKED = re.compile(r"\bhow\s+many\s+(?:\w+\s+)?(hour|day|week|month|year)s?\b|\bwithin\s+how\s+many\s+(?:\w+\s+)?"
                              r"(hour|day|week|month|year)s?\b", re.I)


_DEFINIENDUM = re.compile(r"\b(?:what\s+(?:is|are)\s+the\s+(?:legal\s+)?(?:definition|meaning)s?\s+of|what\s+(?:is|are)(?:\s+meant\s+by)?|what\s+counts\s+as|who\s+counts\s+as|definition\s+of|"
                          r"how\s+(?:is|are)|what\s+(?:does|do))\s+(?:an?\s+|the\s+)?(?:(?:term|word|expression|phrase)\s+)?((?:[a-z]|\d+(?:\.\d+)?%)[\w-]*(?:\s+[a-z][\w-]*){0,3}?)"
                          r"(?=\s+(?:about|under|in|for|of|within|mean|means|defined|described|according|by|as|on)\b|\s*[?,]|$)", re.I)


def _definiendum(asking: str) -> str | None:
    """"What counts as inside information about a crypto-asset?" → "inside information"."""
    match = _DEFINIENDUM.search(asking)
    return match.group(1).strip() if match else None


_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_COUNTED_LIST = re.compile(r"\b(?:which|what|the|name|list)\s+(?:are\s+the\s+)?(two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+\w+",
                           re.I)


def _count(asking: str) -> int | None:
    match = _COUNTED_LIST.search(asking)
    if not match:
        return None
    word = match.group(1).casefold()
    return int(word) if word.isdigit() else _COUNT_WORDS[word]


# --- the language asked in ----------------------------------------------------------------------

# kb's question analysis, its abbreviations and its types read English. A question in another language
# is searched all the same, but when nothing answers, the reason is most likely the language: say so.
_ENGLISH_WORDS = frozenset(
    "the a an of to in on at for is are was were be been what when where who whom whose which how why does do did will "
    "would can could may might must should shall by from with under and or not any this that these those there it its "
    "has have had if than".split())
# Function words of the languages a European regulatory user may ask in, none of them an English word.
_OTHER_WORDS = frozenset(
    # German
    "wann wie wer wem wen welche welcher welches welchen ist sind der das dem den des und oder nicht für mit von zu "
    "zur zum auf bei tritt gilt gelten muss müssen kann können wird werden ein eine einer eines einem einen ab seit "
    # French
    "quand quel quelle quels quelles qui quoi est sont les des une du au aux pour avec dans sur doit doivent peut "
    "peuvent le la et ne pas il elle ils en entre vigueur "
    # Spanish, Portuguese, Italian
    "cuándo cuando qué quién quiénes cuál cuáles cómo los las el del una para por con debe deben puede pueden "
    "quando qual quais quem como são os da das dos uma com pode podem quale quali chi che è sono il gli della delle "
    "deve devono può "
    # Dutch
    "wanneer wat welke hoe zijn het een van voor moet moeten treedt".split())


def seems_english(text: str) -> bool:
    """False when a question is plainly in another language: mostly in another script, or with more
    function words of another European language than of English ("Wann tritt MiCA in Kraft?")."""
    letters = [c for c in text if c.isalpha()]
    latin = sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f")
    if letters and latin < 0.7 * len(letters):
        return False
    words = re.findall(r"[^\W\d_]+", text.casefold())
    english = sum(1 for w in words if w in _ENGLISH_WORDS)
    other = sum(1 for w in words if w in _OTHER_WORDS)
    return not (other >= 2 and other > english)
