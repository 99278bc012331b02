"""Extraction rules on short invented texts: one test per grammar pattern the rules read.

The texts are written for these tests (not news copy); dates are chosen so each rule is the
only way to get the expected answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from extract.events import extract_events
from extract.model import Casualties, Event, Munitions

IRAQ = timezone(timedelta(hours=3))


def _events(text: str, published: datetime) -> dict[str, Event]:
    events = extract_events(text, published)
    by_site = {e.site.id if e.site else e.location_text: e for e in events}
    assert len(by_site) == len(events), [e.to_dict() for e in events]
    return by_site


def test_a_recalled_us_strike_does_not_drop_the_attack_beside_it() -> None:
    text = (
        "Missiles hit Ain al-Asad and Erbil bases\n\n"
        "BAGHDAD - Iran fired ballistic missiles at two bases housing US troops early on "
        "Wednesday, its answer to the US drone strike that killed a general last week."
    )
    events = _events(text, datetime(2020, 1, 8, 12, tzinfo=IRAQ))
    assert set(events) == {"ain-al-asad", "erbil-air-base"}
    assert all(
        e.date_start == date(2020, 1, 8) and e.date_precision == "day" for e in events.values()
    )


def test_the_camp_named_before_is_the_site_of_a_recalled_attack() -> None:
    text = (
        "Rockets hit Camp Besmaya on Friday, causing no casualties. "
        "The camp was also hit by rockets in March."
    )
    events = extract_events(text, datetime(2020, 7, 25, 15, tzinfo=IRAQ))
    assert [(e.site.id, e.date_start, e.date_precision, e.recent) for e in events] == [
        ("camp-besmaya", date(2020, 7, 24), "day", True),
        ("camp-besmaya", date(2020, 3, 1), "month", False),
    ]


def test_us_share_in_a_later_sentence() -> None:
    text = (
        "Rockets struck Camp Taji on Wednesday evening, killing three coalition members and "
        "wounding about a dozen others. Two of the dead were Americans."
    )
    (event,) = _events(text, datetime(2020, 3, 12, 2, tzinfo=IRAQ)).values()
    assert event.killed == Casualties(3, 2)
    assert event.wounded == Casualties(12, None)


def test_a_site_share_of_a_toll_stated_before() -> None:
    text = (
        "Twenty-four American service members were hurt when drones attacked two bases last "
        "week. Twenty of them were at al-Tanf, which two drones targeted on Oct. 18. "
        "The remaining four were at Ain al-Asad, where a drone attack took place the same day."
    )
    events = _events(text, datetime(2023, 10, 24, 21, tzinfo=IRAQ))
    assert events["al-tanf"].wounded == Casualties(20, 20)
    assert events["ain-al-asad"].wounded == Casualties(4, 4)


def test_counts_shared_out_among_sites() -> None:
    text = (
        "Missiles struck Ain al-Asad and a base in Erbil early on Wednesday. "
        "Officials said 22 missiles fell: 17 of them on Ain al-Asad, and five on Erbil."
    )
    events = _events(text, datetime(2020, 1, 8, 12, tzinfo=IRAQ))
    assert events["ain-al-asad"].munitions == Munitions(17, 17)
    assert events["erbil-air-base"].munitions == Munitions(5, 5)


def test_an_outpost_named_after_the_lead_takes_the_siteless_event() -> None:
    text = (
        "AMMAN - Three US soldiers were killed when a drone struck a small American base in "
        "north-eastern Jordan early on Sunday.\n\n"
        "The outpost, known as Tower 22, houses several hundred troops. A group claimed "
        "attacks on three bases on Sunday, including one at al-Tanf in Syria."
    )
    events = _events(text, datetime(2024, 1, 29, 9, tzinfo=IRAQ))
    assert events["tower-22"].killed == Casualties(3, 3)
    assert events["tower-22"].date_start == date(2024, 1, 28)
    assert "al-tanf" in events and events["al-tanf"].killed == Casualties()


def test_an_airport_named_with_the_base_it_holds_is_one_site() -> None:
    text = (
        "Two drones were shot down as they approached Baghdad International Airport early on "
        "Monday, where the Victory base hosts US forces. No one was hurt."
    )
    events = _events(text, datetime(2022, 1, 4, 12, tzinfo=IRAQ))
    assert list(events) == ["victory-base"]
    assert events["victory-base"].munitions == Munitions(2, 2)
    assert events["victory-base"].outcome == "intercepted"


def test_a_story_told_about_an_earlier_year_keeps_its_year() -> None:
    text = (
        "In January 2020, Iran fired ballistic missiles at Ain al-Asad; no one was killed. "
        "Two months later, on March 11, a rocket barrage at Camp Taji killed two American "
        "soldiers and a British medic."
    )
    events = _events(text, datetime(2024, 2, 10, 12, tzinfo=IRAQ))
    taji = events["camp-taji"]
    assert (taji.date_start, taji.recent) == (date(2020, 3, 11), False)
    assert taji.killed == Casualties(3, 2)
    assert events["ain-al-asad"].killed == Casualties(0, 0)
    assert events["ain-al-asad"].wounded == Casualties()


def test_none_of_the_attacks_is_a_zero_for_each() -> None:
    text = (
        "American forces in Iraq and Syria were attacked three times late on Thursday, though "
        "none of the attacks caused casualties.\n\n"
        "Drones targeted Ain al-Asad air base, and a single drone was aimed at a base housing "
        "US troops near Erbil airport."
    )
    events = _events(text, datetime(2023, 11, 24, 9, tzinfo=UTC))
    for site in ("ain-al-asad", "erbil-air-base"):
        assert events[site].killed == events[site].wounded == Casualties(0, 0)
        assert events[site].date_start == date(2023, 11, 23)


def test_a_vow_beside_an_attack_told_in_the_past_is_no_threat() -> None:
    published = datetime(2023, 11, 21, 12, tzinfo=IRAQ)
    told = "Kataib Hezbollah, which has vowed to expel US forces, fired three rockets at Ain al-Asad on Monday."
    (event,) = extract_events(told, published)
    assert (event.site.id, event.date_start, event.munitions) == (
        "ain-al-asad",
        date(2023, 11, 20),
        Munitions(3, 3),
    )
    assert extract_events("The group threatened to attack Ain al-Asad on Monday.", published) == []
    assert extract_events("Kataib Hezbollah warned it would target US bases.", published) == []


def test_an_occasion_beside_an_attack_is_not_the_act() -> None:
    published = datetime(2023, 11, 21, 12, tzinfo=IRAQ)
    hit = "Two rockets hit the US embassy in Baghdad on Monday as protesters gathered outside."
    assert [e.site.id for e in extract_events(hit, published)] == ["us-embassy-baghdad"]
    for text in (
        "Protesters stormed the US embassy in Baghdad on Monday.",
        (
            "A memorial service was held at Ain al-Asad on Monday for troops killed in the 2020 "
            "rocket attack."
        ),
    ):
        assert extract_events(text, published) == []


def test_us_shares_the_words_give_without_a_count() -> None:
    published = datetime(2021, 3, 4, 10, tzinfo=IRAQ)
    (event,) = _events(
        "Rockets hit Erbil airport on Monday, killing a contractor working with the coalition - "
        "not an American - and injuring a US soldier and several others.",
        published,
    ).values()
    assert event.killed == Casualties(1, 0)
    assert event.wounded == Casualties(None, 1)  # "and several others": no total
    (event,) = _events(
        "Drones struck the al-Tanf garrison on Tuesday; two partner fighters were hurt, "
        "no Americans.",
        published,
    ).values()
    assert event.wounded == Casualties(2, 0)
    (event,) = _events(
        "The president said no Americans were harmed when missiles hit Ain al-Asad on Wednesday.",
        published,
    ).values()
    assert (event.killed, event.wounded) == (Casualties(None, 0), Casualties(None, 0))
    (event,) = _events(
        "Rockets hit Victory Base on Tuesday; an Iraqi security official said nobody was hurt.",
        published,
    ).values()
    assert (event.killed, event.wounded) == (Casualties(0, 0), Casualties(0, 0))


def test_the_base_named_by_where_it_lies_is_the_one_named_before() -> None:
    published = datetime(2021, 6, 1, 9, tzinfo=IRAQ)
    text = (
        "Analysts point to Camp Taji.\n\n"
        "The comparison most often drawn is with Camp Taji. On 14 March 2020, some 30 rockets "
        "hit the base north of Baghdad, wounding several coalition troops."
    )
    (event,) = _events(text, published).values()
    assert (event.site.id, event.date_start) == ("camp-taji", date(2020, 3, 14))
    # "the camp at Bashiqa" is a place named anew: not the base named before it.
    text = (
        "Ain al-Asad was quiet on Monday. On Tuesday, two rockets hit the camp at Bashiqa, "
        "officials said."
    )
    assert _events(text, published) == {}


def test_a_town_after_the_date_of_an_attack_is_its_target() -> None:
    text = (
        "The reprisal followed the attack of 3 May on Erbil, where six rockets were fired at "
        "the coalition compound beside the city's airport."
    )
    (event,) = _events(text, datetime(2021, 6, 1, 9, tzinfo=IRAQ)).values()
    assert (event.site.id, event.date_start, event.recent) == (
        "erbil-air-base",
        date(2021, 5, 3),
        False,
    )
    assert event.munitions == Munitions(6, 6)


def test_a_wire_dateline_dates_the_report_not_the_attack() -> None:
    text = (
        "BAGHDAD, June 9 (Wire) - Rockets slammed into Balad air base, officials said.\n\n"
        "The coalition said an estimated 12 Katyusha rockets struck the base on Monday night."
    )
    (event,) = _events(text, datetime(2020, 6, 9, 0, 40, tzinfo=IRAQ)).values()
    assert event.date_start == date(2020, 6, 8)  # Monday, not the dateline's Tuesday
    assert event.munitions == Munitions(12, 12)  # not "an" of "an estimated"


def test_counts_with_not_less_than_and_another() -> None:
    published = datetime(2020, 10, 2, 9, tzinfo=IRAQ)
    (event,) = _events(
        "Not less than seven rockets fell inside Victory Base on Thursday.", published
    ).values()
    assert event.munitions == Munitions(7, None)
    (event,) = _events(
        "On Thursday another drone hit Ain al-Asad and damaged a hangar.", published
    ).values()
    assert event.munitions == Munitions(1, 1)


def test_a_member_of_foreign_forces_is_not_american() -> None:
    text = (
        "Rockets hit the US embassy in Baghdad on Sunday, wounding a member of the Iraqi "
        "security forces."
    )
    (event,) = _events(text, datetime(2020, 12, 21, 9, tzinfo=IRAQ)).values()
    assert event.wounded == Casualties(1, 0)


def test_a_group_the_vocabulary_does_not_know_is_named_by_the_text() -> None:
    text = (
        "Three rockets hit Ain al-Asad on Monday. A faction calling itself the Ashab al-Kahf "
        "Brigade said it fired them."
    )
    (event,) = _events(text, datetime(2021, 2, 2, 9, tzinfo=IRAQ)).values()
    assert (event.perpetrator.name, event.perpetrator.status) == (
        "Ashab al-Kahf Brigade",
        "claimed",
    )


def test_the_toll_after_a_us_strike_is_the_strike_s() -> None:
    text = (
        "Two rockets hit Erbil air base on Monday, causing no casualties.\n\n"
        "US jets later struck two militia depots near al-Qaim. Seven fighters were killed."
    )
    (event,) = _events(text, datetime(2021, 7, 7, 9, tzinfo=IRAQ)).values()
    assert event.killed == Casualties(0, 0)


def test_a_weekend_attack_takes_the_day_the_text_gives_later() -> None:
    text = (
        "WASHINGTON - The Pentagon on Thursday blamed a militia for a weekend drone attack on "
        "al-Tanf.\n\n"
        "The attack on Saturday damaged a warehouse, officials said."
    )
    (event,) = _events(
        text, datetime(2021, 10, 21, 9, tzinfo=timezone(timedelta(hours=-4)))
    ).values()
    assert (event.date_start, event.date_precision) == (date(2021, 10, 16), "day")


def test_a_holiday_is_a_day() -> None:
    text = "On New Year's Day, two drones struck Ain al-Asad, officials said."
    (event,) = _events(text, datetime(2022, 1, 20, 9, tzinfo=IRAQ)).values()
    assert event.date_start == date(2022, 1, 1)


def test_an_outlet_called_today_is_no_date() -> None:
    text = (
        "Rockets hit Ain al-Asad on Monday.\n\n"
        "A source told Anbar Today that the rockets were launched towards the base from a "
        "field nearby."
    )
    (event,) = _events(text, datetime(2024, 8, 8, 9, tzinfo=IRAQ)).values()
    assert event.date_start == date(2024, 8, 5)


def test_a_headline_that_leaves_a_count_out_gives_no_total() -> None:
    text = (
        "Three American soldiers and contractor hurt in Ain al-Asad attack\n\n"
        "Rockets hit Ain al-Asad on Monday evening, officials said."
    )
    (event,) = _events(text, datetime(2024, 8, 6, 9, tzinfo=IRAQ)).values()
    assert event.wounded == Casualties(None, 3)


def test_the_clauses_before_the_site_in_a_sentence_are_its_attack() -> None:
    text = (
        "The factions struck back.\n\n"
        "Early on Sunday, two drones flew in from the desert to the west, and struck a "
        "warehouse inside the base at the Conoco gas field."
    )
    (event,) = _events(text, datetime(2024, 2, 6, 9, tzinfo=IRAQ)).values()
    assert (event.site.id, event.munitions) == ("mss-conoco", Munitions(2, 2))


def test_a_lead_s_unplaced_attack_is_placed_by_the_next_paragraph() -> None:
    text = (
        "Five US troops hurt in Syria drone strike\n\n"
        "WASHINGTON - Five American troops were hurt when a drone hit a base in eastern Syria "
        "on Friday, the Pentagon said Monday.\n\n"
        "The drone struck Rumalyn Landing Zone, which hosts US forces."
    )
    (event,) = _events(
        text, datetime(2024, 8, 12, 12, tzinfo=timezone(timedelta(hours=-4)))
    ).values()
    assert (event.site.id, event.date_start) == ("rumalyn", date(2024, 8, 9))
    assert event.wounded == Casualties(5, 5)


def test_an_attack_something_came_days_after_keeps_its_own_weapon() -> None:
    text = "The drone attack came two days after rockets hit Erbil air base on 3 May."
    (event,) = _events(text, datetime(2021, 5, 20, 9, tzinfo=IRAQ)).values()
    assert (event.site.id, event.attack_type) == ("erbil-air-base", "rocket")


def test_a_denial_that_us_sites_were_targeted_drops_the_rumour() -> None:
    text = (
        "Missiles struck homes in Erbil late on Monday, killing four civilians.\n\n"
        "Early reports said the US consulate was the target. But US officials said no US "
        "personnel or facilities were targeted."
    )
    assert _events(text, datetime(2024, 1, 16, 9, tzinfo=IRAQ)) == {}


def test_since_a_month_starts_a_period_and_a_claim_s_day_is_not_the_attack_s() -> None:
    text = (
        "Late on Sunday a drone hit the al-Omar oil field base, officials said. The Islamic "
        "Resistance in Iraq, active since October, claimed the strike on Monday."
    )
    (event,) = _events(text, datetime(2024, 2, 6, 9, tzinfo=IRAQ)).values()
    assert event.date_start == date(2024, 2, 4)
    assert (event.perpetrator.name, event.perpetrator.status) == (
        "Islamic Resistance in Iraq",
        "claimed",
    )


def test_deaths_of_one_named_or_described_person() -> None:
    published = datetime(2020, 1, 2, 9, tzinfo=IRAQ)
    text = (
        "On 27 December, rockets hit the K-1 base outside Kirkuk. They killed Ali Jasim, a "
        "naturalised American working as a linguist, and wounded two US service members."
    )
    (event,) = _events(text, published).values()
    assert (event.killed, event.wounded) == (Casualties(1, 1), Casualties(2, 2))
    text = (
        "Rockets hit Ain al-Asad on Tuesday. Nobody was wounded, but an American contractor "
        "collapsed while sheltering in a bunker and died hours later."
    )
    (event,) = _events(text, published).values()
    assert (event.killed, event.wounded) == (Casualties(1, 1), Casualties(0, 0))
    text = (
        "Drones were shot down near Ain al-Asad on Tuesday. A US contractor at the base died of a "
        "heart attack during the alert. Officials said his death was not caused by an attack."
    )
    (event,) = _events(text, published).values()
    assert event.killed == Casualties(None, None)


def test_no_one_killed_or_hurt_says_both() -> None:
    text = "Rockets hit the US embassy in Baghdad on Sunday. No Americans were killed or hurt."
    (event,) = _events(text, datetime(2020, 12, 22, 9, tzinfo=IRAQ)).values()
    assert (event.killed, event.wounded) == (Casualties(None, 0), Casualties(None, 0))
    text = "The drone that hit Erbil air base on Sunday did not, by luck, kill anyone."
    (event,) = _events(text, datetime(2021, 5, 12, 9, tzinfo=IRAQ)).values()
    assert event.killed == Casualties(0, 0)


def test_the_first_of_the_attacks_told_of_at_a_named_site() -> None:
    text = (
        "Drones target two bases in Iraq\n\n"
        "BAGHDAD - Two bases hosting US troops were targeted by drones in separate attacks on "
        "Thursday, officials said.\n\n"
        "The first came before dawn at Ain al-Asad air base. US forces downed three drones "
        "there. Nobody had claimed the Anbar attack by the evening."
    )
    (event,) = _events(text, datetime(2023, 10, 27, 20, tzinfo=IRAQ)).values()
    assert (event.site.id, event.date_start, event.munitions) == (
        "ain-al-asad",
        date(2023, 10, 26),
        Munitions(3, 3),
    )


def test_a_base_named_only_by_the_part_of_the_country_it_lies_in() -> None:
    published = datetime(2024, 2, 1, 9, tzinfo=IRAQ)
    text = "A drone struck a small outpost in far north-east Jordan on Monday, wounding 12 troops."
    (event,) = _events(text, published).values()
    assert event.site.id == "tower-22"
    # Northern Iraq held two bases with US troops then (Erbil, Harir): no one of them is meant.
    text = "A drone struck a base in northern Iraq on Monday, wounding two troops."
    events = extract_events(text, datetime(2023, 10, 10, 9, tzinfo=IRAQ))
    assert all(e.site is None for e in events)


def test_the_us_military_s_own_words_for_its_people_are_us() -> None:
    text = (
        "Drones hit al-Tanf on Sunday. Two service members were killed and 14 were injured, "
        "and three reservists were treated for concussions."
    )
    (event,) = _events(text, datetime(2024, 1, 30, 9, tzinfo=IRAQ)).values()
    assert event.killed == Casualties(2, 2)
    assert event.wounded == Casualties(14, 14)


def test_each_site_keeps_its_own_weapon_and_count() -> None:
    text = (
        "Rockets on Conoco and drones on al-Tanf\n\n"
        "Three drones attacked al-Tanf on Monday, officials said, while a one-way unmanned "
        "aerial vehicle was downed near Conoco on the same day."
    )
    events = _events(text, datetime(2022, 8, 17, 9, tzinfo=IRAQ))
    assert events["al-tanf"].attack_type == "drone"
    assert events["al-tanf"].munitions == Munitions(3, 3)


def test_zero_tolls_and_local_victims() -> None:
    published = datetime(2020, 10, 1, 9, tzinfo=IRAQ)
    (event,) = _events(
        "Drones struck al-Tanf on Tuesday. No one was killed or wounded.", published
    ).values()
    assert (event.killed, event.wounded) == (Casualties(0, 0), Casualties(0, 0))
    (event,) = _events(
        "Rockets hit Erbil air base on Tuesday. There were no reports of American injuries.",
        published,
    ).values()
    assert event.wounded == Casualties(None, 0)
    (event,) = _events(
        "Rockets aimed at Baghdad airport on Tuesday fell on a house nearby; a woman and two "
        "children were killed.",
        published,
    ).values()
    assert event.killed == Casualties(3, 0)


def test_a_later_toll_at_another_place_is_not_ours() -> None:
    text = (
        "A drone hit Erbil air base on Wednesday, causing no casualties.\n\n"
        "Rockets were also fired that night at a Turkish camp at Zilkan. Ankara said a soldier "
        "was killed at Zilkan, and a child was wounded in a village nearby."
    )
    (event,) = _events(text, datetime(2021, 4, 16, 9, tzinfo=IRAQ)).values()
    assert (event.killed, event.wounded) == (Casualties(0, 0), Casualties(0, 0))


def test_a_site_that_only_owns_the_guns_is_not_the_place_hit() -> None:
    published = datetime(2020, 12, 10, 9, tzinfo=IRAQ)
    text = "Rockets landed in the Green Zone on Tuesday, setting off the embassy's C-RAM guns."
    (event,) = _events(text, published).values()
    assert event.site.id == "green-zone"
    # With no other place named, the embassy whose defences fired is the one attacked.
    text = "On Tuesday, the US embassy's defences in Baghdad shot down a drone."
    (event,) = _events(text, published).values()
    assert event.site.id == "us-embassy-baghdad"


def test_a_later_toll_at_the_site_joins_its_one_attack() -> None:
    text = (
        "On January 8, missiles hit Ain al-Asad.\n\n"
        "The Pentagon said on Friday that 11 American troops at Ain al-Asad had been diagnosed "
        "with concussions."
    )
    (event,) = _events(text, datetime(2020, 1, 20, 9, tzinfo=IRAQ)).values()
    assert (event.date_start, event.wounded) == (date(2020, 1, 8), Casualties(11, 11))


def test_a_us_share_of_part_of_a_toll_adds_to_the_rest() -> None:
    text = (
        "Rockets hit Erbil air base on Monday. Seven people were injured - six contractors and "
        "one US soldier. Officials said three of the injured contractors are US citizens."
    )
    (event,) = _events(text, datetime(2021, 2, 17, 9, tzinfo=IRAQ)).values()
    assert event.wounded == Casualties(7, 4)


def test_partner_forces_are_not_us_and_a_dateline_is_no_range() -> None:
    text = (
        "QAMISHLI, Feb 5 - An explosive drone hit the al-Omar oil field base late on Sunday, "
        "killing four fighters of the U.S.-backed Syrian Democratic Forces. No casualties were "
        "reported among U.S. troops."
    )
    (event,) = _events(text, datetime(2024, 2, 5, 9, tzinfo=IRAQ)).values()
    assert event.munitions == Munitions(1, 1)
    assert (event.killed, event.wounded) == (Casualties(4, 0), Casualties(None, 0))


def test_a_tally_since_a_date_is_no_share_of_the_toll() -> None:
    text = (
        "A missile hit Ain al-Asad on Monday, wounding eight people. Some 62 US personnel have "
        "been hurt in attacks since Oct. 17, the Pentagon said."
    )
    (event,) = _events(text, datetime(2023, 11, 21, 9, tzinfo=IRAQ)).values()
    assert event.wounded.total == 8 and event.wounded.us is None


def test_no_one_at_the_base_and_unmanned_aerial_systems() -> None:
    text = (
        "On Monday a one-way unmanned aerial system struck Tower 22 in Jordan. No one at the "
        "base was hurt, a spokesman said."
    )
    (event,) = _events(text, datetime(2024, 1, 30, 9, tzinfo=IRAQ)).values()
    assert event.munitions == Munitions(1, 1)
    assert (event.killed, event.wounded) == (Casualties(0, 0), Casualties(0, 0))


def test_an_events_own_sentence_dates_it_over_a_lead_given_to_all() -> None:
    text = (
        "Militia claims drones on Conoco, a day after a Harir drone\n\n"
        "A militia said on Thursday that it had fired drones at two US bases in Syria.\n\n"
        "On Wednesday a drone loaded with explosives came down near Harir air base, north-east "
        "of Erbil. There were no victims, the Kurdish authorities said."
    )
    events = _events(text, datetime(2023, 10, 19, 21, tzinfo=IRAQ))
    harir = events["harir-air-base"]
    assert harir.date_start == date(2023, 10, 18)
    assert (harir.killed, harir.wounded) == (Casualties(0, 0), Casualties(0, 0))


def test_called_it_an_attack_on_an_airport_is_no_other_place() -> None:
    text = (
        "Rockets hit Baghdad airport last Friday; nobody was hurt.\n\n"
        "On January 3, two drones were shot down at the Baghdad Diplomatic Support Center. "
        "Officials called it a dangerous attack on a civilian airport. There was no damage and "
        "no one was injured."
    )
    events = _events(text, datetime(2022, 2, 1, 9, tzinfo=IRAQ))
    bdsc = events["bdsc"]
    assert (bdsc.killed, bdsc.wounded) == (Casualties(0, 0), Casualties(0, 0))


def test_the_base_after_a_us_strike_at_another_site_is_the_one_named_before() -> None:
    text = (
        "Rockets hit Ain al-Asad on Wednesday, the Pentagon said.\n\n"
        "Ain al-Asad has been hit before. In January last year, days after the US killed Qassem "
        "Soleimani at Baghdad airport, Iran fired ballistic missiles at the base. Eleven of them "
        "struck it. No one was killed, and no Americans were harmed, officials said at first, but "
        "the count of service members diagnosed with brain injuries rose in stages, reaching 109."
    )
    events = extract_events(text, datetime(2021, 3, 5, 9, tzinfo=IRAQ))
    assert [e.site.id for e in events if e.site] == ["ain-al-asad", "ain-al-asad"]
    (old,) = [e for e in events if e.date_start == date(2020, 1, 1)]
    assert old.munitions == Munitions(11, None)
    assert old.wounded == Casualties(109, 109)


def test_tolls_a_revised_count_and_a_us_and_a_foreign_group() -> None:
    text = (
        "Late on Monday rockets fell on Erbil airport. A civilian contractor who was not a US "
        "citizen was killed. A first tally listed six wounded; later counts put the number of "
        "wounded at nine.\n\n"
        "On Wednesday a missile hit Ain al-Asad air base: four American service members were "
        "diagnosed with brain injuries and one Iraqi soldier was wounded."
    )
    events = _events(text, datetime(2021, 2, 18, 9, tzinfo=IRAQ))
    erbil, asad = events["erbil-air-base"], events["ain-al-asad"]
    assert erbil.killed == Casualties(1, 0) and erbil.wounded.total == 9
    assert asad.wounded == Casualties(5, 4)
    (quiet,) = _events(
        "Rockets hit Camp Taji on Monday. All service members were accounted for and none was hurt.",
        datetime(2020, 3, 17, 9, tzinfo=IRAQ),
    ).values()
    assert quiet.wounded == Casualties(0, 0)


def test_a_risen_toll_takes_its_own_verb_and_a_tally_of_attacks_is_no_count() -> None:
    text = (
        "A drone struck Tower 22 in Jordan on Sunday. The attack killed three American soldiers, "
        "and the Pentagon said on Monday the number of injured rose to more than 40 American "
        "soldiers. It came after more than 150 drone and rocket attacks on US forces."
    )
    (event,) = _events(text, datetime(2024, 1, 30, 9, tzinfo=IRAQ)).values()
    assert event.killed == Casualties(3, 3) and event.wounded == Casualties(41, 41)
    assert event.munitions == Munitions(1, 1)


def test_yesterdays_drone_on_a_base_of_the_coalition_is_not_todays_named_base() -> None:
    text = (
        "Rockets fall toward al-Omar field\n\n"
        "Rockets were launched this morning, Friday, toward the base of the coalition in al-Omar "
        "oil field. The attack did not cause any injury to the American personnel.\n\n"
        "Yesterday, Thursday, a drone had hit a facility inside a base of the coalition in the "
        "countryside of al-Hasakah. The Pentagon said the attack killed an American contractor."
    )
    events = extract_events(text, datetime(2023, 3, 24, 14, tzinfo=IRAQ))
    by_day = {e.date_start: e for e in events}
    assert by_day[date(2023, 3, 24)].site.id == "green-village"
    assert by_day[date(2023, 3, 24)].killed == Casualties(0, 0)
    assert by_day[date(2023, 3, 23)].site is None
    assert by_day[date(2023, 3, 23)].killed == Casualties(1, 1)


def test_a_site_in_an_aside_and_a_slashed_dateline() -> None:
    text = (
        "WASHINGTON/BEIRUT, March 24 (Wire) - A drone slammed into a coalition base near Hasakah "
        "on Thursday, killing an American contractor.\n\n"
        "What marks Thursday's attack is not its make - a drone of the kind flown at al-Tanf for "
        "months - but that it got through."
    )
    (event,) = extract_events(text, datetime(2023, 3, 24, 7, tzinfo=IRAQ))
    assert event.site is None and event.date_start == date(2023, 3, 23)
    assert event.munitions == Munitions(1, 1)


def test_it_was_hit_is_the_site_before_and_the_answers_toll_is_not_the_attacks() -> None:
    text = (
        "On Wednesday rockets were fired at Green Village. US helicopters and an AC-130 gunship "
        "struck the launch area. Two suspected militants had been killed, officials said. By "
        "Thursday that had grown to four fighters killed.\n\n"
        "At-Tanf has been the militias' favourite target. On Oct. 20 last year it was hit by "
        "drones and rockets. No Americans were hurt."
    )
    events = _events(text, datetime(2022, 8, 26, 9, tzinfo=IRAQ))
    assert events["green-village"].killed.total is None
    tanf = events["al-tanf"]
    assert tanf.date_start == date(2021, 10, 20) and tanf.location_text == "At-Tanf"


def test_a_share_speaks_of_the_figure_just_before_it_and_a_count_that_reached() -> None:
    text = (
        "Rockets fell on Camp Taji on Wednesday evening. Officials at first said ten rockets "
        "fell, before the coalition confirmed that the toll is three dead, two of them are "
        "American soldiers, in addition to twelve wounded. The number of the rockets which fell "
        "inside the camp reached eighteen rockets."
    )
    (event,) = _events(text, datetime(2020, 3, 13, 9, tzinfo=IRAQ)).values()
    assert event.killed == Casualties(3, 2) and event.wounded == Casualties(12, None)
    assert event.munitions == Munitions(18, 18)


def test_several_others_among_them_one_american() -> None:
    text = (
        "In February a rocket barrage on Erbil airport killed a contractor who was not an "
        "American, and wounded several other people, among them one American service member."
    )
    (event,) = _events(text, datetime(2021, 4, 16, 9, tzinfo=IRAQ)).values()
    assert event.killed == Casualties(1, 0) and event.wounded == Casualties(None, 1)


def test_weapons_sent_at_another_target_of_the_salvo_are_not_the_sites() -> None:
    text = (
        "Patriot crews at Al Dhafra Air Base fired at two incoming ballistic missiles on Monday. "
        "A Houthi spokesman said the group had aimed ballistic missiles at Al Dhafra, and drones "
        "at targets in Dubai."
    )
    (event,) = _events(
        text, datetime(2022, 1, 24, 12, tzinfo=timezone(timedelta(hours=4)))
    ).values()
    assert event.attack_type == "ballistic_missile"
    assert event.munitions == Munitions(2, 2)


def test_tolls_other_service_members_injury_of_and_a_raised_number() -> None:
    first = _events(
        "Three American soldiers were killed and at least 25 other service members were "
        "wounded when a drone struck Tower 22 on Sunday.",
        datetime(2024, 1, 29, 9, tzinfo=IRAQ),
    )["tower-22"]
    assert first.wounded == Casualties(25, 25)
    later = _events(
        "A drone targeted Tower 22 at dawn on Sunday, which led to the killing of three soldiers "
        "of the American army and injury of 25 others. The command had said at first that 25 "
        "were injured, before it raised the number to 34 injured among the service members.",
        datetime(2024, 1, 29, 21, tzinfo=IRAQ),
    )["tower-22"]
    assert later.killed.total == 3 and later.wounded == Casualties(34, 34)
    jafr = _events(
        "A guard opened fire at the gate of King Faisal Air Base on 4 November 2016, killing "
        "three US Army Special Forces trainers.",
        datetime(2024, 2, 3, 9, tzinfo=IRAQ),
    )["king-faisal-air-base"]
    assert jafr.killed == Casualties(3, 3)


def test_an_anniversary_lead_dates_the_night_and_what_was_said_is_a_segment() -> None:
    text = (
        "One year on: the night Iran's missiles hit Ain al-Asad\n\n"
        "A year ago today, the first of Iran's ballistic missiles landed on Ain al-Asad air "
        "base. By the time the salvo ended, one had hit Erbil International Airport."
    )
    events = _events(text, datetime(2021, 1, 8, 10, tzinfo=IRAQ))
    assert {e.date_start for e in events.values()} == {date(2020, 1, 8)}
    assert set(events) == {"ain-al-asad", "erbil-air-base"}
    said = _events(
        "Iran launched 16 missiles on January 8 at Ain al-Asad, saying the salvo avenged the US "
        "killing of Qassem Soleimani.",
        datetime(2020, 2, 10, 9, tzinfo=IRAQ),
    )
    assert said["ain-al-asad"].munitions == Munitions(16, 16)


def test_a_heading_dates_the_claim_under_it_and_small_tolls() -> None:
    text = (
        "Resistance channels roundup\n\n"
        "2) A faction - posted Wednesday afternoon\n\n"
        "The faction said it had launched a drone at Harir air base. Central Command said the "
        "drone was destroyed and caused neither injuries nor damage.\n\n"
        "On Thursday two drones flew at al-Asad; one was destroyed and the other came down, "
        "leaving a small number of troops with minor injuries. Later that day a contractor had "
        "a cardiac episode and died; the Pentagon said no attack took place then."
    )
    events = _events(text, datetime(2023, 10, 20, 9, tzinfo=IRAQ))
    harir = events["harir-air-base"]
    assert harir.date_start == date(2023, 10, 18)
    assert (harir.killed, harir.wounded) == (Casualties(0, 0), Casualties(0, 0))
    asad = events["ain-al-asad"]
    assert asad.wounded.total is None and asad.killed.total is None


def test_hurt_nobody_and_nobody_died() -> None:
    (event,) = _events(
        "A missile hit Erbil airport on Wednesday. The missile hurt nobody.",
        datetime(2020, 1, 9, 9, tzinfo=IRAQ),
    ).values()
    assert (event.killed, event.wounded) == (Casualties(0, 0), Casualties(0, 0))
    (other,) = _events(
        "Rockets hit Camp Taji on Monday. Nobody died.", datetime(2020, 3, 17, 9, tzinfo=IRAQ)
    ).values()
    assert other.killed == Casualties(0, 0) and other.wounded.total is None


def test_how_many_struck_a_site_is_its_count() -> None:
    events = _events(
        "Iran fired ballistic missiles at two bases on Wednesday. Eleven of the missiles struck "
        "Ain al-Asad. By the time the salvo ended, one had hit Erbil International Airport.",
        datetime(2020, 1, 9, 9, tzinfo=IRAQ),
    )
    assert events["ain-al-asad"].munitions == Munitions(11, 11)
    assert events["erbil-air-base"].munitions == Munitions(1, 1)
    (part,) = _events(
        "Rockets were fired at Camp Taji on Monday and three of them landed inside the camp.",
        datetime(2020, 3, 17, 9, tzinfo=IRAQ),
    ).values()
    assert part.munitions == Munitions(3, None)


def test_a_calibre_between_the_count_and_the_weapon() -> None:
    (event,) = _events(
        "When eighteen 107mm rockets fell on Camp Taji on Wednesday evening, three were killed.",
        datetime(2020, 3, 13, 9, tzinfo=IRAQ),
    ).values()
    assert event.munitions == Munitions(18, 18)


def test_us_positions_came_under_fire_after_a_us_strike_and_another_was_aimed_at() -> None:
    text = (
        "On Sunday evening, hours after U.S. aircraft struck two facilities in eastern Syria, "
        "U.S. positions in the northeast came under fire again. One attack targeted forces near "
        "the al-Omar oil field; another was aimed at the U.S. base at al-Shaddadi."
    )
    events = _events(text, datetime(2023, 11, 14, 9, tzinfo=IRAQ))
    assert events["green-village"].date_start == date(2023, 11, 12)
    assert events["shaddadi"].date_start == date(2023, 11, 12)


def test_partner_and_iraqi_tolls_and_a_share_after_a_group() -> None:
    (omar,) = _events(
        "Late on Sunday a drone struck the al-Omar oil field base. SDF spokesman Farhad Shami "
        "said six of the group's commandos were killed.",
        datetime(2024, 2, 5, 9, tzinfo=IRAQ),
    ).values()
    assert omar.killed == Casualties(6, 0)
    (balad,) = _events(
        "On Sunday eight Katyusha rockets landed on Balad air base, wounding four members of "
        "the Iraqi air force, two of them officers.",
        datetime(2020, 1, 13, 9, tzinfo=IRAQ),
    ).values()
    assert balad.wounded == Casualties(4, 0)


def test_a_trackers_table_rows_read_as_sentences() -> None:
    from extract.article import extract_page

    rows = "".join(
        f"<tr><td>{d}</td><td>{place}</td><td>{weapon}</td><td>{what}</td></tr>"
        for d, place, weapon, what in [
            (
                "29 Oct",
                "Al-Shaddadi base, southern Hasakah",
                "Drones (2, per claim)",
                "Iraqi security sources said a drone hit the base.",
            ),
            (
                "8 Nov",
                "Maysalun, Deir ez-Zor",
                "U.S. F-15 strike",
                "Two F-15s struck a weapons storage facility.",
            ),
        ]
    )
    html = (
        "<html><head><title>Syria tracker</title></head><body><article><h1>Syria tracker</h1>"
        "<p>This log compiles the incidents in Syria for which a date and a location could be "
        "established from statements and local sources over the past weeks.</p>"
        f"<table><tr><th>Date</th><th>Location</th><th>Weapon</th><th>What happened</th></tr>"
        f"{rows}</table></article></body></html>"
    )
    page = extract_page(html)
    assert page is not None and "29 Oct, Al-Shaddadi base" in page.text
    (event,) = extract_events(page.text, datetime(2023, 11, 9, 17, tzinfo=IRAQ))
    assert event.site.id == "shaddadi" and event.date_start == date(2023, 10, 29)
    assert event.munitions == Munitions(2, 2)


def test_the_coalition_base_at_the_airport_is_the_airport_named_and_after_midnight() -> None:
    text = (
        "Missiles on Erbil\n\n"
        "The barrage that lit up the sky over Erbil early on Sunday broke the pattern. Shortly "
        "after midnight, missiles came down near the U.S. consulate in Erbil.\n\n"
        "The coalition's base at Erbil airport has long been a target. In September, two drones "
        "were flown at the coalition base at the airport; no one was hurt."
    )
    events = extract_events(text, datetime(2022, 3, 15, 18, tzinfo=IRAQ))
    by_site = {e.site.id: e for e in events if e.site}
    assert by_site["erbil-consulate"].date_start == date(2022, 3, 13)
    september = by_site["erbil-air-base"]
    assert (september.date_start, september.date_precision) == (date(2021, 9, 1), "month")


def test_and_another_at_the_base_in_x() -> None:
    text = (
        "On Sunday evening a one-way attack drone was launched at Mission Support Site Green "
        "Village, and another at the base in al-Shaddadi, in southern Hasakah province."
    )
    events = _events(text, datetime(2023, 11, 13, 9, tzinfo=IRAQ))
    assert events["shaddadi"].munitions == Munitions(1, 1)
    assert events["green-village"].munitions == Munitions(1, 1)


def test_the_toll_of_an_earlier_strike_elsewhere_is_not_the_sites() -> None:
    text = (
        "Patriot crews at Al Dhafra Air Base fired at two ballistic missiles on Monday. No one at "
        "the base was hurt. The Houthis said they had aimed ballistic missiles at Al Dhafra and "
        "had sent drones toward targets in Dubai. The launch came a week after a Houthi drone "
        "and missile strike on an Abu Dhabi fuel depot that killed three workers."
    )
    (event,) = _events(
        text, datetime(2022, 1, 24, 12, tzinfo=timezone(timedelta(hours=4)))
    ).values()
    assert event.attack_type == "ballistic_missile"
    assert event.killed == Casualties(0, 0)


def test_the_date_of_the_part_naming_the_site() -> None:
    text = (
        "Rockets hit Rumalyn on Friday.\n\n"
        "The groups stood down in February after the 28 January drone strike on Tower 22 in "
        "Jordan that killed three US Army reservists, and after a heavy American retaliation."
    )
    events = _events(text, datetime(2024, 8, 13, 9, tzinfo=IRAQ))
    assert events["tower-22"].date_start == date(2024, 1, 28)
    assert events["tower-22"].killed == Casualties(3, 3)


def test_wounded_transferred_for_treatment_is_no_handover() -> None:
    text = (
        "Rockets struck Ain al-Asad air base on Monday, wounding five US troops.\n\n"
        "Two of them were transferred outside the base for further treatment. No deaths were "
        "recorded."
    )
    (event,) = _events(text, datetime(2024, 8, 6, 9, tzinfo=IRAQ)).values()
    assert event.killed == Casualties(0, 0)
    assert event.wounded == Casualties(5, 5)

