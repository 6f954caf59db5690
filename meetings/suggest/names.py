"""Officials in article text: a gazetteer of known persons, title and appositive rules for
unknown names, surname coreference, and title-only mentions resolved by the caller.

Names compare as the scoring contract says: casefold, strip accents, drop every non-letter,
so "Park Yoon-Joo", "Park Yoon Joo" and "park yoonjoo" are one key. Romanisation variants
("Cho Hyoung" for Cho Hyun) match only when listed as aliases; fuzzy similarity is used to
*suggest* aliases (same family name), never to merge (NLP-NOTES §3.6).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from rapidfuzz.distance import JaroWinkler


@lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """Casefold, strip accents, keep letters only: the contract's name key."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed.casefold() if c.isalpha() and not unicodedata.combining(c))


# ---------------------------------------------------------------------------------- tokens
_WORD = re.compile(r"[^\W\d_]+(?:[-‐‑'’][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"[’']s$")


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str
    possessive: bool = False

    @property
    def norm(self) -> str:
        return normalize_name(self.text)


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Word tokens (hyphenated and apostrophe pieces kept together; possessive 's split off)."""
    out = []
    for m in _WORD.finditer(text, start, len(text) if end is None else end):
        word = m.group()
        poss = bool(_POSSESSIVE.search(word)) and len(word) > 2
        if poss:
            word = word[:-2]
        out.append(Token(m.start(), m.start() + len(word), word, poss))
    return out


def _joined(text: str, a: Token, b: Token) -> bool:
    """Two tokens are parts of one name only if separated by a space, hyphen or an initial's dot."""
    gap = text[a.end:b.start]
    return not a.possessive and bool(re.fullmatch(r"\.?[ \t\-‐‑]{1,2}|[\-‐‑]", gap))


NAME_PARTICLES = {"von", "van", "der", "den", "de", "la", "le", "du", "da", "dos", "das", "di", "del", "bin", "al", "ibn", "ter"}


def _particle(toks: list[Token], j: int, text: str) -> bool:
    """A lowercase name particle ("von der", "de", "bin") inside a name."""
    k = j
    while k < len(toks) and toks[k].text in NAME_PARTICLES:
        k += 1
    return k > j and k < len(toks) and is_name_like(toks[k]) and _joined(text, toks[k - 1], toks[k])


def is_name_like(tok: Token) -> bool:
    w = tok.text
    return (w[:1].isupper() and any(c.islower() for c in w) and normalize_name(w) not in STOP
            and w not in HEADS_CAP)


# Capitalised words that are not personal names: places, organisations, months, function words.
STOP = {normalize_name(w) for w in """
the a an and of for to in on at by with from as but or nor he she they it his her their its we
this that these those there here after before during since while when where who which what why
how said says also both all mr mrs ms dr
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december
south north east west eastern western southern northern korea korean koreans us usa america
american americans united states state kingdom nations union european europe asia asian pacific
japan japanese china chinese russia russian ukraine ukrainian india indian taiwan france french
germany german britain british uk australia australian canada canadian vietnam philippines
mongolia israel iran iraq saudi arabia turkey italy spain mexico brazil singapore indonesia
thailand seoul washington tokyo beijing pyongyang moscow kyiv london paris berlin brussels
busan incheon gyeongju jeju dc republic democratic people peoples federal presidential national
international foreign affairs defense defence army navy air force forces marine marines corps
staff joint chiefs chief security council ministry minister department office house white blue
policy science technology ict information communications economy economic finance trade
industry energy commerce treasury justice unification interior health labor education
environment agriculture transport land infrastructure oceans fisheries culture sports tourism
gender equality welfare employment veterans patriots planning budget management strategy
strategic political military intelligence homeland agency administration command commission
committee embassy consulate bureau service services assembly parliament congress senate
government cabinet party court bank fund prize award peace palace forum summit conference
treaty accord agreement act law auditorium hotel museum tower building stadium airport
however meanwhile earlier later speaking asked separately still yet officials sources analysts
observers experts critics lawmakers reporters journalists residents citizens visitors
breaking update exclusive analysis opinion editorial photo video watch read more related
mellon zone meeting meetings ministerial dialogue session talks declaration statement initiative
program programme project plan strategy organization organisation institute centre center
university news yonhap reuters afp ap tass xinhua kyodo press agency global world region
regional peninsula sea strait island islands city province county district gen adm lt col maj
capt sgt acting vice deputy first second third senior principal special assistant under
executive general secretary ambassador president premier envoy representative spokesperson
spokesman spokeswoman director chairman chairwoman chair leader speaker governor mayor
commissioner adviser advisor counselor counsellor administrator king queen prince emperor
senator sen rep congressman congresswoman sheikh emir crown prime top former then new current
""".split()}

HEAD_WORDS = {
    "minister", "secretary", "undersecretary", "ambassador", "president", "premier", "chancellor",
    "director", "envoy", "representative", "chairman", "chairwoman", "chairperson", "chair",
    "commander", "general", "gen", "admiral", "adm", "senator", "sen", "rep", "governor", "mayor",
    "adviser", "advisor", "counselor", "counsellor", "king", "queen", "prince", "emperor",
    "leader", "speaker", "commissioner", "spokesperson", "spokesman", "spokeswoman",
    "administrator", "congressman", "congresswoman", "lt", "col", "chief", "mr", "mrs", "ms", "dr",
    "sheikh", "emir", "diplomat",
}
HEADS_CAP = {w.capitalize() for w in HEAD_WORDS} - {"Chief", "General"}
_ABBREV_HEADS = {"gen", "adm", "lt", "col", "sen", "rep", "mr", "mrs", "ms", "dr"}
_NAME_CONNECTORS = {"of", "for", "to", "the", "and", "on"}
_LOWER_HEADS = {"spokesperson", "spokesman", "spokeswoman", "leader", "minister", "secretary",
                "ambassador", "president", "envoy", "director", "chief", "adviser", "advisor"}
_TITLE_MODIFIERS = {
    "vice", "deputy", "first", "second", "acting", "chief", "senior", "special", "principal",
    "assistant", "under", "executive", "foreign", "defense", "defence", "prime", "science",
    "trade", "finance", "unification", "national", "security", "state", "top", "former",
    "interim", "associate", "permanent", "economy", "industry", "energy", "commerce", "treasury",
    "home", "interior", "justice", "health", "labor", "education", "budget", "policy", "army",
    "navy", "air", "joint", "press", "presidential", "supreme", "majority", "minority", "house",
}

NATIONALITIES = {
    "us": "US", "u.s.": "US", "american": "US", "united states": "US", "washington's": "US",
    "south korean": "KR", "south korea's": "KR", "korean": "KR", "seoul's": "KR",
    "north korean": "KP", "north korea's": "KP", "pyongyang's": "KP",
    "japanese": "JP", "japan's": "JP", "tokyo's": "JP", "chinese": "CN", "china's": "CN",
    "beijing's": "CN", "russian": "RU", "russia's": "RU", "british": "GB", "uk": "GB",
    "french": "FR", "france's": "FR", "german": "DE", "germany's": "DE", "indian": "IN",
    "australian": "AU", "canadian": "CA", "ukrainian": "UA", "taiwanese": "TW",
    "vietnamese": "VN", "philippine": "PH", "italian": "IT", "spanish": "ES", "mexican": "MX",
}
_NAT_TOKENS = {"us", "u", "s", "american", "korean", "japanese", "chinese", "russian", "british",
               "french", "german", "indian", "australian", "canadian", "ukrainian", "taiwanese",
               "vietnamese", "philippine", "italian", "spanish", "mexican", "south", "north", "uk"}
_NAT_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(k) for k in NATIONALITIES), key=len, reverse=True)) + r")\s+$",
    re.I,
)


