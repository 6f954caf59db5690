"""Meeting mentions from synthetic wire sentences: modes, planned vs held, exclusions."""
from __future__ import annotations

from meetings.suggest.names import tenure_title_resolver
from meetings.suggest.pipeline import extract

PEOPLE = [
    {"name": "Cho Hyun", "aliases": ["Cho Hyoung"], "country": "KR",
     "positions": [{"title": "Minister of Foreign Affairs", "organization": "Ministry of Foreign Affairs", "start": "2025-07"}]},
    {"name": "Lee Jae Myung", "aliases": ["Lee Jae-myung"], "country": "KR",
     "positions": [{"title": "President", "organization": "Office of the President", "start": "2025-06-04"}]},
    {"name": "Donald Trump", "aliases": [], "country": "US",
     "positions": [{"title": "President", "organization": "White House", "start": "2025-01-20"}]},
    {"name": "Marco Rubio", "aliases": [], "country": "US",
     "positions": [{"title": "Secretary of State", "organization": "Department of State", "start": "2025-01-21"}]},
]


def meetings(text: str, published: str | None = "2025-09-12", people=PEOPLE, resolver=None):
    return extract(text, published=published, known_people=people, title_resolver=resolver).meetings


def test_phone_call_with_a_name_the_gazetteer_does_not_know():
    # given a phone call between a known and an unknown official (Friday 2025-09-12 is the base)
    (m,) = meetings("Japanese Prime Minister Shigeru Ishiba spoke by phone with President Lee Jae Myung on Tuesday.")
    # then it is a held phone call on the Tuesday before the article
    assert set(m.participants) == {"Shigeru Ishiba", "Lee Jae Myung"}
    assert (m.mode, m.kind, m.status, m.date, m.precision) == ("phone", "phone_call", "held", "2025-09-09", "day")


def test_phone_call_phrased_as_introductory_clause():
    (m,) = meetings("In a phone call with Japanese Prime Minister Shigeru Ishiba on Wednesday, Lee Jae Myung said ties matter.")
    assert set(m.participants) == {"Shigeru Ishiba", "Lee Jae Myung"} and m.mode == "phone"


def test_video_conference_between_foreign_officials():
    (m,) = meetings("Chinese Foreign Minister Wang Yi and Russian Foreign Minister Sergei Lavrov held talks via video link on Monday.")
    assert set(m.participants) == {"Wang Yi", "Sergei Lavrov"}
    assert m.mode == "video" and m.date == "2025-09-08"


def test_planned_visit_is_planned_and_dated_forward():
    (m,) = meetings("Foreign Minister Cho Hyun is scheduled to visit Beijing to hold talks with "
                    "Chinese Foreign Minister Wang Yi on Friday.", published="2025-09-10")
    assert m.status == "planned" and m.date == "2025-09-12"


def test_will_meet_next_week_has_no_day_but_a_place():
    (m,) = meetings("US Secretary of State Marco Rubio will meet Japanese Foreign Minister Takeshi Iwaya in Tokyo next week.")
    assert (m.status, m.date, m.location) == ("planned", None, "Tokyo")


def test_planned_then_held_in_one_article_is_one_held_meeting():
    # given a report that announces a meeting and then says it took place
    text = ("Lee Jae Myung will meet Donald Trump at the White House, officials said. "
            "Lee and Trump met at the White House on Monday, their offices said.")
    (m,) = meetings(text, published="2025-08-26")
    assert m.status == "held" and m.date == "2025-08-25" and m.location == "White House"
    assert len(m.evidence) == 2


def test_receptions_and_ceremonies_are_not_meetings():
    assert meetings("President Lee Jae Myung hosted a reception for visiting Australian Prime Minister "
                    "Anthony Albanese at the presidential office.") == []
    assert meetings("German Chancellor Friedrich Merz and French President Emmanuel Macron attended a "
                    "ceremony in Paris on Sunday.") == []


def test_unnamed_participants_are_not_proposed():
    assert meetings("The leaders of the two countries met in Geneva on Monday.") == []
    assert meetings("Officials from both sides met in Seoul on Monday, Foreign Minister Cho Hyun said.") == []


def test_negated_meetings_are_not_proposed():
    assert meetings("Rubio did not meet Cho Hyun during the trip, officials said.") == []


