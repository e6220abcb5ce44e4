import datetime as dt

import pytest

from hscm_tools import deadlines as dl
from hscm_tools import school_calendar as sc
from hscm_tools import submission_status as ss
from hscm_tools.submission_status import Assignment, Cell, ExpectedItem, Submitted

D = dt.date
SECOND = dt.timedelta(seconds=1)
WEEKS = sc.teaching_weeks(D(2026, 9, 7), [(D(2027, 2, 1), D(2027, 2, 13))])
# week 12's plans are due on Saturday 21 November 2026, 23:59 in Hà Nội (16:59 UTC)
DEADLINE = dl.deadline("weekly_before", {"weekday": 5, "time": 23.99}, dl.Period(week=12), WEEKS)


def vn(*args):
    return dt.datetime(*args, tzinfo=sc.VN_TZ)


def approved(submitted_on, is_late=None):
    return Submitted("approved", submitted_on, submitted_on + dt.timedelta(hours=3), is_late)


# --- what is owed -----------------------------------------------------------

def test_lesson_unit_owes_one_file_per_period():
    items = ss.expected_lesson_plans([Assignment("lan", "toan", "10A1", 3)], [1, 2])
    assert items == [ExpectedItem("lan", "toan", "10A1", 1, 3), ExpectedItem("lan", "toan", "10A1", 2, 3)]


def test_week_unit_owes_one_file_per_teacher_subject_class_week():
    assignments = [Assignment("lan", "toan", "10A1", 3), Assignment("lan", "toan", "10A2", 4),
                   Assignment("hung", "ngu_van", "10A1", 2)]
    items = ss.expected_lesson_plans(assignments, WEEKS[:2], unit="week")
    assert [(i.teacher_id, i.class_id, i.week, i.count) for i in items] == [
        ("lan", "10A1", 1, 1), ("lan", "10A1", 2, 1),
        ("lan", "10A2", 1, 1), ("lan", "10A2", 2, 1),
        ("hung", "10A1", 1, 1), ("hung", "10A1", 2, 1),
    ]


def test_whole_year_takes_the_calendar_weeks_and_skips_breaks():
    items = ss.expected_lesson_plans([Assignment("lan", "toan", "10A1", 4)], WEEKS)
    assert len(items) == 35
    assert sum(item.count for item in items) == 140
    assert [item.week for item in items] == list(range(1, 36))


def test_repeated_assignments_add_up_and_zero_periods_owe_nothing():
    items = ss.expected_lesson_plans(
        [Assignment("lan", "toan", "10A1", 2), Assignment("lan", "toan", "10A1", 1),
         Assignment("lan", "tin_hoc", "10A1", 0)], [5])
    assert items == [ExpectedItem("lan", "toan", "10A1", 5, 3)]
    weekly = ss.expected_lesson_plans(
        [Assignment("lan", "toan", "10A1", 2), Assignment("lan", "toan", "10A1", 1)], [5], unit="week")
    assert weekly == [ExpectedItem("lan", "toan", "10A1", 5, 1)]


def test_lessons_of_two_periods_round_up():
    items = ss.expected_lesson_plans([Assignment("lan", "toan", "10A1", 3)], [1], periods_per_lesson=2)
    assert items[0].count == 2


def test_assignment_limited_to_a_range_of_weeks():
    items = ss.expected_lesson_plans(
        [Assignment("lan", "toan", "10A1", 3, to_week=9), Assignment("mai", "toan", "10A1", 3, from_week=10)],
        range(8, 12), unit="week")
    assert [(i.teacher_id, i.week) for i in items] == [("lan", 8), ("lan", 9), ("mai", 10), ("mai", 11)]


def test_wrong_inputs_are_refused():
    with pytest.raises(ValueError):
        ss.expected_lesson_plans([Assignment("lan", "toan", "10A1", 3)], [1], unit="month")
    with pytest.raises(ValueError):
        ss.expected_lesson_plans([Assignment("lan", "toan", "10A1", -1)], [1])
    with pytest.raises(ValueError):
        ss.expected_lesson_plans([Assignment("lan", "toan", "10A1", 2.5)], [1])
    with pytest.raises(TypeError):
        ss.expected_lesson_plans([Assignment("lan", "toan", "10A1", 2)], ["week 1"])


# --- each status at its boundary --------------------------------------------

def test_deadline_is_saturday_night_in_vietnam():
    assert DEADLINE == vn(2026, 11, 21, 23, 59)
    assert DEADLINE.astimezone(dt.timezone.utc) == dt.datetime(2026, 11, 21, 16, 59, tzinfo=dt.timezone.utc)


def test_submitted_exactly_at_the_deadline_is_on_time_one_second_later_is_late():
    later = DEADLINE + dt.timedelta(days=3)
    assert ss.status_of(1, [approved(DEADLINE)], DEADLINE, later) == ss.APPROVED_ON_TIME
    assert ss.status_of(1, [approved(DEADLINE + SECOND)], DEADLINE, later) == ss.APPROVED_LATE
    assert ss.status_of(1, [approved(DEADLINE - SECOND)], DEADLINE, later) == ss.APPROVED_ON_TIME


