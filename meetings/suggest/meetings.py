"""Meeting mentions: sentences where two or more resolved officials interact.

A trigger (met, held talks with, spoke by phone, video conference, paid a courtesy call on,
will meet, summit between ...) is paired with the named persons in its clause: the subject
group on its left (conjoined "X and Y", or "his" for the clause's subject) and the object
group on its right. Date, location, occasion and status are read from the trigger's clause
only. Follow-up sentences ("In the talks held in Seoul, ...") and an unnamed lead sentence
("The two countries held talks Tuesday ...") add what the naming sentence left out.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field

from .dates import find_dates
from .names import Mention
from .text import Sentence

# ------------------------------------------------------------------------------- triggers
_NOUNS = r"(?:talks|meeting|meetings|summit|consultations?|dialogue|discussions?|session|conversation|negotiations|parley|tete-a-tete|get-together)"


@dataclass(frozen=True)
class TriggerType:
    pattern: re.Pattern[str]
    mode: str
    kind: str
    strength: str  # strong | weak (weak: only with conjoined subjects)
    between: bool = False


def _t(rx: str, mode: str = "in_person", kind: str = "talks", strength: str = "strong", between: bool = False):
    return TriggerType(re.compile(rx, re.I), mode, kind, strength, between)


TRIGGERS: list[TriggerType] = [
    _t(r"\b(?:phone|telephone)\s+(?:call|talks|conversation|conference)s?\s+between\b", "phone", "phone_call", between=True),
    _t(r"\b(?:video|virtual)\s*(?:conference|call|link|meeting|summit|talks|conversation)s?\s+between\b", "video", "talks", between=True),
    _t(r"\b" + _NOUNS + r"\s+between\b", between=True),
    _t(r"\b(?:spoke|speak|speaks|speaking|talked|talk|talks|conversed|held\s+talks|holds\s+talks)\s+(?:by|over\s+the|on\s+the|via)\s+(?:tele)?phone(?:\s+with)?\b", "phone", "phone_call"),
    _t(r"\b(?:(?:held|had|holds|has|hold|have|holding|having)\s+(?:a\s+|an\s+|their\s+)?)?(?:[\w-]+\s+)?(?:tele)?phone\s+(?:call|talks|conversation|conference)s?(?:\s+with)?\b", "phone", "phone_call"),
    _t(r"\b(?:phoned|telephoned)\b", "phone", "phone_call"),
    _t(r"\breceived\s+(?:a|an)\s+(?:[\w-]+\s+)?(?:phone\s+|telephone\s+)?call\s+from\b", "phone", "phone_call"),
    _t(r"\b(?:(?:held|had|holds|has|hold|have)\s+(?:a\s+|an\s+|their\s+)?)?(?:video|virtual)\s*(?:conference|call|link|meeting|summit|talks|conversation)s?(?:\s+with)?\b", "video", "talks"),
    _t(r"\bvideoconference(?:\s+with)?\b", "video", "talks"),
    _t(r"\b(?:spoke|talked|met)\s+(?:by|via|over)\s+video(?:\s+link)?(?:\s+with)?\b", "video", "talks"),
    _t(r"\bpaid\s+(?:a\s+)?courtesy\s+(?:call|visit)s?\s+(?:on|to)\b", kind="courtesy_call"),
    _t(r"\bcourtesy\s+(?:call|meeting)\s+(?:on|with)\b", kind="courtesy_call"),
    _t(r"\bcalled\s+on\b", kind="courtesy_call"),
    _t(r"\b(?:held|had|holds|has|hold|have|holding|having)\s+(?:a\s+|an\s+|their\s+|the\s+|his\s+|her\s+)?(?:[\w\"“”'’-]+\s+){0,4}?"
       + _NOUNS + r"(?:[\"”’]?\s+(?:session|meeting|talks|format)s?)?(?:\s+with)?\b"),
    _t(r"\b(?:met|meet|meets|meeting)\s+(?:\w+ly\s+)?with\b", kind="talks"),
    _t(r"\b(?:discussed|discusses|discuss)\b[^,.;]{0,60}?\bwith\b(?=\s+(?:(?-i:[A-Z])|his\s|her\s))", kind="talks"),
    _t(r"\bco-?(?:chaired|chair|chairs|hosted)\b", kind="talks"),
    _t(r"\bmeeting\b(?=\s+(?:visiting\s+|his\s+|her\s+)?(?-i:[A-Z]))", kind="talks"),
    _t(r"\b(?:met|meet|meets)\b(?!\s+(?:the\s+)?(?:press|reporters|journalists|media|expectations|demands|requirements|criteria|target|goal|deadline|needs))", kind="talks"),
    _t(r"\b" + _NOUNS + r"\s+with\b"),
    _t(r"\b(?:told|urged|asked|thanked|assured|briefed)\b(?=\s+(?:the\s+)?visiting\s+(?-i:[A-Z]))", kind="talks"),
    _t(r"\b(?:sat\s+down|conferred|consulted|spoke|speaks|speak|talked|talk)\s+(?:\w+ly\s+)?with\b", kind="talks"),
    _t(r"\b(?:hosted|hosts|host|received|receives|welcomed|welcomes)\b(?=\s+(?:visiting\s+|his\s+|her\s+)?(?-i:[A-Z]))", kind="talks"),
    _t(r"\b(?:discussed|discuss|agreed|exchanged\s+views|shook\s+hands|concurred|reaffirmed)\b", kind="talks", strength="weak"),
]

_PLANNED = re.compile(
    r"\b(?:will|'ll|shall|would|plans?\s+to|planning\s+to|planned\s+to|scheduled\s+to|set\s+to|"
    r"expected\s+to|due\s+to|slated\s+to|poised\s+to|is\s+to|are\s+to|were\s+to|was\s+to|"
    r"likely\s+to|intends?\s+to|upcoming|forthcoming|planned|proposed|possible|potential|"
    r"expected|scheduled|next\s+(?:week|month)|tomorrow|later\s+this|(?-i:could|might|may))\b",
    re.I,
)
_PLANNED_AFTER = re.compile(
    r"^\s*(?:[^,.;]{0,40}?)\b(?:will\s+take\s+place|is\s+(?:scheduled|set|expected|slated|planned)|"
    r"are\s+(?:scheduled|set|expected|slated|planned)|will\s+be\s+held)\b", re.I)
_NEGATED = re.compile(
    r"\b(?:not|never|no|n't|declined\s+to|refused\s+to|cancell?ed|postponed|called\s+off|scrapped|"
    r"instead\s+of|rather\s+than|without)\b\s+(?:\w+\s+){0,3}$", re.I)
_SAME_DAY = re.compile(r"\b(?:later|earlier)\s+(?:in\s+)?(?:the|that)\s+day\b|\bthe\s+same\s+day\b", re.I)
_CALLED_OFF = re.compile(
    r"\b(?:was|were|has\s+been|have\s+been|had\s+been|is|are|got|been)\s+(?:\w+\s+)?"
    r"(?:postponed|cancell?ed|called\s+off|scrapped|delayed|put\s+off|suspended)\b", re.I)
_EXCLUDED_EVENT = re.compile(
    r"\b(?:reception|ceremony|ceremonies|banquet|gala|funeral|memorial\s+service|celebration|"
    r"inauguration|parade|wedding|photo\s+op(?:portunity)?|toast)\b", re.I)
_REAL_TALKS = re.compile(r"\b(?:talks|summit|bilateral|sidelines|discussed|phone|video|negotiations|consultations)\b", re.I)

_BOUNDARY = re.compile(
    r";|\b(?:said|says|saying|told|according\s+to|announced|noting|adding)\b|"
    r",\s*(?:which|who|whom|where|while|when|but)\b|"
    r"\b(?:after|before|since|ahead\s+of|following|while|whereas|although|though|because|as)\b|"
    r"\bwhen\b|\bof\s+which\b",
    re.I,
)
_TITLE_GAP = re.compile(
    r"^(?:\s|,|\.|"
    r"\b(?:his|her|their|the|a|an|visiting|acting|former|outgoing|incoming|new|newly|appointed|top|"
    r"of|for|to|and|counterparts?|vice|deputy|foreign|defen[cs]e|minister|secretary|president|prime|"
    r"chief|envoy|ambassador|special|representative|national|security|adviser|advisor|senior|first|"
    r"under|assistant|director|leader|gen|general|then|current|premier|chancellor|trade|finance|"
    r"on|with|late|early|earlier|later|today|yesterday|also)\b|"
    r"\b[A-Z][\w.'’&-]*|['’]s\b|\(\w+\))*$"
)
_CONJ_GAP = re.compile(
    r"^\s*(?:,\s*(?:and\s+)?|and\s+|&\s+)(?:(?:both\s+)?(?:his|her|the|visiting|acting|former|top|of|for|to|the|"
    r"counterpart|vice|deputy|foreign|defen[cs]e|minister|secretary|president|prime|chief)\b\s*|"
    r"[A-Z][\w.'’&-]*\s*|['’]s\s*|,\s*)*$"
)
_PRONOUN = re.compile(r"\b(?:he|she)\s+(?:(?!said|says|told)\w+\s+){0,4}$", re.I)
_HYPOTHETICAL = re.compile(
    r"\b(?:willing|ready|open|wants?|wanted|hopes?|hoped|hoping|would\s+like|offered|offering|"
    r"proposed|proposing|urged|urging|called\s+for|seeks?|seeking|sought|asked|requested|eager|"
    r"keen|if|unless|whether)\s+(?:\w+\s+){0,2}$", re.I)
_POSSESSOR = re.compile(r"\b(?:his|her)\s+(?:\w+\s+){0,2}$", re.I)


@dataclass
class Evidence:
    start: int
    end: int
    text: str


@dataclass
class MeetingMention:
    """A meeting as the article reports it, before cross-article matching."""

    participants: list[str]
    status: str = "held"
    mode: str = "in_person"
    kind: str = "talks"  # talks | summit | courtesy_call | strategic_dialogue | phone_call (Meeting.Kind)
    date: str | None = None
    precision: str | None = None
    location: str | None = None
    location_level: int = 0  # 2: "in <place>", 1: "at the <venue>"
    occasion: str | None = None
    topics: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    confidence: float = 0.0
    signals: dict = field(default_factory=dict)
    sentence_ids: set[int] = field(default_factory=set)
    reported: str | None = None  # the article's base date, for same_meeting's date windows


# ------------------------------------------------------------------------------- topics
TOPICS: dict[str, tuple[str, ...]] = {
    "north_korea": ("north korea", "pyongyang", "denuclearization", "denuclearisation", "dprk", "kim jong"),
    "nuclear_missile": ("nuclear", "missile", "icbm", "ballistic"),
    "alliance": ("alliance", "allies", "ironclad"),
    "defense": ("defense", "defence", "military", "troops", "forces", "deterrence", "deter", "drone", "arms"),
    "trade": ("trade", "tariff", "customs", "export", "import", "deal"),
    "economy": ("economic", "economy", "investment", "currency", "supply chain", "finance"),
    "technology": ("technology", "technologies", "artificial intelligence", " ai ", "semiconductor", "chip", "quantum", "science", "biotechnology"),
    "shipbuilding": ("shipbuilding", "shipyard", "mro", "maintenance, repair"),
    "energy": ("energy", "lng", "oil", "gas", "nuclear energy"),
    "trilateral_japan": ("trilateral", "japan"),
    "china": ("china", "beijing", "chinese"),
    "russia_ukraine": ("russia", "ukraine", "moscow", "kyiv"),
    "climate": ("climate", "carbon", "emission"),
    "diplomacy_summit": ("summit",),
}


def topics_of(text: str) -> list[str]:
    low = " " + text.lower() + " "
    return sorted(k for k, words in TOPICS.items() if any(w in low for w in words))


# ------------------------------------------------------------------------------- location
_MONTHS_DAYS = {
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sept", "Sep", "Oct", "Nov",
    "Dec", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "The", "A", "An",
    "His", "Her", "Their", "This", "That", "Korean", "American", "Japanese", "Chinese", "South", "North",
}
_AFTER_OK = {
    "on", "for", "to", "and", "with", "last", "this", "earlier", "later", "as", "amid", "after", "before",
    "at", "in", "while", "ahead", "during", "where", "since", "from", "under", "over", "early", "late",
    "next", "that", "which", "when", "but", "tomorrow", "today", "yesterday", "just", "two", "three", "a",
}
_BEFORE_OK = re.compile(
    r"(?:\b(?:met|meet|meets|meeting|meetings|talks|held|hold|holds|summit|session|conference|dialogue|"
    r"discussions|consultations|visit|visiting|hosted|together|call|took\s+place|take\s+place|place|"
    r"again|also|later|earlier|yesterday|today|morning|afternoon|evening|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|\d{1,2}|"
    r"counterpart|counterparts)|[,)]|[A-Z][\w'’-]*)\s*$"
)
_CITY = re.compile(r"\bin\s+(?P<loc>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,2})(?P<dc>,?\s*D\.?C\.?)?")
_CITY_OF = re.compile(r"\b(?:city|capital|town|island|province|port)\s+of\s+(?P<loc>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)")
_VISIT = re.compile(r"\b(?:visit|visits|visited|visiting|trip\s+to|travel\s+to|travels\s+to|traveled\s+to|travelled\s+to)\s+"
                    r"(?P<loc>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)(?=[^,;.]{0,40}\b(?:to\s+(?:hold|meet|have)|for\s+(?:talks|a\s+meeting|meetings|a\s+summit)))")
_WELCOME_TO = re.compile(r"\b(?:welcomed|welcomes|welcoming)\b[^,;]{0,80}?\bto\s+(?P<loc>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})")
_VENUE = re.compile(r"\bat\s+the\s+(?P<loc>(?:[A-Z][\w'’.-]*\s?){1,5})")
_OCCASION = re.compile(
    r"\b(?:on\s+the\s+(?:sidelines|margins)\s+of|on\s+the\s+occasion\s+of|during|on\s+the\s+eve\s+of)\s+"
    r"(?:the\s+|a\s+|an\s+|his\s+|her\s+|their\s+)?(?P<occ>[^,;.()]+?)"
    r"(?=\s+(?:in|on|at|to|where|which|when|last|this|earlier|next|that|amid|after|before)\b|\s*[,;(]|\.(?:\s|$)|$)"
)
_OCCASION_WORD = re.compile(
    r"[Ss]ummit|[Ff]orum|[Cc]onference|[Mm]eeting|[Ss]ession|[Aa]ssembly|[Dd]ialogue|[Gg]ames|[Ee]xpo|"
    r"G7|G20|G-20|APEC|ASEAN|NATO|BRICS|\b[A-Z][a-z]+\s+[A-Z]"
)
_MODE_PHONE = re.compile(r"\b(?:by|via|over\s+the|on\s+the)\s+(?:tele)?phone\b|\b(?:tele)?phone\s+(?:call|talks|conversation)", re.I)
_MODE_VIDEO = re.compile(r"\b(?:by|via|over)\s+video\b|\bvideo\s*(?:link|conference|call)|\bvideoconferenc|\bvirtual(?:ly)?\b", re.I)


def find_occasion(text: str, lo: int, hi: int) -> str | None:
    for m in _OCCASION.finditer(text, lo, hi):
        occ = m.group("occ").strip()
        if _OCCASION_WORD.search(occ) and len(occ) <= 90 and any(c.isupper() for c in occ):
            return occ
    return None


def _strip_loc(loc: str) -> str:
    loc = re.sub(r"\s+", " ", loc).strip(" .,")
    loc = re.sub(r"['’]s$", "", loc)
    return loc


def find_location(text: str, lo: int, hi: int, trigger_at: int) -> tuple[str | None, int]:
    """(place, level) stated inside text[lo:hi]: "in <City>" beats "at the <Venue>"."""
    best: tuple[int, int, str] | None = None  # (level, -distance, place)
    for rx, level in ((_CITY_OF, 2), (_CITY, 2), (_VISIT, 2), (_WELCOME_TO, 2), (_VENUE, 1)):
        for m in rx.finditer(text, lo, hi):
            loc = m.group("loc")
            words = loc.split()
            while words and (words[-1] in _MONTHS_DAYS or not words[-1][:1].isupper()):
                words.pop()
            if not words or words[0] in _MONTHS_DAYS or re.match(r"\d", words[0]):
                continue
            loc = " ".join(words)
            end = m.start("loc") + len(loc)
            if level == 2 and rx is _CITY:
                before = text[max(0, m.start() - 30):m.start()]
                if not _BEFORE_OK.search(before):
                    continue
                after = re.match(r"\s*(?:,\s*D\.?C\.?)?\s*([A-Za-z]+)?", text[end:hi] + " ")
                nxt = after.group(1) if after else None
                if nxt and nxt.islower() and nxt not in _AFTER_OK:
                    continue
                if words[-1] in ("Korean", "American", "Japanese", "Chinese"):
                    continue
            loc = _strip_loc(loc)
            if level == 1 and len(loc.split()) == 1 and loc.isupper():
                continue
            cand = (level, -abs(m.start() - trigger_at), loc)
            if best is None or cand > best:
                best = cand
    return (best[2], best[0]) if best else (None, 0)


# ------------------------------------------------------------------------------- extraction
@dataclass
class _Hit:
    start: int
    end: int
    trig: TriggerType


_ANY_TRIGGER = re.compile(
    r"talk|meet|\bmet\b|summit|call|phone|video|virtual|courtesy|host|receiv|welcom|discuss|agree|"
    r"conferr|consult|sat\s+down|conversation|dialogue|session|negotiat|shook|concurred|reaffirm|parley|"
    r"tete|get-together|visiting",
    re.I,
)


def _triggers_in(text: str, lo: int, hi: int) -> list[_Hit]:
    hits: list[_Hit] = []
    if not _ANY_TRIGGER.search(text, lo, hi):
        return hits
    for trig in TRIGGERS:
        for m in trig.pattern.finditer(text, lo, hi):
            if any(m.start() < h.end and h.start < m.end() for h in hits):
                continue
            hits.append(_Hit(m.start(), m.end(), trig))
    return sorted(hits, key=lambda h: h.start)


def _is_possessive(text: str, m: Mention) -> bool:
    return bool(re.match(r"['’]s\b", text[m.end:m.end + 3]))


def _group_right(text: str, ms: list[Mention], at: int, hi: int) -> list[Mention]:
    group: list[Mention] = []
    for m in ms:
        if m.start < at or m.start >= hi:
            continue
        gap = text[at if not group else group[-1].end:m.start]
        if not group:
            if len(gap) > 90 or not _TITLE_GAP.match(gap) or _BOUNDARY.search(gap):
                break
            if _is_possessive(text, m):
                break
            group.append(m)
        elif _CONJ_GAP.match(gap) and not _is_possessive(text, m):
            group.append(m)
        else:
            break
    return group


def _group_left(text: str, ms: list[Mention], at: int, lo: int) -> list[Mention]:
    before = [m for m in ms if lo <= m.start and m.end <= at]
    group: list[Mention] = []
    for m in reversed(before):
        if not group:
            gap = text[m.end:at]
            if _is_possessive(text, m):
                # "Lee's meeting with Ishiba"
                if re.fullmatch(r"['’]s\s+(?:[\w-]+\s+){0,2}", gap):
                    group.insert(0, m)
                    continue
                break
            # skip one relative clause: "Cho, who arrived on Wednesday, is to meet ..."
            gap = re.sub(r"^\s*,\s*who\b[^,;]{0,80},\s*", " ", gap)
            if len(gap) > 70 or _BOUNDARY.search(gap) or "," in gap.strip(", ") and not _TITLE_GAP.match(gap):
                break
            group.insert(0, m)
        else:
            gap = text[m.end:group[0].start]
            if _CONJ_GAP.match(gap) and not _is_possessive(text, m):
                group.insert(0, m)
            else:
                break
    return group


def _scope(text: str, lo: int, hi: int, a: int, b: int) -> tuple[int, int]:
    """The trigger's clause: from the last boundary before `a` to the first boundary after `b`."""
    start = lo
    for m in _BOUNDARY.finditer(text, lo, a):
        start = m.end()
    m = _BOUNDARY.search(text, b, hi)
    return start, (m.start() if m else hi)


