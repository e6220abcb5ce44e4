"""What is owed by whom, and how each owed item stands (FR-51…53).

Pure Python (no Odoo import): the models, the dashboards' pre-aggregation
job, the reports and the benchmarks all call these functions.

What is owed
------------
A teaching assignment (*phân công chuyên môn*) says that a teacher teaches a
subject to a class for a number of periods (*tiết*) a week. From it and the
school year's teaching weeks, :func:`expected_lesson_plans` lists the lesson
plans (KHBD) owed, one :class:`ExpectedItem` per teacher, subject, class and
teaching week, with ``count`` files:

``unit="week"``
    the school collects **one file per teacher, subject, class and week**
    (a weekly plan): ``count`` is 1 whatever the number of periods;
``unit="lesson"`` (the default)
    the school collects **one file per lesson**, and counts one lesson per
    period (``periods_per_lesson=1``): a class with 3 periods of maths a week
    owes 3 files. A school whose lessons span two periods passes
    ``periods_per_lesson=2`` (3 periods → 2 files: the count is rounded up,
    since a started lesson needs its plan).

An assignment with 0 periods owes nothing. When the same teacher, subject and
class appear in several assignments (two rows of an import, a split
timetable) their periods are added up, so nothing is owed twice. An
assignment may be limited to teaching weeks ``from_week``…``to_week`` (a
replacement teacher from week 10 on).

Statuses
--------
Every expected item is in exactly one of the five statuses of the issue, or
is not yet owed:

``approved_on_time``
    approved, and the approved file was submitted at or before the deadline;
``approved_late``
    approved, but submitted after the deadline. Lateness is the teacher's:
    an approver who decides after the deadline does not make the item late;
``pending``
    submitted (or resubmitted) and waiting for an approver;
``rejected``
    the last decision was a rejection: the teacher has to correct and
    resubmit;
``missing``
    nothing submitted (no file, or only a draft or a cancelled one) and the
    deadline has passed;
``not_due`` (:data:`NOT_DUE`, not one of the five)
    nothing submitted yet, but the deadline has not passed: the item is not
    owed *yet*. Dashboards show it as an empty cell and :func:`rollup`
    leaves it out of the on-time percentage.

Boundaries, all compared as instants (a naive datetime is UTC, as Odoo
stores them; the deadline usually comes from :mod:`.deadlines` in
Asia/Ho_Chi_Minh): a file submitted **exactly at** the deadline is on time,
one second later is late; at the deadline instant itself an empty item is
still ``not_due``, one second later it is ``missing``. An item without a
deadline (rule ``none``) is never late and never missing.

A submission's own ``is_late`` flag, when known (``True``/``False``), wins over
the comparison: it was recorded against the deadline in force when the file
came in, and a later change of the deadline does not rewrite history. With
``is_late=None`` the comparison ``submitted_on > deadline`` decides.

When an item expects several files (``count`` > 1), each expected file takes
a status and **the most urgent wins** for the item:
``missing`` > ``rejected`` > ``pending`` > ``not_due`` > ``approved_late`` >
``approved_on_time``. So a cell is green only when every file is approved on
time; two approved files and one not yet submitted (before the deadline)
make the cell ``not_due``, not green. Extra files beyond ``count`` fill the
slots best-first and are otherwise ignored.
"""

import datetime as dt
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field

APPROVED_ON_TIME = "approved_on_time"
APPROVED_LATE = "approved_late"
PENDING = "pending"
REJECTED = "rejected"
MISSING = "missing"
NOT_DUE = "not_due"

#: The five statuses of an owed item, best first.
STATUSES = (APPROVED_ON_TIME, APPROVED_LATE, PENDING, REJECTED, MISSING)

#: Most urgent first: the first of these found among an item's files wins.
URGENCY = (MISSING, REJECTED, PENDING, NOT_DUE, APPROVED_LATE, APPROVED_ON_TIME)
_RANK = {status: index for index, status in enumerate(URGENCY)}

#: Dossier states (hscm.dossier) and what they mean here; draft and cancelled
#: files were never handed in.
_SUBMITTED_STATES = {"submitted": PENDING, "pending": PENDING, "approved": "approved", "rejected": REJECTED}

UNITS = ("lesson", "week")