def test_naive_times_are_utc_as_odoo_stores_them():
    at_deadline_utc = dt.datetime(2026, 11, 21, 16, 59)  # naive = UTC = 23:59 in Hà Nội
    later = dt.datetime(2026, 11, 25)
    assert ss.status_of(1, [approved(at_deadline_utc)], DEADLINE, later) == ss.APPROVED_ON_TIME
    assert ss.status_of(1, [approved(at_deadline_utc + SECOND)], DEADLINE, later) == ss.APPROVED_LATE
    # the same wall-clock time read as Vietnam time would be 7 hours earlier, hence on time:
    # treating naive values as local would wrongly call this one on time
    seven_past = dt.datetime(2026, 11, 21, 17, 0)
    assert ss.status_of(1, [approved(seven_past)], DEADLINE, later) == ss.APPROVED_LATE


def test_nothing_submitted_is_not_due_until_the_deadline_then_missing():
    assert ss.status_of(1, [], DEADLINE, DEADLINE - SECOND) == ss.NOT_DUE
    assert ss.status_of(1, [], DEADLINE, DEADLINE) == ss.NOT_DUE
    assert ss.status_of(1, [], DEADLINE, DEADLINE + SECOND) == ss.MISSING


def test_drafts_and_cancelled_files_were_never_handed_in():
    files = [Submitted("draft"), Submitted("cancelled", DEADLINE - SECOND)]
    assert ss.status_of(1, files, DEADLINE, DEADLINE + SECOND) == ss.MISSING
    assert ss.status_of(1, files, DEADLINE, DEADLINE - SECOND) == ss.NOT_DUE


def test_pending_and_rejected_do_not_depend_on_the_clock():
    for now in (DEADLINE - dt.timedelta(days=2), DEADLINE + dt.timedelta(days=2)):
        assert ss.status_of(1, [Submitted("submitted", DEADLINE - dt.timedelta(days=3))], DEADLINE, now) == ss.PENDING
        assert ss.status_of(1, [Submitted("rejected", DEADLINE - dt.timedelta(days=3))], DEADLINE, now) == ss.REJECTED


def test_recorded_lateness_wins_over_a_changed_deadline():
    extended = DEADLINE + dt.timedelta(days=1)
    later = DEADLINE + dt.timedelta(days=5)
    # submitted after the original deadline (flagged late), the deadline was extended afterwards
    assert ss.status_of(1, [approved(DEADLINE + SECOND, is_late=True)], extended, later) == ss.APPROVED_LATE
    assert ss.status_of(1, [approved(DEADLINE + SECOND, is_late=False)], DEADLINE, later) == ss.APPROVED_ON_TIME
    assert ss.status_of(1, [approved(DEADLINE + SECOND)], extended, later) == ss.APPROVED_ON_TIME


def test_approving_after_the_deadline_does_not_make_the_teacher_late():
    file = Submitted("approved", DEADLINE - dt.timedelta(hours=1), DEADLINE + dt.timedelta(days=2))
    assert ss.status_of(1, [file], DEADLINE, DEADLINE + dt.timedelta(days=3)) == ss.APPROVED_ON_TIME


def test_no_deadline_is_never_late_nor_missing():
    far = vn(2030, 1, 1)
    assert ss.status_of(1, [], None, far) == ss.NOT_DUE
    assert ss.status_of(1, [approved(far)], None, far) == ss.APPROVED_ON_TIME


# --- several files for one item: the most urgent wins ------------------------

def test_the_most_urgent_file_wins():
    before, after = DEADLINE - SECOND, DEADLINE + SECOND
    on_time, late = approved(before), approved(after)
    pending, rejected = Submitted("submitted", before), Submitted("rejected", before)
    now = DEADLINE + dt.timedelta(days=1)
    assert ss.status_of(3, [on_time, on_time, on_time], DEADLINE, now) == ss.APPROVED_ON_TIME
    assert ss.status_of(3, [on_time, late, on_time], DEADLINE, now) == ss.APPROVED_LATE
    assert ss.status_of(3, [on_time, late, pending], DEADLINE, now) == ss.PENDING
    assert ss.status_of(3, [rejected, late, pending], DEADLINE, now) == ss.REJECTED
    assert ss.status_of(3, [on_time, on_time], DEADLINE, now) == ss.MISSING


def test_two_of_three_in_before_the_deadline_is_not_green():
    now = DEADLINE - dt.timedelta(hours=5)
    on_time = approved(now - dt.timedelta(hours=5))
    assert ss.status_of(3, [on_time, on_time], DEADLINE, now) == ss.NOT_DUE
    assert ss.status_of(3, [on_time, on_time, Submitted("submitted", now)], DEADLINE, now) == ss.PENDING
    cell = ss.cell_of(3, [on_time, on_time], DEADLINE, now)
    assert cell.counts == {ss.APPROVED_ON_TIME: 2, ss.NOT_DUE: 1}