def extract_meetings(
    text: str,
    sentences: list[Sentence],
    mentions: list[Mention],
    base: dt.date | None,
) -> list[MeetingMention]:
    """Meeting mentions of one article, merged per participant set (see module docstring)."""
    raw: list[MeetingMention] = []
    per_sentence: dict[int, list[MeetingMention]] = {}
    antecedent: dict[int, tuple[int, int]] = {}
    followups: dict[int, tuple[int, int]] = {}
    for si, sent in enumerate(sentences):
        ms = [m for m in mentions if sent.start <= m.start < sent.end]
        hits = _triggers_in(text, sent.start, sent.end)
        found: list[MeetingMention] = []
        objects: set[int] = set()
        prev_end = sent.start
        for h in hits:
            far: set[int] = set()
            pronoun_used = False
            lo = prev_end
            right = _group_right(text, ms, h.end, sent.end) if not h.trig.between else []
            if h.trig.between:
                right = _group_right(text, ms, h.end, sent.end)
                left: list[Mention] = []
            else:
                left = _group_left(text, ms, h.start, lo)
                pre = text[max(sent.start, h.start - 20):h.start]
                if not left and _POSSESSOR.search(pre):
                    cands = [m for m in ms if m.end <= h.start and id(m) not in objects and not _is_possessive(text, m)]
                    cands = [m for m in cands if m.key not in {r.key for r in right}]
                    if cands:
                        left = [cands[-1]]
                        far.add(id(cands[-1]))
                pron = _PRONOUN.search(text[lo:h.start]) if not left and not _BOUNDARY.search(
                    text[h.start - len(_PRONOUN.search(text[lo:h.start]).group()) if _PRONOUN.search(text[lo:h.start]) else h.start:h.start].split(" ", 1)[-1]) else None
                if not left and pron:
                    p_at = lo + pron.start()
                    window_lo = sentences[max(0, si - 2)].start
                    cands = [m for m in mentions if window_lo <= m.start and m.end <= p_at
                             and id(m) not in objects and not _is_possessive(text, m)
                             and m.key not in {r.key for r in right}]
                    if cands:
                        left = [cands[-1]]
                        far.add(id(cands[-1]))
                        pronoun_used = True
                if not left:
                    rel = re.search(r",\s*who\s+(?:\w+\s+){0,3}$", text[lo:h.start])
                    if rel:
                        owner = [m for m in ms if m.end <= lo + rel.start() and not text[m.end:lo + rel.start()].strip()]
                        if owner:
                            left = [owner[-1]]
                if not left and right:
                    after = [m for m in ms if m.start >= right[-1].end]
                    if after:
                        gap = text[right[-1].end:after[0].start]
                        if "," in gap and len(gap) < 60 and not _BOUNDARY.search(gap.split(",")[0] + " "):
                            left = [after[0]]
            if h.trig.strength == "weak" and (right or len(left) < 2):
                continue
            if not left and not h.trig.between:
                # the other side is not named ("the two leaders met", "the venue hosted X and Y")
                if si not in antecedent:
                    antecedent[si] = _scope(text, sent.start, sent.end, h.start, h.end)
                prev_end = max(prev_end, h.end)
                continue
            people = []
            for m in left + right:
                if m.key not in [p.key for p in people]:
                    people.append(m)
            for m in right:
                objects.add(id(m))
            if len(people) < 2:
                if (not people or len({p.key for p in ms}) < 2) and si not in antecedent:
                    antecedent[si] = _scope(text, sent.start, sent.end, h.start, h.end)
                prev_end = max(prev_end, h.end)
                continue
            group_lo = min([p.start for p in people if id(p) not in far] + [h.start])
            group_hi = max(max(p.end for p in people), h.end)
            s_lo, s_hi = _scope(text, lo, sent.end, min(group_lo, h.start), group_hi)
            clause = text[s_lo:s_hi]
            pre = text[max(s_lo, group_lo - 5):h.start] if not far else text[s_lo:h.start]
            if _NEGATED.search(text[max(sent.start, h.start - 40):h.start]) or _HYPOTHETICAL.search(
                    text[max(sent.start, h.start - 40):h.start]):
                prev_end = group_hi
                continue
            if _EXCLUDED_EVENT.search(text[sent.start:sent.end]) and not _REAL_TALKS.search(text[h.start:h.end]) \
                    and not re.search(r"sidelines|margins", clause):
                prev_end = group_hi
                continue
            planned = bool(_PLANNED.search(pre + text[h.start:h.end])) or bool(
                re.search(r"\b(?:upcoming|forthcoming|planned|proposed|next)\s+(?:\w+\s+)?$", text[max(sent.start, h.start - 30):h.start], re.I)
            ) or bool(_PLANNED_AFTER.match(text[h.end:s_hi + 60]))
            if h.trig.strength == "weak" and planned:
                continue
            if _CALLED_OFF.search(text, h.end, sent.end):
                prev_end = group_hi
                continue
            mm = MeetingMention(
                participants=[p.key for p in people],
                status="planned" if planned else "held",
                mode=h.trig.mode,
                kind=h.trig.kind,
            )
            if re.search(r"\bsummit", text[h.start:h.end], re.I):
                mm.kind = "summit"
            elif mm.kind == "talks" and re.search(r"\bstrategic\s+dialogue\b", clause, re.I):
                mm.kind = "strategic_dialogue"
            dates = find_dates(clause, base, future=planned)
            rel = re.match(r"\s*,\s*who\b[^,;]{0,80},", text[left[-1].end:sent.end]) if left else None
            if rel and left[-1].end + rel.end() <= h.start:
                # a relative clause about the subject ("who arrived on Tuesday") dates something else
                r_lo, r_hi = left[-1].end - s_lo, left[-1].end + rel.end() - s_lo
                dates = [d for d in dates if not (r_lo <= d.start < r_hi)]
            if dates:
                d = min(dates, key=lambda d: abs(s_lo + d.start - h.start))
                mm.date, mm.precision = d.value, d.precision
            if mm.date is None and _SAME_DAY.search(clause):
                earlier = [r for r in raw + found if r.date and r.precision == "day"]
                if earlier:
                    mm.date, mm.precision = earlier[-1].date, "day"
            mm.location, mm.location_level = find_location(text, s_lo, s_hi, h.start)
            if mm.location is None and re.match(r"\s*where\b", text[s_lo - 6:s_lo + 1].split(",")[-1] + " "):
                places = [w.group(1) for w in re.finditer(r"\b(?:in|for|to)\s+([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,2})",
                                                          text[max(sent.start, s_lo - 80):s_lo])
                          if w.group(1).split()[0] not in _MONTHS_DAYS]
                if places:
                    mm.location, mm.location_level = _strip_loc(places[-1]), 2
            mm.occasion = find_occasion(text, sent.start, sent.end)
            if mm.mode == "in_person":
                if _MODE_VIDEO.search(clause):
                    mm.mode = "video"
                elif _MODE_PHONE.search(clause):
                    mm.mode, mm.kind = "phone", "phone_call"
            mm.topics = topics_of(sent.text)
            mm.evidence = [Evidence(sent.start, sent.end, sent.text)]
            mm.sentence_ids = {si}
            who = {}
            for p in people:
                via = p.how
                if id(p) in far:
                    via = "pronoun" if pronoun_used else "possessor"
                who[p.key] = via
            mm.signals = {
                "strength": h.trig.strength,
                "who": who,
                "crowd": len({m.key for m in ms}) > len(people),
                "mentions": 1,
                "speculative": bool(re.search(r"\b(?:could|might|may)\b", pre)),  # lowercase: not the month
            }
            if left and right:
                more = re.match(r"[^.;]{0,50}?(?:\band|,)\s+(?:later\s+|then\s+|also\s+)?with\s+", text[right[-1].end:sent.end])
                if more:
                    at2 = right[-1].end + more.end()
                    right2 = _group_right(text, ms, at2, sent.end)
                    if right2 and not {r.key for r in right2} & {p.key for p in people}:
                        second = copy.deepcopy(mm)
                        second.participants = [p.key for p in left] + [r.key for r in right2]
                        second.signals["who"] = {**{p.key: who[p.key] for p in left}, **{r.key: r.how for r in right2}}
                        end2 = _scope(text, at2, sent.end, at2, right2[-1].end)[1]
                        d2 = find_dates(text[at2:end2], base, future=planned)
                        if d2:
                            second.date, second.precision = d2[0].value, d2[0].precision
                        loc2, lvl2 = find_location(text, at2, end2, at2)
                        if loc2:
                            second.location, second.location_level = loc2, lvl2
                        found.append(second)
                        objects.update(id(r) for r in right2)
            if len(left) == 1 and len(right) >= 2 and re.search(r"\bseparate(?:ly)?\b", text[max(sent.start, h.start - 40):s_hi]):
                for r in right:
                    one = copy.deepcopy(mm)
                    one.participants = [left[0].key, r.key] if left[0].key != r.key else [r.key]
                    one.signals["who"] = {left[0].key: who[left[0].key], r.key: r.how}
                    if len(one.participants) == 2:
                        found.append(one)
            else:
                found.append(mm)
            prev_end = group_hi
        if found:
            per_sentence[si] = found
            raw.extend(found)
        elif re.match(r"^\W*(?:(?:In|During|At|After|Before|Following)\s+)?(?:the|their|this|that|[A-Z]\w+['’]s)\s+(?:\w+\s+){0,2}?"
                      + _NOUNS + r"\b", sent.text):
            followups[si] = _scope(text, sent.start, sent.end, sent.start + 1, sent.start + 1)

    # follow-up sentences fill what the naming sentence left out
    for si, (lo, _hi) in sorted(followups.items()):
        k = si - 1
        while k >= 0 and k not in per_sentence and k in followups:
            k -= 1
        if k < 0 or k not in per_sentence:
            continue
        names = {m.key for m in mentions if sentences[si].start <= m.start < sentences[si].end}
        targets = [m for m in per_sentence[k] if names & set(m.participants)] or per_sentence[k][-1:]
        target = targets[-1]
        per_sentence.setdefault(si, [])
        _fill(target, text, lo, sentences[si].end, base, sentences[si], si, followup=True)

    # an unnamed lead sentence ("The two countries held talks Tuesday") dates the next one
    for si, (lo, hi) in antecedent.items():
        nxt = per_sentence.get(si + 1)
        if nxt and not per_sentence.get(si):
            _fill(nxt[0], text, lo, hi, base, sentences[si], si, followup=False)

    return _merge(raw, base)