# ---------------------------------------------------------------------------------- persons
@dataclass
class Person:
    """A person the pipeline knows of: from the gazetteer, or a new-person candidate."""

    key: str  # canonical name for known persons; the first full surface form for new ones
    known: bool
    country: str | None = None
    positions: list[dict] = field(default_factory=list)
    title: str | None = None
    organization: str | None = None

    @cached_property
    def parts(self) -> list[str]:
        return [normalize_name(t.text) for t in tokenize(self.key)]


@dataclass(frozen=True)
class Mention:
    """A span of the article that names (or designates) a person."""

    start: int
    end: int
    text: str
    key: str
    how: str  # gazetteer | title | appositive | counterpart | coref | title_only | pronoun


class Gazetteer:
    """Known persons indexed by normalised canonical name and aliases."""

    def __init__(self, known_people: Iterable[dict] = ()):
        self.persons: dict[str, Person] = {}
        self.index: dict[str, str] = {}
        self.max_tokens = 1
        for rec in known_people:
            name = rec["name"]
            self.persons[name] = Person(name, True, rec.get("country"), list(rec.get("positions") or []))
            for surface in [name, *(rec.get("aliases") or [])]:
                key = normalize_name(surface)
                if key:
                    self.index.setdefault(key, name)
                    self.max_tokens = max(self.max_tokens, len(re.findall(r"[^\W\d_]+", surface)) + 1)

    def by_surname(self, token: str) -> str | None:
        """The one known person whose last name part is `token` (western order), if unique."""
        if not hasattr(self, "_surnames"):
            index: dict[str, set[str]] = {}
            for key, p in self.persons.items():
                parts = p.parts
                if len(parts) >= 2 and len(parts[-1]) >= 4:
                    index.setdefault(parts[-1], set()).add(key)
            self._surnames = index
        keys = self._surnames.get(normalize_name(token), set())
        return next(iter(keys)) if len(keys) == 1 else None

    def lookup(self, name: str) -> str | None:
        return self.index.get(normalize_name(name))

    def find(self, text: str, start: int = 0, end: int | None = None) -> list[Mention]:
        """Longest gazetteer matches, left to right, over runs of joined capitalised tokens."""
        pieces = [
            Token(m.start(), m.end(), m.group())
            for m in re.finditer(r"[^\W\d_]+", text[: len(text) if end is None else end])
            if m.start() >= start
        ]
        out: list[Mention] = []
        i = 0
        while i < len(pieces):
            if not pieces[i].text[:1].isupper():
                i += 1
                continue
            hit = None
            acc = ""
            for j in range(i, min(len(pieces), i + self.max_tokens + 2)):
                if j > i:
                    gap = text[pieces[j - 1].end:pieces[j].start]
                    if not re.fullmatch(r"\.?[ \t\-‐‑'’]{0,2}|\.", gap) or re.search(r"['’]s?$", gap + pieces[j].text[:1]) and pieces[j].text == "s":
                        break
                acc += normalize_name(pieces[j].text)
                if acc in self.index and pieces[j].text[:1].isupper() or (acc in self.index and j > i):
                    hit = (j, self.index[acc])
            if hit:
                j, key = hit
                out.append(Mention(pieces[i].start, pieces[j].end, text[pieces[i].start:pieces[j].end], key, "gazetteer"))
                i = j + 1
            else:
                i += 1
        return out


