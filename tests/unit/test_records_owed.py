import datetime as dt

import pytest

from hscm_tools import deadlines as dl
from hscm_tools import records_owed as ro
from hscm_tools import school_calendar as sc

D = dt.date
WEEKS = sc.teaching_weeks(D(2026, 9, 7), [(D(2027, 2, 1), D(2027, 2, 13))])


def test_periods_of_each_rule():
    assert ro.periods_for_rule("yearly_date", WEEKS) == [dl.Period()]
    assert ro.periods_for_rule("teaching_week_end", WEEKS) == [dl.Period()]
    assert ro.periods_for_rule("semester_end", WEEKS) == [dl.Period(semester=1), dl.Period(semester=2)]
    assert [p.week for p in ro.periods_for_rule("weekly_before", WEEKS)] == list(range(1, 36))
    assert ro.periods_for_rule("event_days", WEEKS) == []
    assert ro.periods_for_rule("none", WEEKS) == []
    assert ro.periods_for_rule("yearly_date", []) == []
    with pytest.raises(ValueError):
        ro.periods_for_rule("fortnightly", WEEKS)


def test_months_are_those_holding_teaching_days():
    months = [p.month for p in ro.periods_for_rule("monthly_last_day", WEEKS)]
    # 7 September 2026 … the 35th teaching week (the Tết weeks skipped) ends in May 2027
    assert months[0] == D(2026, 9, 1)
    assert months[-1] == D(2027, 5, 1)
    assert len(months) == len(set(months)) == 9
    assert D(2027, 2, 1) in months, "February still has teaching weeks after Tết"


def test_a_week_across_two_months_owes_both():
    weeks = [sc.TeachingWeek(1, D(2026, 9, 28), D(2026, 10, 4))]
    assert [p.month for p in ro.periods_for_rule("monthly_first_monday", weeks)] == [D(2026, 9, 1), D(2026, 10, 1)]


def test_period_keys_match_any_day_of_the_month():
    assert ro.period_key(dl.Period(month=D(2026, 10, 17))) == ro.period_key(dl.Period(month=D(2026, 10, 1)))
    assert ro.period_key(dl.Period(week=3)) == ("week", 3)
    assert ro.period_key(dl.Period(semester=2)) == ("semester", 2)
    assert ro.period_key(dl.Period()) == ("year",)


def test_owed_records_one_per_owner_and_period():
    owed = ro.owed_records(7, "semester_end", [("class", 1), ("class", 2)], WEEKS)
    assert len(owed) == 4
    assert {record.key for record in owed} == {(7, ("class", c), ("semester", s)) for c in (1, 2) for s in (1, 2)}


def test_week_of_a_deadline():
    sept10 = dl.deadline("yearly_date", {"day": 10, "month": 9}, dl.Period(), WEEKS)
    assert ro.week_of_deadline(sept10, WEEKS) == 1
    in_tet = dt.datetime(2027, 2, 5, 12, tzinfo=sc.VN_TZ)
    before_tet = [w for w in WEEKS if w.end < D(2027, 2, 1)][-1]
    assert ro.week_of_deadline(in_tet, WEEKS) == before_tet.number, "a deadline in a break: the week before it"
    assert ro.week_of_deadline(dt.datetime(2026, 8, 1, tzinfo=sc.VN_TZ), WEEKS) == 1
    assert ro.week_of_deadline(dt.datetime(2027, 8, 1, tzinfo=sc.VN_TZ), WEEKS) == 35
    assert ro.week_of_deadline(None, WEEKS) is None


def test_the_period_a_dossier_settles():
    assert ro.period_of("weekly_before", week=4, month=D(2026, 10, 9)) == dl.Period(week=4)
    assert ro.period_of("monthly_last_day", week=4, month=D(2026, 10, 9)) == dl.Period(month=D(2026, 10, 9))
    assert ro.period_of("semester_end", week=4, semester="2") == dl.Period(semester=2)
    assert ro.period_of("yearly_date", week=4, month=D(2026, 10, 9), semester="1") == dl.Period()


def test_owner_keys_by_level():
    assert ro.owner_keys("teacher", 1, staff_id=5) == [("staff", 5)]
    assert ro.owner_keys("department", 1, department_id=3) == [("department", 3)]
    assert ro.owner_keys("group", 1, group_id=2) == [("group", 2)]
    assert ro.owner_keys("class", 1, class_ids=[7, 8]) == [("class", 7), ("class", 8)]
    assert ro.owner_keys("school", 1) == ro.owner_keys("office", 1) == [("school", 1)]