def _fill(mm: MeetingMention, text: str, lo: int, hi: int, base, sent: Sentence, si: int, *, followup: bool) -> None:
    if mm.date is None:
        dates = find_dates(text[lo:hi], base, future=mm.status == "planned")
        if dates:
            mm.date, mm.precision = dates[0].value, dates[0].precision
            mm.signals["date_from_context"] = True
    loc, level = find_location(text, lo, hi, lo)
    if loc and level > mm.location_level:
        mm.location, mm.location_level = loc, level
        mm.signals["location_from_context"] = True
    if mm.occasion is None:
        mm.occasion = find_occasion(text, sent.start, sent.end)
    if followup:
        mm.signals["followup"] = True
    if True:
        mm.evidence.append(Evidence(sent.start, sent.end, sent.text))
        mm.sentence_ids.add(si)
        mm.topics = sorted(set(mm.topics) | set(topics_of(sent.text)))


def _compatible(a: MeetingMention, b: MeetingMention, base: dt.date | None) -> bool:
    if a.mode != b.mode and "weak" not in (a.signals["strength"], b.signals["strength"]):
        return False
    if a.status != b.status and base is not None:
        held = a if a.status == "held" else b
        if held.date and held.date < (base - dt.timedelta(days=1)).isoformat()[: len(held.date)]:
            return False
    if a.date and b.date:
        n = min(len(a.date), len(b.date))
        if a.date[:n] != b.date[:n]:
            return False
    return True