TitleResolver = Callable[[str, str | None, str | None], str | None]


@dataclass
class PeopleFound:
    mentions: list[Mention]
    persons: dict[str, Person]


def _country_before(text: str, pos: int) -> str | None:
    m = _NAT_RE.search(text[max(0, pos - 25):pos])
    return NATIONALITIES[m.group(1).lower()] if m else None


def _title_rules(text: str, toks: list[Token], start: int) -> list[tuple]:
    """Unknown names introduced by a title: (start, end, name, how, title text, country)."""
    found = []
    n = len(toks)
    at = {id(t): k for k, t in enumerate(toks)}  # list.index would make this quadratic
    i = 0
    while i < n:
        t = toks[i]
        low = t.text.lower()
        if not (low in HEAD_WORDS and (t.text[:1].isupper() or low in _LOWER_HEADS)):
            i += 1
            continue
        head_at = i
        j = i + 1
        seg: list[Token] = []
        while j < n and _joined_loose(text, toks[j - 1], toks[j]):
            w = toks[j]
            wl = w.text.lower()
            if wl in HEAD_WORDS and w.text[:1].isupper() and not (
                    wl in _ABBREV_HEADS and text[w.end:w.end + 1] != "."):
                if len(seg) >= 2:
                    break
                head_at, seg = j, []
            elif is_name_like(w) or (wl in _ABBREV_HEADS and w.text[:1].isupper() and j + 1 < n
                                     and is_name_like(toks[j + 1]) and _joined(text, w, toks[j + 1])) \
                    or (seg and _particle(toks, j, text)):
                seg.append(w)
            elif wl in _NAME_CONNECTORS or w.text[:1].isupper():
                if len(seg) >= 2:
                    break
                seg = []
            else:
                break
            j += 1
            if w.possessive:
                break
        core = [w for w in seg if w.text not in NAME_PARTICLES]
        if len(core) > 3 or (len(core) == 3 and at[id(seg[0])] != head_at + 1):
            seg = seg[-2:]
        if len(seg) >= 2 and seg[0].start >= start:
            s = head_at
            nat_words: list[str] = []
            while s > 0 and _joined_loose(text, toks[s - 1], toks[s]):
                w = toks[s - 1].text.lower()
                if w in _TITLE_MODIFIERS:
                    s -= 1
                elif w in _NAT_TOKENS:
                    nat_words.insert(0, toks[s - 1].text)
                    s -= 1
                else:
                    break
            title = text[toks[s].start:seg[0].start].strip(" ,")
            for nat in nat_words:
                title = re.sub(r"(?<![\w.])" + re.escape(nat) + r"\.?\s+", "", title, count=1)
            nat = " ".join(nat_words).lower().replace("u s", "u.s.")
            country = NATIONALITIES.get(nat) or _country_before(text, toks[s].start)
            found.append((seg[0].start, seg[-1].end, text[seg[0].start:seg[-1].end], "title", title, country))
            i = at[id(seg[-1])] + 1
            continue
        i += 1
    # appositive: "Name, the ... spokesperson" / "Name, director of ..."
    for k in range(n - 1):
        a, b = toks[k], toks[k + 1]
        if not (is_name_like(a) and is_name_like(b) and _joined(text, a, b)):
            continue
        if k > 0 and is_name_like(toks[k - 1]) and _joined(text, toks[k - 1], a):
            continue
        last = k + 1
        if last + 1 < n and is_name_like(toks[last + 1]) and _joined(text, b, toks[last + 1]):
            last += 1
        after = text[toks[last].end: toks[last].end + 120]
        m = re.match(r",\s+((?:the|a|an|his|her|its|[A-Z][\w.]*['’]s|former|acting|then)\s+)?([^,;.()]{0,80})", after)
        if not m or toks[last].possessive:
            continue
        phrase = (m.group(1) or "") + m.group(2)
        if re.search(r"\b(?:said|says|told|added|noted|stated|announced)\b", phrase):
            continue
        words = re.findall(r"[A-Za-z]+", phrase)[:9]
        if any(w.lower() in HEAD_WORDS - {"mr", "mrs", "ms", "dr", "leader"} for w in words):
            found.append((a.start, toks[last].end, text[a.start:toks[last].end], "appositive", phrase.strip(), None))
    # counterpart: "his US counterpart, Allison Hooker"
    for m in re.finditer(r"\bcounterparts?\s*,?\s+", text):
        nxt = [t for t in toks if t.start >= m.end()][:3]
        if len(nxt) >= 2 and nxt[0].start == m.end() and is_name_like(nxt[0]) and is_name_like(nxt[1]) \
                and _joined(text, nxt[0], nxt[1]):
            end = nxt[1]
            if len(nxt) == 3 and is_name_like(nxt[2]) and _joined(text, nxt[1], nxt[2]) and not nxt[1].possessive:
                end = nxt[2]
            found.append((nxt[0].start, end.end, text[nxt[0].start:end.end], "counterpart", "counterpart", None))
    return found


