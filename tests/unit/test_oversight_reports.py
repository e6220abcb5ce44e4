import datetime as dt

import pytest

from hscm_tools import oversight_reports as orp
from hscm_tools import school_calendar as sc
from hscm_tools import submission_status as ss
from hscm_tools.oversight_reports import HandedIn, Totals
from hscm_tools.submission_status import Cell, ExpectedItem

D = dt.date
SECOND = dt.timedelta(seconds=1)
WEEKS = sc.teaching_weeks(D(2026, 9, 7), [(D(2027, 2, 1), D(2027, 2, 13))])


# --- percentages -------------------------------------------------------------

@pytest.mark.parametrize(("part", "whole", "expected"), [
    (0, 0, None), (0, 3, 0.0), (3, 3, 100.0), (2, 3, 66.7), (1, 3, 33.3),
    (1333, 2000, 66.7),   # 66.65 rounds half up, not to the even 66.6
    (1, 8, 12.5), (1, 16, 6.3),  # 6.25 → 6.3
])
def test_percent_rounds_half_up(part, whole, expected):
    assert orp.percent(part, whole) == expected


def test_percent_refuses_nonsense():
    with pytest.raises(ValueError):
        orp.percent(4, 3)
    with pytest.raises(ValueError):
        orp.percent(-1, 3)


def test_format_percent():
    assert orp.format_percent(None) == "—"
    assert orp.format_percent(66.7) == "66.7 %"
    assert orp.format_percent(100.0) == "100.0 %"


# --- totals ------------------------------------------------------------------

def test_totals_count_files_not_weeks():
    cells = [
        Cell(ss.MISSING, {ss.APPROVED_ON_TIME: 2, ss.MISSING: 1}),
        Cell(ss.PENDING, {ss.PENDING: 1, ss.APPROVED_LATE: 1}),
        {ss.REJECTED: 1, ss.NOT_DUE: 2},
    ]
    t = orp.totals(cells)
    assert t == Totals(on_time=2, late=1, pending=1, rejected=1, missing=1, not_due=2)
    assert t.owed == 6, "files not due yet are not owed"
    assert t.on_time_pct == 33.3


def test_totals_add_up_and_refuse_unknown_statuses():
    a, b = Totals(on_time=1, missing=1), Totals(late=2, not_due=1)
    assert a + b == Totals(on_time=1, late=2, missing=1, not_due=1)
    assert orp.totals([]) == Totals()
    assert Totals().on_time_pct is None
    with pytest.raises(ValueError):
        orp.totals([{"approved": 1}])
    with pytest.raises(ValueError):
        orp.totals([{ss.MISSING: -1}])


# --- weeks of a month ----------------------------------------------------------

def test_weeks_of_month_follow_the_thursday():
    # week 1 starts Monday 7 September 2026
    # week 4 runs from 28 September to 4 October: its Thursday is 1 October
    assert WEEKS[3].start == D(2026, 9, 28)
    assert orp.weeks_of_month(WEEKS, 2026, 10) == [4, 5, 6, 7, 8]
    assert orp.weeks_of_month(WEEKS, 2026, 9) == [1, 2, 3]


def test_weeks_of_month_skip_breaks_and_refuse_bad_months():
    february = orp.weeks_of_month(WEEKS, 2027, 2)
    assert all(WEEKS[n - 1].start >= D(2027, 2, 1) for n in february)
    assert not any(D(2027, 2, 1) <= WEEKS[n - 1].start <= D(2027, 2, 8) for n in february), "Tết has no week"
    with pytest.raises(ValueError):
        orp.weeks_of_month(WEEKS, 2027, 13)


def test_week_start_instant_is_monday_midnight_in_vietnam():
    start = orp.week_start_instant(D(2026, 11, 23))
    assert start.utcoffset() == dt.timedelta(hours=7)
    assert start.astimezone(dt.timezone.utc) == dt.datetime(2026, 11, 22, 17, 0, tzinfo=dt.timezone.utc)


