import datetime as dt

import pytest

from hscm_tools import deadlines as dl
from hscm_tools import school_calendar as sc

D = dt.date
WEEKS = sc.teaching_weeks(D(2026, 9, 7), [(D(2027, 2, 1), D(2027, 2, 13))])


def vn(*args):
    return dt.datetime(*args, tzinfo=sc.VN_TZ)


@pytest.mark.parametrize(
    "weekday, expected",
    [
        (6, vn(2026, 11, 22, 23, 59)),  # Sunday of the week before [002]
        (5, vn(2026, 11, 21, 23, 59)),  # Saturday [003]
        (4, vn(2026, 11, 20, 23, 59)),  # Friday [004]
    ],
)
def test_weekly_deadline_is_in_the_week_before(weekday, expected):
    # teaching week 12 starts on Monday 23 November 2026
    got = dl.deadline("weekly_before", {"weekday": weekday, "time": 23.99}, dl.Period(week=12), WEEKS)
    assert got == expected


def test_weekly_deadline_time_of_day():
    got = dl.deadline("weekly_before", {"weekday": 5, "time": 17.5}, dl.Period(week=12), WEEKS)
    assert got == vn(2026, 11, 21, 17, 30)
    assert got.astimezone(dt.timezone.utc) == dt.datetime(2026, 11, 21, 10, 30, tzinfo=dt.timezone.utc)


def test_weekly_deadline_after_a_break():
    # week 22 follows Tết: the "week before" is a break week, the rule still holds by the calendar
    got = dl.deadline("weekly_before", {"weekday": 5}, dl.Period(week=22), WEEKS)
    assert got.date() == D(2027, 2, 13)


def test_yearly_dates_fall_in_the_right_calendar_year():
    assert dl.deadline("yearly_date", {"day": 10, "month": 9}, dl.Period(), WEEKS).date() == D(2026, 9, 10)
    assert dl.deadline("yearly_date", {"day": 31, "month": 8}, dl.Period(), WEEKS).date() == D(2026, 8, 31)
    assert dl.deadline("yearly_date", {"day": 15, "month": 1}, dl.Period(), WEEKS).date() == D(2027, 1, 15)


def test_monthly_rules():
    nov = dl.Period(month=D(2026, 11, 17))
    assert dl.deadline("monthly_first_monday", {}, nov, WEEKS).date() == D(2026, 11, 2)
    assert dl.deadline("monthly_first_monday", {}, dl.Period(month=D(2027, 2, 1)), WEEKS).date() == D(2027, 2, 1)
    assert dl.deadline("monthly_last_day", {}, nov, WEEKS).date() == D(2026, 11, 30)
    assert dl.deadline("monthly_last_day", {}, dl.Period(month=D(2028, 2, 3)), WEEKS).date() == D(2028, 2, 29)
    # "plan in week 1, minutes at the end of week 2": week 1 holds the 1st (Sun 1 Nov 2026)
    assert dl.deadline("monthly_week_end", {"week": 1, "weekday": 5}, nov, WEEKS).date() == D(2026, 10, 31)
    assert dl.deadline("monthly_week_end", {"week": 2, "weekday": 5}, nov, WEEKS).date() == D(2026, 11, 7)


def test_semester_week_and_event_rules():
    assert dl.deadline("semester_end", {}, dl.Period(semester=1), WEEKS).date() == WEEKS[17].end
    assert dl.deadline("semester_end", {}, dl.Period(semester=2), WEEKS).date() == WEEKS[-1].end
    assert dl.deadline("teaching_week_end", {"week": 19}, dl.Period(), WEEKS).date() == WEEKS[18].end
    assert dl.deadline("event_days", {"days": 2}, dl.Period(event_date=D(2026, 10, 15)), WEEKS).date() == D(2026, 10, 17)
    assert dl.deadline("none", {}, dl.Period(), WEEKS) is None


def test_wrong_periods_are_refused():
    with pytest.raises(ValueError):
        dl.deadline("weekly_before", {}, dl.Period(), WEEKS)
    with pytest.raises(ValueError):
        dl.deadline("weekly_before", {}, dl.Period(week=36), WEEKS)
    with pytest.raises(ValueError):
        dl.deadline("monthly_last_day", {}, dl.Period(), WEEKS)
    with pytest.raises(ValueError):
        dl.deadline("semester_end", {}, dl.Period(semester=3), WEEKS)
    with pytest.raises(ValueError):
        dl.deadline("event_days", {}, dl.Period(), WEEKS)
    with pytest.raises(ValueError):
        dl.deadline("fortnightly", {}, dl.Period(), WEEKS)


def test_lookahead_cap():
    assert dl.lookahead_ok(7, 5, 2)
    assert not dl.lookahead_ok(8, 5, 2)
    assert dl.lookahead_ok(3, 5, 2), "late and back-filled weeks are not capped"
    assert dl.lookahead_ok(30, 5, 0)


def test_current_teaching_week():
    assert dl.current_teaching_week(D(2026, 9, 1), WEEKS) == 0
    assert dl.current_teaching_week(D(2026, 9, 7), WEEKS) == 1
    assert dl.current_teaching_week(D(2026, 11, 29), WEEKS) == 12
    assert dl.current_teaching_week(D(2027, 2, 5), WEEKS) == 22, "during Tết: the next week"
    assert dl.current_teaching_week(D(2027, 8, 1), WEEKS) == 35
    # Monday 00:30 in Vietnam is still Sunday in UTC
    assert dl.current_teaching_week(dt.datetime(2026, 11, 22, 17, 30), WEEKS) == 12