def _joined_loose(text: str, a: Token, b: Token) -> bool:
    """Tokens of one title phrase: only spaces (or an abbreviation dot) between them."""
    gap = text[a.end:b.start]
    return not a.possessive and bool(re.fullmatch(r"\.?\s{1,2}|\.\s?|[\-‐‑]", gap)) and "\n" not in gap


_TITLE_ONLY = re.compile(
    r"\b[Tt]he\s+(?:(?P<nat>South Korean|North Korean|US|U\.S\.|American|Japanese|Chinese|Korean|Russian)\s+)?"
    r"(?P<title>(?:(?:vice|deputy|first|prime|foreign|defen[cs]e|trade|finance|science|unification|"
    r"economy|industry|top|security|energy)\s+)*"
    r"(?:minister|secretary|president|premier|chancellor|ambassador|envoy|diplomat|chief|spokesperson))"
    r"\b(?!\s+(?:[A-Z]|of\s+[A-Z]))"
)


def find_people(
    text: str,
    gazetteer: Gazetteer,
    *,
    start: int = 0,
    title_resolver: TitleResolver | None = None,
    date: str | None = None,
    extra_spans: Iterable[tuple[int, int]] = (),
) -> PeopleFound:
    """All person mentions from `start` on: gazetteer, title rules, coreference, title-only."""
    persons: dict[str, Person] = {}
    mentions: list[Mention] = list(gazetteer.find(text, start))
    for m in mentions:
        persons[m.key] = gazetteer.persons[m.key]
    toks = tokenize(text)
    covered = bytearray(len(text) + 1)

    def take(s: int, e: int) -> None:
        covered[s:e] = b"\x01" * (e - s)

    def free(s: int, e: int) -> bool:
        return not any(covered[s:e])

    for m in mentions:
        take(m.start, m.end)

    new_index: dict[str, str] = {}
    for s, e, name, how, title, country in sorted(_title_rules(text, toks, start), key=lambda f: (f[0], f[3] != "title")):
        if not free(s, e):
            continue
        known = gazetteer.lookup(name)
        if known:
            key = known
            persons[key] = gazetteer.persons[key]
        else:
            norm = normalize_name(name)
            key = new_index.setdefault(norm, name)
            if key not in persons:
                persons[key] = Person(key, False, country, [], title=_clean_title(title),
                                      organization=_organization(title))
        mentions.append(Mention(s, e, name, key, how))
        take(s, e)

    # person spans from an optional NER model: new candidates only where nothing else matched
    for s, e in sorted(extra_spans):
        span = [t for t in toks if s <= t.start and t.end <= e]
        while span and not is_name_like(span[0]):
            span.pop(0)
        if len(span) < 2 or len(span) > 4 or not all(is_name_like(t) for t in span) or span[0].start < start:
            continue
        s2, e2 = span[0].start, span[-1].end
        if not free(s2, e2):
            continue
        name = text[s2:e2]
        key = gazetteer.lookup(name) or new_index.setdefault(normalize_name(name), name)
        if key in gazetteer.persons:
            persons[key] = gazetteer.persons[key]
        elif key not in persons:
            persons[key] = Person(key, False, _country_before(text, s2))
        mentions.append(Mention(s2, e2, name, key, "ner"))
        take(s2, e2)

    # bare names: a run of 2-3 name-like words nothing else claimed ("Xi Jinping met ...");
    # kept by the pipeline only when it ends up a meeting participant
    idx = 0
    while idx < len(toks):
        run = []
        k = idx
        while k < len(toks) and toks[k].start >= start and free(toks[k].start, toks[k].end) \
                and (is_name_like(toks[k]) or (run and _particle(toks, k, text))) \
                and (not run or _joined(text, run[-1], toks[k])):
            run.append(toks[k])
            k += 1
            if run[-1].possessive:
                break
        after_the = bool(run) and bool(re.search(r"\b[Tt]he\s+$", text[max(0, run[0].start - 5):run[0].start]))
        if 2 <= len([t for t in run if t.text not in NAME_PARTICLES]) <= 3 and not after_the and not (k < len(toks) and _joined(text, run[-1], toks[k]) and toks[k].text[:1].isupper()):
            name = text[run[0].start:run[-1].end]
            key = new_index.setdefault(normalize_name(name), name)
            if key not in persons:
                persons[key] = Person(key, False, _country_before(text, run[0].start))
            mentions.append(Mention(run[0].start, run[-1].end, name, key, "bare"))
            take(run[0].start, run[-1].end)
        idx = max(k, idx + 1)

    # surname / short-form coreference to a full name mentioned earlier
    full = sorted(mentions, key=lambda m: m.start)
    for idx, t in enumerate(toks):
        if t.start < start or not free(t.start, t.end) or not is_name_like(t):
            continue
        nxt = toks[idx + 1] if idx + 1 < len(toks) else None
        if nxt and _joined(text, t, nxt) and is_name_like(nxt):
            continue
        prv = toks[idx - 1] if idx > 0 else None
        if prv and _joined(text, prv, t) and is_name_like(prv) and prv.start >= start:
            continue
        norm = t.norm
        best = None
        for m in full:
            if m.start >= t.start:
                break
            parts = persons[m.key].parts if m.key in persons else []
            if len(parts) >= 2 and norm in (parts[0], parts[-1]):
                best = m
        if best:
            mentions.append(Mention(t.start, t.end, t.text, best.key, "coref"))
            take(t.start, t.end)
            continue
        sole = gazetteer.by_surname(t.text)
        if sole:
            persons[sole] = gazetteer.persons[sole]
            mention = Mention(t.start, t.end, t.text, sole, "surname")
            mentions.append(mention)
            full.append(mention)
            full.sort(key=lambda m: m.start)
            take(t.start, t.end)

    # title-only mentions, resolved through the caller's tenure lookup
    if title_resolver:
        for m in _TITLE_ONLY.finditer(text, start):
            if not free(m.start(), m.end()):
                continue
            nat = m.group("nat")
            country = NATIONALITIES.get(nat.lower()) if nat else None
            name = title_resolver(m.group("title").lower(), country, date)
            if name:
                key = gazetteer.lookup(name) or name
                if key in gazetteer.persons:
                    persons[key] = gazetteer.persons[key]
                elif key not in persons:
                    persons[key] = Person(key, False)
                named = any(x.key == key and x.how not in ("title_only", "title_ref") for x in mentions)
                # a title naming someone the article names too is a reference; alone it is a guess
                mentions.append(Mention(m.start(), m.end(), m.group(), key, "title_ref" if named else "title_only"))
    mentions.sort(key=lambda m: m.start)
    return PeopleFound(mentions, persons)