def _merge(raw: list[MeetingMention], base: dt.date | None = None) -> list[MeetingMention]:
    merged: list[MeetingMention] = []
    for mm in raw:
        target = next((m for m in merged if set(m.participants) == set(mm.participants) and _compatible(m, mm, base)), None)
        if target is None:
            merged.append(mm)
            continue
        target.signals["mentions"] += 1
        if mm.status == "held" and target.status == "planned":
            target.status = "held"
            if mm.date:
                target.date, target.precision = mm.date, mm.precision
        if mm.date and (not target.date or len(mm.date) > len(target.date)):
            target.date, target.precision = mm.date, mm.precision
        if mm.location_level > target.location_level:
            target.location, target.location_level = mm.location, mm.location_level
        if target.mode == "in_person" and mm.mode != "in_person" and target.signals["strength"] == "weak":
            target.mode = mm.mode
        if target.kind == "talks" and mm.kind != "talks":
            target.kind = mm.kind
        target.occasion = target.occasion or mm.occasion
        if target.signals["strength"] == "weak" and mm.signals["strength"] == "strong":
            target.signals["strength"] = "strong"
        for key, via in mm.signals["who"].items():
            if _RANK.get(via, 9) < _RANK.get(target.signals["who"].get(key, ""), 9):
                target.signals["who"][key] = via
        target.signals["speculative"] = target.signals["speculative"] and mm.signals["speculative"]
        target.signals["crowd"] = target.signals["crowd"] and mm.signals["crowd"]
        for ev in mm.evidence:
            if all(ev.start != e.start for e in target.evidence):
                target.evidence.append(ev)
        target.sentence_ids |= mm.sentence_ids
        target.topics = sorted(set(target.topics) | set(mm.topics))
    # an undated meeting shares a sentence with a dated one of a common participant
    for m in merged:
        if m.date is None and m.status == "held":
            for o in merged:
                if o is not m and o.date and o.precision == "day" and o.status == "held" \
                        and m.sentence_ids & o.sentence_ids and set(m.participants) & set(o.participants):
                    m.date, m.precision = o.date, o.precision
                    m.signals["date_inherited"] = True
                    break
    for m in merged:
        m.reported = base.isoformat() if base else None
        m.evidence.sort(key=lambda e: e.start)
        m.confidence = confidence(m)
    return merged