def test_title_only_participant_resolved_by_tenure():
    resolver = tenure_title_resolver(PEOPLE)
    (m,) = meetings("The foreign minister met with Secretary of State Marco Rubio on Friday.", resolver=resolver)
    assert set(m.participants) == {"Cho Hyun", "Marco Rubio"}
    # a title-only participant lowers confidence below a fully named one
    (named,) = meetings("Cho Hyun met with Secretary of State Marco Rubio on Friday.")
    assert m.confidence < named.confidence


def test_possessive_talks_with_resolves_his_to_the_clause_subject():
    text = ("Deputy Prime Minister Choi Sang-mok met reporters. Secretary of State Antony Blinken "
            "arrived. Blinken paid a courtesy call on Choi ahead of his talks with Cho Hyun.")
    found = {frozenset(m.participants): m for m in meetings(text, published="2025-01-06", people=[])}
    assert frozenset({"Antony Blinken", "Choi Sang-mok"}) in found
    assert found[frozenset({"Antony Blinken", "Choi Sang-mok"})].kind == "courtesy_call"


def test_occasion_location_and_evidence_offsets():
    text = ("SEOUL, July 12 (Yonhap) -- Foreign Minister Cho Hyun met with his Japanese counterpart, "
            "Takeshi Iwaya, on the sidelines of the ASEAN Regional Forum in Kuala Lumpur on July 11. "
            "During the talks, Cho raised trade and North Korea's missile launches.")
    (m,) = meetings(text, published="2025-07-12")
    assert m.occasion == "ASEAN Regional Forum" and m.location == "Kuala Lumpur" and m.date == "2025-07-11"
    assert all(text[e.start:e.end] == e.text for e in m.evidence) and len(m.evidence) == 2
    assert {"trade", "north_korea"} <= set(m.topics)
    assert 0.0 <= m.confidence <= 1.0


def test_dateline_city_is_not_a_meeting_location():
    (m,) = meetings("SEOUL, Nov. 21 (Yonhap) -- Foreign Minister Cho Hyun held talks with Marco Rubio on Friday.",
                    published="2025-11-21")
    assert m.location is None and m.date == "2025-11-21"


def test_called_off_meetings_are_not_proposed():
    assert meetings("The meeting between Lee Jae Myung and Donald Trump, originally set for Friday, was postponed.") == []


def test_meeting_in_a_relative_clause_and_a_co_chaired_dialogue():
    (m,) = meetings("Foreign Minister Cho Hyun, who met Secretary of State Marco Rubio in Washington on "
                    "Thursday, said the alliance is strong.")
    assert (set(m.participants), m.date, m.location) == ({"Cho Hyun", "Marco Rubio"}, "2025-09-11", "Washington")
    (d,) = meetings("Vice Minister Park Yoon-joo and Under Secretary Allison Hooker co-chaired the strategic "
                    "dialogue in Seoul on Friday.", people=[])
    assert set(d.participants) == {"Park Yoon-joo", "Allison Hooker"} and d.location == "Seoul"


def test_separate_meetings_are_split_and_trilateral_talks_keep_everyone():
    found = meetings("Lee Jae Myung met separately with Japanese Prime Minister Shigeru Ishiba and Chinese "
                     "President Xi Jinping.")
    assert {frozenset(m.participants) for m in found} == {
        frozenset({"Lee Jae Myung", "Shigeru Ishiba"}), frozenset({"Lee Jae Myung", "Xi Jinping"})}
    (t,) = meetings("Cho Hyun, Marco Rubio and Japanese Foreign Minister Takeshi Iwaya held trilateral talks "
                    "in Singapore on Saturday.")
    assert set(t.participants) == {"Cho Hyun", "Marco Rubio", "Takeshi Iwaya"}


def test_a_name_that_looks_like_a_rank_abbreviation():
    (m,) = meetings("Defense Secretary Pete Hegseth met Japanese Defense Minister Gen Nakatani in Tokyo.", people=[])
    assert set(m.participants) == {"Pete Hegseth", "Gen Nakatani"}


def test_names_without_titles_next_to_a_trigger():
    # given officials named without any title, as later paragraphs and foreign copy do
    cases = {
        "Xi Jinping met Vladimir Putin in Beijing on Tuesday.": {"Xi Jinping", "Vladimir Putin"},
        "Emmanuel Macron and Keir Starmer spoke by phone on Monday.": {"Emmanuel Macron", "Keir Starmer"},
        "Giorgia Meloni met with Ursula von der Leyen in Brussels.": {"Giorgia Meloni", "Ursula von der Leyen"},
    }
    for text, people in cases.items():
        (m,) = meetings(text, people=[])
        assert set(m.participants) == people, text
        # a bare name is less certain than a titled or known one
        assert m.confidence < 0.9