def _clean_title(title: str | None) -> str | None:
    if not title or title == "counterpart":
        return None
    t = re.sub(r"^(?:the|a|an|his|her|its|[A-Z][\w.]*['’]s)\s+", "", title.strip())
    t = _NAT_RE.sub("", t + " ").strip() if False else t
    for nat in sorted(NATIONALITIES, key=len, reverse=True):
        t = re.sub(r"^" + re.escape(nat) + r"\s+", "", t, flags=re.I)
    return (t[:1].upper() + t[1:]) if t else None


def _organization(title: str | None) -> str | None:
    if not title:
        return None
    m = re.search(r"\bthe\s+((?:[A-Z][\w.&-]*\s?)+)(?:['’]s)", title) or re.search(
        r"\bof\s+the\s+((?:[A-Z][\w.&-]*\s?(?:of\s+|and\s+|for\s+)?)+)$", title)
    return m.group(1).strip() if m else None


# ----------------------------------------------------------------------- tenure / suggestions
_SYN = {"defence": "defense", "diplomat": "diplomat", "chief": "chief"}
_RANKS = {"vice", "deputy", "under", "assistant", "principal", "acting", "special"}
FAMILY_NAME_FIRST = {"KR", "KP", "CN", "TW", "VN", "HK", "MO"}