# How a participant was identified, most certain first; a merged meeting keeps each
# participant's best identification.
_RANK = {"gazetteer": 0, "title": 1, "appositive": 1, "counterpart": 1, "ner": 2, "coref": 2,
         "title_ref": 2, "surname": 3, "bare": 4, "title_only": 5, "possessor": 5, "pronoun": 6}


def confidence(m: MeetingMention) -> float:
    """A score in [0, 1] from the evidence's shape; calibrated on the dev and synthetic sets."""
    s = m.signals
    score = 0.86 if s["strength"] == "strong" else (0.78 if s.get("followup") else 0.6)
    hows = set(s["who"].values())
    if hows <= {"gazetteer"}:
        score += 0.06
    if "title_only" in hows:
        score -= 0.15
    if "title_ref" in hows:
        score -= 0.05
    if s.get("speculative"):
        score -= 0.15
    if "bare" in hows:
        score -= 0.1
    if "surname" in hows:
        score -= 0.08
    if "pronoun" in hows:
        score -= 0.15
    if hows & {"appositive", "counterpart", "title"}:
        score -= 0.02
    if "possessor" in hows:
        score -= 0.04
    if s.get("crowd"):
        score -= 0.04  # other officials in the sentence: the pairing could be wrong
    score += min(0.06, 0.03 * (s["mentions"] - 1))
    if len(m.participants) > 2:
        score -= 0.05
    return round(max(0.05, min(0.99, score)), 3)