def test_a_venue_that_hosts_is_not_a_participant():
    assert meetings("The Andrew W. Mellon Auditorium hosted Kang Kyung-wha and Elbridge Colby on Friday.", people=[]) == []


def test_possessive_subject_relative_clause_and_a_second_object():
    (m,) = meetings("Lee Jae Myung's meeting with Japanese Prime Minister Shigeru Ishiba on Saturday was their third.",
                    published="2025-08-19")
    assert set(m.participants) == {"Lee Jae Myung", "Shigeru Ishiba"} and m.date == "2025-08-16"
    (r,) = meetings("Cho Hyun, who arrived in Washington on Wednesday, is scheduled to meet Rubio on Thursday.",
                    published="2025-08-19")
    assert (set(r.participants), r.status, r.date) == ({"Cho Hyun", "Marco Rubio"}, "planned", "2025-08-21")
    found = meetings("Marco Rubio will meet with Cho Hyun on Monday and with Japanese Foreign Minister "
                     "Takeshi Iwaya in Tokyo on Wednesday.", published="2025-08-19")
    by = {frozenset(m.participants): m for m in found}
    assert by[frozenset({"Marco Rubio", "Cho Hyun"})].date == "2025-08-25"
    iwaya = by[frozenset({"Marco Rubio", "Takeshi Iwaya"})]
    assert (iwaya.date, iwaya.location, iwaya.status) == ("2025-08-20", "Tokyo", "planned")


def test_travel_for_talks_gives_the_place():
    (m,) = meetings("Rubio is expected to travel to Seoul next month for talks with Cho Hyun.", published="2025-08-19")
    assert (m.status, m.date, m.precision, m.location) == ("planned", "2025-09", "month", "Seoul")


def test_speculative_talks_are_planned_with_lower_confidence_and_months_are_not_places():
    text = ("Lee Jae Myung spoke by phone with Donald Trump last month. Lee is expected to attend the G7 "
            "summit in Canada in June, where he could hold his first face-to-face talks with Trump.")
    found = {m.mode: m for m in meetings(text, published="2025-02-14")}
    call, talks = found["phone"], found["in_person"]
    assert (call.status, call.date) == ("held", "2025-01")
    assert (talks.status, talks.location, talks.date) == ("planned", "Canada", None)
    assert talks.confidence < call.confidence
    (held,) = meetings("In May, Cho Hyun and Marco Rubio met in Seoul.", published="2025-08-14")
    assert (held.status, held.date) == ("held", "2025-05")


def test_participle_meeting_clause_and_lowercase_objects_are_not_hosts():
    (m,) = meetings("After meeting Cho Hyun in Seoul on Friday, Marco Rubio flew to Tokyo.")
    assert (set(m.participants), m.location, m.date) == ({"Cho Hyun", "Marco Rubio"}, "Seoul", "2025-09-12")
    assert meetings("Cho Hyun hosted a dinner with Marco Rubio's staff.") == []


def test_a_title_for_someone_named_earlier_is_surer_than_a_bare_title():
    resolver = tenure_title_resolver(PEOPLE)
    (alone,) = meetings("The foreign minister met with Secretary of State Marco Rubio on Friday.", resolver=resolver)
    (named,) = meetings("Cho Hyun arrived on Thursday. The foreign minister met with Secretary of State "
                        "Marco Rubio on Friday.", resolver=resolver)
    assert set(named.participants) == set(alone.participants) == {"Cho Hyun", "Marco Rubio"}
    assert alone.confidence < named.confidence < 0.9


def test_the_x_y_is_not_a_person_and_later_in_the_day_keeps_the_day():
    text = ("Unification Minister Chung Dong-young met with visiting German Foreign Minister Johann Wadephul on "
            "Wednesday. Wadephul, who arrived in Seoul on Tuesday, also held talks with Cho Hyun later in the day. "
            "Wadephul will visit the Demilitarized Zone on Thursday before leaving for Tokyo, where he is "
            "scheduled to meet Japanese Foreign Minister Takeshi Iwaya on Friday.")
    by = {frozenset(m.participants): m for m in meetings(text, published="2025-04-02")}
    assert by[frozenset({"Johann Wadephul", "Cho Hyun"})].date == "2025-04-02"
    trip = by[frozenset({"Johann Wadephul", "Takeshi Iwaya"})]
    assert (trip.status, trip.date, trip.location) == ("planned", "2025-04-04", "Tokyo")
    assert all("Demilitarized Zone" not in m.participants for m in by.values())