def _words(s: str) -> set[str]:
    return {_SYN.get(w, w) for w in re.findall(r"[a-z]+", s.lower())} - {"the", "of", "and", "for", "to"}


def _active(position: dict, date: str | None) -> bool:
    if not date:
        return "end" not in position or not position.get("end")
    start = position.get("start") or ""
    end = position.get("end") or ""
    return (not start or start <= date[: len(start)]) and (not end or date[: len(end)] <= end)


def tenure_title_resolver(known_people: Iterable[dict]) -> TitleResolver:
    """A title resolver over people.json positions: the one person holding that title on the date.

    "the foreign minister" matches "Minister of Foreign Affairs"; "the defence chief" matches a
    defence minister or secretary; "the top diplomat" a foreign minister or secretary of state.
    A title held by several persons on that date (in the country asked) resolves to nothing.
    """
    people = list(known_people)

    def resolve(phrase: str, country: str | None, date: str | None) -> str | None:
        words = _words(phrase)
        head = phrase.split()[-1]
        head = _SYN.get(head, head)
        domain = words - {head}
        hits = set()
        for rec in people:
            if country and rec.get("country") and rec["country"] != country:
                continue
            for pos in rec.get("positions") or []:
                if not _active(pos, date):
                    continue
                pw = _words(pos.get("title", ""))
                if (pw & _RANKS) - domain:
                    continue
                if head in ("chief", "diplomat"):
                    heads_ok = bool(pw & {"minister", "secretary"})
                    dom = domain - {"top"}
                    if head == "diplomat":
                        ok = heads_ok and ("foreign" in pw or "state" in pw)
                    else:
                        ok = heads_ok and bool(dom) and dom <= pw
                else:
                    ok = head in pw and domain <= pw
                if ok:
                    hits.add(rec["name"])
        return hits.pop() if len(hits) == 1 else None

    return resolve


def alias_suggestions(persons: Iterable[Person], gazetteer: Gazetteer, *, threshold: float = 0.82) -> list[dict]:
    """For each new-person candidate, known persons with the same family name and a similar
    given name: suggestions for a curator, never merges."""
    out = []
    for p in persons:
        if p.known:
            continue
        parts = p.parts
        if len(parts) < 2:
            continue
        for known in gazetteer.persons.values():
            kp = known.parts
            if len(kp) < 2:
                continue
            if known.country in FAMILY_NAME_FIRST or (known.country is None and p.country in FAMILY_NAME_FIRST):
                if parts[0] != kp[0]:
                    continue
                rest_a, rest_b = "".join(parts[1:]), "".join(kp[1:])
            else:
                if parts[-1] != kp[-1]:
                    continue
                rest_a, rest_b = "".join(parts[:-1]), "".join(kp[:-1])
            score = JaroWinkler.similarity(rest_a, rest_b)
            if score >= threshold:
                out.append({"name": p.key, "person": known.key, "score": round(score, 3)})
    return sorted(out, key=lambda s: -s["score"])