# --- violation facts -------------------------------------------------------------

START = orp.week_start_instant(D(2026, 11, 23))  # week 12
STARTS = {12: START, 13: START + dt.timedelta(days=7)}


def item(count=1, week=12, klass="8A1"):
    return ExpectedItem("lan", "toan", klass, week, count)


def facts(items, files, now=None):
    return orp.violation_facts(items, files, STARTS, now or START + dt.timedelta(days=3))


def test_a_plan_approved_at_the_start_is_ready_one_second_later_is_not():
    on_time = {("lan", "toan", "8A1", 12): [HandedIn("approved", START, "KH-1")]}
    assert facts([item()], on_time) == []
    late = {("lan", "toan", "8A1", 12): [HandedIn("approved", START + SECOND, "KH-1")]}
    (fact,) = facts([item()], late)
    assert (fact.kind, fact.unapproved, fact.references) == (orp.FACT_UNAPPROVED, 1, ("KH-1",))


def test_naive_datetimes_are_utc():
    naive = START.astimezone(dt.timezone.utc).replace(tzinfo=None)
    assert facts([item()], {("lan", "toan", "8A1", 12): [HandedIn("approved", naive)]}) == []
    assert facts([item()], {("lan", "toan", "8A1", 12): [HandedIn("approved", naive + SECOND)]})


def test_each_kind_of_fact():
    files = {
        ("lan", "toan", "8A1", 12): [HandedIn("approved", START - SECOND, "KH-1"), HandedIn("rejected", None, "KH-2"),
                                     HandedIn("submitted", None, "KH-3")],
        ("lan", "toan", "8A2", 12): [HandedIn("draft", None, "KH-4")],
    }
    result = facts([item(4), item(2, klass="8A2")], files)
    assert [(f.class_id, f.kind, f.expected, f.ready, f.missing, f.rejected, f.unapproved) for f in result] == [
        ("8A1", orp.FACT_MISSING, 4, 1, 1, 1, 1),
        ("8A2", orp.FACT_MISSING, 2, 0, 2, 0, 0),
    ]
    assert result[0].references == ("KH-3", "KH-2"), "the waiting file fills a slot before the rejected one"
    only_rejected = facts([item(1)], {("lan", "toan", "8A1", 12): [HandedIn("rejected", None, "KH-2")]})
    assert only_rejected[0].kind == orp.FACT_REJECTED


def test_extra_files_and_weeks_not_started():
    files = {("lan", "toan", "8A1", 12): [HandedIn("approved", START - SECOND)] * 3}
    assert facts([item(2)], files) == [], "extra files do not make facts"
    assert facts([item(week=13)], {}) == [], "week 13 has not started"
    assert len(facts([item(week=13)], {}, now=STARTS[13])) == 1, "at its first instant it has"
    assert facts([item(week=40)], {}) == [], "a week outside the calendar"


# --- the year --------------------------------------------------------------------

def test_teacher_year_row():
    summary = orp.teacher_year([Cell(ss.APPROVED_LATE, {ss.APPROVED_ON_TIME: 3, ss.APPROVED_LATE: 1}),
                                Cell(ss.MISSING, {ss.MISSING: 2})],
                               rejections=4, other_records=5, other_approved=3, violations=1)
    row = orp.year_row(summary)
    assert list(row) == list(orp.YEAR_COLUMNS)
    assert row == {"owed": 6, "on_time": 3, "late": 1, "pending": 0, "rejected": 0, "missing": 2,
                   "on_time_pct": 50.0, "rejections": 4, "other_records": 5, "other_approved": 3, "violations": 1}


def test_teacher_year_refuses_impossible_counts():
    with pytest.raises(ValueError):
        orp.teacher_year([], rejections=-1)
    with pytest.raises(ValueError):
        orp.teacher_year([], other_records=1, other_approved=2)
    assert orp.year_row(orp.teacher_year([]))["on_time_pct"] is None