def test_extra_files_fill_the_slots_best_first():
    now = DEADLINE + dt.timedelta(days=1)
    files = [Submitted("rejected", DEADLINE), approved(DEADLINE), approved(DEADLINE)]
    # two expected, three handed in (one rejected and replaced): the two approved ones count
    assert ss.status_of(2, files, DEADLINE, now) == ss.APPROVED_ON_TIME
    assert ss.status_of(3, files, DEADLINE, now) == ss.REJECTED


def test_cell_keeps_the_oldest_pending_file():
    first, second = DEADLINE - dt.timedelta(hours=30), DEADLINE - dt.timedelta(hours=2)
    cell = ss.cell_of(2, [Submitted("submitted", second), Submitted("submitted", first)], DEADLINE, DEADLINE)
    assert cell.status == ss.PENDING
    assert cell.waiting_since == first
    assert ss.cell_of(1, [approved(first)], DEADLINE, DEADLINE).waiting_since is None
    # one file owed, two pending: the item waits since the older, whatever their order
    for files in ([Submitted("submitted", second), Submitted("submitted", first)],
                  [Submitted("submitted", first), Submitted("submitted", second)]):
        assert ss.cell_of(1, files, DEADLINE, DEADLINE).waiting_since == first
    # an approved file fills the only slot: nothing waits
    assert ss.cell_of(1, [Submitted("submitted", first), approved(second)], DEADLINE, DEADLINE).waiting_since is None


def test_worst_of_a_teachers_week():
    assert ss.worst([ss.APPROVED_ON_TIME, ss.APPROVED_LATE]) == ss.APPROVED_LATE
    assert ss.worst([ss.PENDING, ss.NOT_DUE, ss.APPROVED_LATE]) == ss.PENDING
    assert ss.worst([ss.REJECTED, ss.MISSING]) == ss.MISSING
    assert ss.worst([]) is None


def test_status_needs_a_positive_count():
    with pytest.raises(ValueError):
        ss.status_of(0, [], DEADLINE, DEADLINE)


# --- roll-ups ------------------------------------------------------------------

def test_rollup_counts_and_on_time_percentage():
    cells = [ss.APPROVED_ON_TIME] * 6 + [ss.APPROVED_LATE, ss.PENDING, ss.REJECTED, ss.MISSING] + [ss.NOT_DUE] * 5
    result = ss.rollup(cells, DEADLINE)
    assert result.total == 15
    assert result.owed == 10
    assert result.counts[ss.APPROVED_ON_TIME] == 6
    assert result.counts[ss.MISSING] == 1
    assert result.counts[ss.NOT_DUE] == 5
    assert result.on_time_pct == 60.0
    assert result.waiting == 0 and result.oldest_wait_hours is None and result.median_wait_hours is None


def test_rollup_of_nothing_owed_has_no_percentage():
    result = ss.rollup([ss.NOT_DUE, ss.NOT_DUE], DEADLINE)
    assert result.on_time_pct is None
    assert result.counts[ss.APPROVED_ON_TIME] == 0
    assert ss.rollup([], DEADLINE).total == 0


def test_rollup_pending_age_in_hours():
    now = vn(2026, 11, 23, 9, 0)
    cells = [
        Cell(ss.PENDING, waiting_since=now - dt.timedelta(hours=50)),
        Cell(ss.PENDING, waiting_since=now - dt.timedelta(hours=2)),
        Cell(ss.REJECTED, waiting_since=now - dt.timedelta(hours=10)),  # another of its files waits
        Cell(ss.APPROVED_ON_TIME),
    ]
    result = ss.rollup(cells, now)
    assert result.counts[ss.PENDING] == 2
    assert result.waiting == 3
    assert result.oldest_wait_hours == 50.0
    assert result.median_wait_hours == 10.0
    assert result.pending_age == {"count": 3, "oldest_hours": 50.0, "median_hours": 10.0}
    without_clock = ss.rollup(cells)
    assert without_clock.waiting == 3 and without_clock.oldest_wait_hours is None


def test_rollup_from_computed_cells():
    now = DEADLINE + dt.timedelta(hours=12)
    items = [
        ss.cell_of(1, [approved(DEADLINE)], DEADLINE, now),
        ss.cell_of(1, [approved(DEADLINE + SECOND)], DEADLINE, now),
        ss.cell_of(1, [Submitted("submitted", DEADLINE - dt.timedelta(hours=12))], DEADLINE, now),
        ss.cell_of(1, [], DEADLINE, now),
    ]
    result = ss.rollup(items, now)
    assert result.on_time_pct == 25.0
    assert result.oldest_wait_hours == 24.0


def test_rollup_refuses_unknown_statuses():
    with pytest.raises(ValueError):
        ss.rollup(["late"], DEADLINE)
