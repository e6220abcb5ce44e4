import datetime as dt

import pytest

from hscm_tools import school_calendar as sc

D = dt.date
UTC = dt.timezone.utc


def test_week_one_is_the_week_containing_the_first_day():
    weeks = sc.teaching_weeks(D(2026, 9, 9))  # a Wednesday
    assert weeks[0] == sc.TeachingWeek(1, D(2026, 9, 7), D(2026, 9, 13))
    assert len(weeks) == 35
    assert [w.number for w in weeks] == list(range(1, 36))


def test_a_full_break_week_gets_no_number():
    tet = [(D(2027, 2, 1), D(2027, 2, 13))]  # two whole weeks of Tết
    weeks = sc.teaching_weeks(D(2026, 9, 7), tet)
    before = sc.week_of(D(2027, 1, 29), weeks)
    after = sc.week_of(D(2027, 2, 15), weeks)
    assert after.number == before.number + 1
    assert sc.week_of(D(2027, 2, 3), weeks) is None
    assert sc.week_of(D(2027, 2, 10), weeks) is None
    # the frame is pushed back by the two break weeks
    assert weeks[-1].start == D(2026, 9, 7) + dt.timedelta(weeks=36)


def test_a_partial_break_keeps_the_week():
    one_day = [(D(2027, 1, 1), D(2027, 1, 1))]
    weeks = sc.teaching_weeks(D(2026, 9, 7), one_day)
    assert sc.week_of(D(2027, 1, 1), weeks) is not None
    assert weeks == sc.teaching_weeks(D(2026, 9, 7))


def test_a_break_over_monday_to_saturday_only_skips_the_week():
    # Sunday is not a teaching day: Mon-Sat in a break is enough to skip.
    weeks = sc.teaching_weeks(D(2026, 9, 7), [(D(2026, 9, 14), D(2026, 9, 19))])
    assert weeks[1].start == D(2026, 9, 21)


def test_outside_the_year():
    weeks = sc.teaching_weeks(D(2026, 9, 7))
    assert sc.week_of(D(2026, 9, 6), weeks) is None
    assert sc.week_of(weeks[-1].end + dt.timedelta(days=1), weeks) is None
    assert sc.week_of(weeks[-1].end, weeks).number == 35


@pytest.mark.parametrize(
    "utc, week",
    [
        # Sunday 22 Nov 2026, 23:59 in Vietnam = 16:59 UTC: still week 11
        (dt.datetime(2026, 11, 22, 16, 59), 11),
        # Monday 00:00 in Vietnam = Sunday 17:00 UTC: already week 12
        (dt.datetime(2026, 11, 22, 17, 0), 12),
        # between 00:00 and 07:00 in Vietnam the UTC date is the day before
        (dt.datetime(2026, 11, 22, 23, 30), 12),
        (dt.datetime(2026, 11, 23, 6, 59, tzinfo=UTC), 12),
    ],
)
def test_dates_are_read_in_vietnam(utc, week):
    weeks = sc.teaching_weeks(D(2026, 9, 7))
    assert sc.week_of(utc, weeks).number == week


def test_local_date_conversions():
    assert sc.local_date(D(2026, 1, 2)) == D(2026, 1, 2)
    assert sc.local_date(dt.datetime(2026, 1, 1, 17, 0)) == D(2026, 1, 2)
    aware = dt.datetime(2026, 1, 2, 0, 30, tzinfo=sc.VN_TZ)
    assert sc.local_date(aware) == D(2026, 1, 2)
    with pytest.raises(TypeError):
        sc.local_date("2026-01-02")


def test_frame_must_fit_before_the_last_day():
    with pytest.raises(ValueError):
        sc.teaching_weeks(D(2026, 9, 7), last_day=D(2027, 3, 1))
    assert len(sc.teaching_weeks(D(2026, 9, 7), last_day=D(2027, 5, 31))) == 35


def test_invalid_input():
    with pytest.raises(ValueError):
        sc.teaching_weeks(D(2026, 9, 7), count=0)
    with pytest.raises(ValueError):
        sc.teaching_weeks(D(2026, 9, 7), [(D(2026, 9, 10), D(2026, 9, 1))])
    with pytest.raises(ValueError):
        sc.teaching_weeks(D(2026, 9, 7), [(D(2026, 9, 1), D(2030, 1, 1))])


def test_next_week_and_semester():
    weeks = sc.teaching_weeks(D(2026, 9, 7))
    assert sc.next_week_on_or_after(D(2026, 8, 20), weeks).number == 1
    assert sc.next_week_on_or_after(D(2026, 9, 16), weeks).number == 2
    assert sc.next_week_on_or_after(D(2030, 1, 1), weeks) is None
    assert sc.semester_of(18) == 1
    assert sc.semester_of(19) == 2