@dataclass(frozen=True)
class Assignment:
    """A teacher teaches ``subject_id`` to ``class_id``, ``periods_per_week``
    periods a week, during teaching weeks ``from_week``…``to_week``
    (``None``: from the first / to the last)."""

    teacher_id: object
    subject_id: object
    class_id: object
    periods_per_week: int
    from_week: int | None = None
    to_week: int | None = None


@dataclass(frozen=True)
class ExpectedItem:
    """``count`` lesson-plan files owed by a teacher for a subject, a class and a week."""

    teacher_id: object
    subject_id: object
    class_id: object
    week: int
    count: int


@dataclass(frozen=True)
class Submitted:
    """One file handed in for an expected item (a dossier).

    ``state`` is the dossier's state (``submitted``/``approved``/``rejected``;
    ``draft`` and ``cancelled`` count as not handed in). ``is_late`` is the
    flag recorded at submission, or ``None`` to compare ``submitted_on`` with
    the deadline."""

    state: str
    submitted_on: dt.datetime | None = None
    approved_on: dt.datetime | None = None
    is_late: bool | None = None


@dataclass(frozen=True)
class Cell:
    """The status of one expected item, what its files are (``counts``), and
    since when the oldest file waiting for approval has waited."""

    status: str
    counts: dict = field(default_factory=dict, compare=False)
    waiting_since: dt.datetime | None = None


@dataclass(frozen=True)
class Rollup:
    """Counts per status over a set of cells, the on-time percentage and how
    long approvals have waited (hours)."""

    counts: dict
    total: int
    owed: int
    on_time_pct: float | None
    waiting: int
    oldest_wait_hours: float | None
    median_wait_hours: float | None

    @property
    def pending_age(self):
        """How long approvals have waited: ``{"count", "oldest_hours", "median_hours"}``."""
        return {"count": self.waiting, "oldest_hours": self.oldest_wait_hours,
                "median_hours": self.median_wait_hours}


def _week_number(week):
    number = getattr(week, "number", week)
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"a teaching week is a number or a TeachingWeek, got {week!r}")
    return number


