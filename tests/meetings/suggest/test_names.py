"""Officials in text: gazetteer aliases, romanisation variants, title rules, coreference."""
from __future__ import annotations

from meetings.suggest.names import (
    Gazetteer,
    alias_suggestions,
    find_people,
    normalize_name,
    tenure_title_resolver,
)

PEOPLE = [
    {"name": "Cho Hyun", "aliases": ["Cho Hyoung"], "country": "KR",
     "positions": [{"title": "Minister of Foreign Affairs", "organization": "Ministry of Foreign Affairs", "start": "2025-07"}]},
    {"name": "Park Yoon-joo", "aliases": ["Park Yun-ju"], "country": "KR",
     "positions": [{"title": "First Vice Foreign Minister", "organization": "Ministry of Foreign Affairs", "start": "2025-06"}]},
    {"name": "Lee Jae Myung", "aliases": ["Lee Jae-myung"], "country": "KR",
     "positions": [{"title": "President", "organization": "Office of the President", "start": "2025-06-04"}]},
    {"name": "Marco Rubio", "aliases": [], "country": "US",
     "positions": [{"title": "Secretary of State", "organization": "Department of State", "start": "2025-01-21"}]},
    {"name": "Kang Kyung-wha", "aliases": [], "country": "KR", "positions": []},
    {"name": "Cho Tae-yul", "aliases": [], "country": "KR",
     "positions": [{"title": "Minister of Foreign Affairs", "organization": "Ministry of Foreign Affairs", "start": "2024-01", "end": "2025-07"}]},
]


def keys(text: str, **kw) -> list[tuple[str, str]]:
    found = find_people(text, Gazetteer(PEOPLE), **kw)
    return [(m.text, m.key) for m in found.mentions]


def test_normalisation_is_case_accent_hyphen_and_space_insensitive():
    # given spellings of one name that differ in case, accents, hyphens and spacing
    # then they share one key
    assert normalize_name("Park Yoon-Joo") == normalize_name("park yoonjoo") == normalize_name("PARK  Yoon Joo")
    assert normalize_name("Kang Kyung-whá") == normalize_name("Kang Kyung-wha")


def test_aliases_and_romanisation_variants_resolve_to_the_canonical_person():
    # given text using a listed romanisation variant and a differently hyphenated form
    text = "Foreign Minister Cho Hyoung met Park Yoon Joo and later Park Yun-ju again with Lee Jae-Myung."
    # when persons are found
    found = keys(text)
    # then each maps to its canonical name
    assert ("Cho Hyoung", "Cho Hyun") in found
    assert ("Park Yoon Joo", "Park Yoon-joo") in found
    assert ("Park Yun-ju", "Park Yoon-joo") in found
    assert ("Lee Jae-Myung", "Lee Jae Myung") in found


def test_an_unlisted_similar_name_is_not_merged_but_suggested_as_alias():
    # given a name one letter away from a known person, introduced with a title
    gaz = Gazetteer(PEOPLE)
    found = find_people("South Korean Foreign Minister Cho Hyeon spoke on Monday.", gaz)
    # then it is a new person, not Cho Hyun ...
    assert [m.key for m in found.mentions] == ["Cho Hyeon"]
    assert not found.persons["Cho Hyeon"].known
    # ... and the curator gets a same-family-name alias suggestion
    suggestions = alias_suggestions(found.persons.values(), gaz)
    assert suggestions[0]["name"] == "Cho Hyeon" and suggestions[0]["person"] == "Cho Hyun"


def test_a_different_family_name_is_never_suggested():
    # given "Choi Hyun" (a different person from Cho Hyun despite high string similarity)
    gaz = Gazetteer(PEOPLE)
    found = find_people("Vice Minister Choi Hyun attended.", gaz)
    # then no suggestion links the two
    assert all(s["person"] != "Cho Hyun" for s in alias_suggestions(found.persons.values(), gaz))


def test_surname_repeated_later_resolves_to_the_person_named_earlier():
    # given a full name, then its family name alone, and a western surname alone
    text = ("Foreign Minister Cho Tae-yul and Secretary of State Marco Rubio met in Seoul. "
            "Cho and Rubio discussed North Korea.")
    found = keys(text)
    # then the short forms resolve to the earlier full names (not to Cho Hyun, who is not in the story)
    assert ("Cho", "Cho Tae-yul") in found and ("Rubio", "Marco Rubio") in found


def test_unknown_names_with_titles_become_new_person_candidates():
    # given unknown officials introduced by a title, an appositive and "counterpart"
    text = ("Seoul's top diplomat met acting US Ambassador to South Korea Kevin Kim on Friday. "
            "Tommy Pigott, the State Department's principal deputy spokesperson, confirmed it. "
            "He also called his Japanese counterpart, Takeshi Iwaya. "
            "North Korean leader Kim Jong Un was not mentioned by Japanese Prime Minister Shigeru Ishiba.")
    found = find_people(text, Gazetteer([]))
    persons = found.persons
    # then each becomes a candidate with what the text says about it
    assert persons["Kevin Kim"].title == "Acting Ambassador to South Korea"
    assert persons["Kevin Kim"].country == "US"
    assert persons["Tommy Pigott"].organization == "State Department"
    assert {"Takeshi Iwaya", "Kim Jong Un", "Shigeru Ishiba"} <= set(persons)
    assert all(not p.known for p in persons.values())


def test_three_part_names_and_org_complements_are_cut_right():
    text = ("President Yoon Suk Yeol met Ambassador to the United States Kang Kyung-wha and "
            "Under Secretary of Defense for Policy Elbridge Colby.")
    names = {m.key for m in find_people(text, Gazetteer([])).mentions}
    assert names == {"Yoon Suk Yeol", "Kang Kyung-wha", "Elbridge Colby"}


def test_title_only_mention_resolves_through_the_tenure_on_the_article_date():
    # given "the foreign minister" and a tenure lookup
    resolver = tenure_title_resolver(PEOPLE)
    text = "The foreign minister met Marco Rubio."
    # when the article is dated during Cho Tae-yul's tenure, then in Cho Hyun's
    early = keys(text, title_resolver=resolver, date="2025-03-01")
    late = keys(text, title_resolver=resolver, date="2025-09-01")
    # then the title names the office holder of that date
    assert ("The foreign minister", "Cho Tae-yul") in early
    assert ("The foreign minister", "Cho Hyun") in late


def test_title_resolver_refuses_ambiguous_or_rank_mismatched_titles():
    resolver = tenure_title_resolver(PEOPLE)
    # the vice minister is not "the foreign minister"; "the president" is unique only by country
    assert resolver("vice foreign minister", "KR", "2025-09-01") == "Park Yoon-joo"
    assert resolver("president", "KR", "2025-09-01") == "Lee Jae Myung"
    assert resolver("defense minister", None, "2025-09-01") is None


def test_month_abbreviations_can_be_name_parts():
    names = {m.key for m in find_people("Chinese Defense Minister Dong Jun met Lee Jun-il on Nov 3.", Gazetteer([])).mentions}
    assert "Dong Jun" in names