def expected_lesson_plans(assignments, weeks, unit="lesson", periods_per_lesson=1):
    """The lesson plans owed: one :class:`ExpectedItem` per teacher, subject,
    class and teaching week (see the module's docstring for the rule).

    :param assignments: iterable of :class:`Assignment`
    :param weeks: teaching week numbers, or :class:`TeachingWeek` objects
    :param unit: ``"lesson"`` (one file per lesson) or ``"week"`` (one file
        per teacher, subject, class and week)
    :param periods_per_lesson: how many periods one lesson plan covers
    :return: a list ordered by first appearance of the assignment, then week
    :raises ValueError: an unknown unit, a negative number of periods
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}: use 'lesson' or 'week'")
    if int(periods_per_lesson) < 1:
        raise ValueError("a lesson covers at least one period")
    numbers = sorted({_week_number(week) for week in weeks})
    # periods per (teacher, subject, class) and week, adding up repeated assignments
    periods = {}
    for assignment in assignments:
        count = assignment.periods_per_week
        if isinstance(count, bool) or not isinstance(count, int):
            raise ValueError(f"periods per week must be a whole number, got {count!r}")
        if count < 0:
            raise ValueError(f"periods per week cannot be negative ({count})")
        key = (assignment.teacher_id, assignment.subject_id, assignment.class_id)
        per_week = periods.setdefault(key, {})
        for number in numbers:
            if assignment.from_week is not None and number < assignment.from_week:
                continue
            if assignment.to_week is not None and number > assignment.to_week:
                continue
            per_week[number] = per_week.get(number, 0) + count
    items = []
    for (teacher, subject, klass), per_week in periods.items():
        for number in sorted(per_week):
            total = per_week[number]
            if not total:
                continue
            count = 1 if unit == "week" else math.ceil(total / periods_per_lesson)
            items.append(ExpectedItem(teacher, subject, klass, number, count))
    return items


def _utc(value):
    """An aware datetime; naive ones are UTC (Odoo's convention)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def _file_status(submission, deadline):
    meaning = _SUBMITTED_STATES.get(submission.state)
    if meaning != "approved":
        return meaning  # pending, rejected, or None (not handed in)
    late = submission.is_late
    if late is None:
        submitted = _utc(submission.submitted_on)
        late = bool(deadline is not None and submitted is not None and submitted > deadline)
    return APPROVED_LATE if late else APPROVED_ON_TIME


def cell_of(expected_count, submissions, deadline, now):
    """The :class:`Cell` of one expected item: its status, the status of each
    of its ``expected_count`` files, and when its oldest pending file came in.

    :param expected_count: how many files the item expects (>= 1)
    :param submissions: iterable of :class:`Submitted`
    :param deadline: the item's deadline (aware, or naive UTC), or ``None``
    :param now: the current time (aware, or naive UTC)
    """
    if expected_count < 1:
        raise ValueError("an expected item expects at least one file")
    deadline, now = _utc(deadline), _utc(now)
    if now is None:
        raise ValueError("now is required")
    submissions = list(submissions)
    handed_in = []
    for submission in submissions:
        status = _file_status(submission, deadline)
        if status is not None:
            handed_in.append((status, submission))
    # the best files fill the expected slots; extra ones are ignored
    handed_in.sort(key=lambda pair: -_RANK[pair[0]])
    handed_in = handed_in[:expected_count]
    counts = Counter(status for status, _ in handed_in)
    empty = expected_count - len(handed_in)
    if empty:
        overdue = deadline is not None and now > deadline
        counts[MISSING if overdue else NOT_DUE] += empty
    status = min(counts, key=_RANK.__getitem__)
    # when a pending file counts, the item waits since its oldest pending file (whichever of several
    # equal pending files fills the slot): the same answer whatever order the files come in
    waiting = [_utc(s.submitted_on) for s in submissions
               if _SUBMITTED_STATES.get(s.state) == PENDING and s.submitted_on is not None] if counts[PENDING] else []
    return Cell(status, dict(counts), min(waiting) if waiting else None)


def status_of(expected_count, submissions, deadline, now):
    """The status of an expected item: one of :data:`STATUSES`, or
    :data:`NOT_DUE` (see the module's docstring for the rules)."""
    return cell_of(expected_count, submissions, deadline, now).status


def worst(statuses):
    """The most urgent of several statuses (a teacher's week over several
    classes); ``None`` for none."""
    statuses = list(statuses)
    return min(statuses, key=_RANK.__getitem__) if statuses else None


def rollup(cells, now=None):
    """Counts per status over ``cells`` and the figures of the dashboards.

    :param cells: :class:`Cell` objects, or bare status strings
    :param now: the current time, for how long approvals have waited
        (without it the waiting cells are counted, their hours are ``None``)
    :return: a :class:`Rollup` where

        * ``counts`` has every status of :data:`URGENCY` (zeros included);
        * ``total`` counts every cell, ``owed`` every cell but ``not_due``;
        * ``on_time_pct`` = 100 × approved on time ÷ owed (``None`` when
          nothing is owed yet): a pending, rejected or late item is not "on
          time" — this is the share of what was due that is done properly;
        * ``waiting``, ``oldest_wait_hours`` and ``median_wait_hours`` cover
          every cell holding a file that waits for approval (a cell whose
          status is ``rejected`` may hold one too), measured from its oldest
          waiting file to ``now``.
    """
    now = _utc(now)
    counts = dict.fromkeys(URGENCY, 0)
    waiting = 0
    waits = []
    total = 0
    for cell in cells:
        status = cell if isinstance(cell, str) else cell.status
        if status not in counts:
            raise ValueError(f"unknown status {status!r}")
        counts[status] += 1
        total += 1
        since = None if isinstance(cell, str) else cell.waiting_since
        if since is not None:
            waiting += 1
            if now is not None:
                waits.append(max(0.0, (now - _utc(since)).total_seconds() / 3600))
    owed = total - counts[NOT_DUE]
    pct = round(100.0 * counts[APPROVED_ON_TIME] / owed, 2) if owed else None
    return Rollup(
        counts=counts,
        total=total,
        owed=owed,
        on_time_pct=pct,
        waiting=waiting,
        oldest_wait_hours=round(max(waits), 2) if waits else None,
        median_wait_hours=round(statistics.median(waits), 2) if waits else None,
    )


__all__ = [
    "APPROVED_LATE", "APPROVED_ON_TIME", "MISSING", "NOT_DUE", "PENDING", "REJECTED", "STATUSES", "URGENCY",
    "Assignment", "Cell", "ExpectedItem", "Rollup", "Submitted",
    "cell_of", "expected_lesson_plans", "rollup", "status_of", "worst",
]
