"""The figures of the oversight reports (FR-48, FR-52, FR-53).

Pure Python (no Odoo import): the weekly and monthly progress reports, the
drafted violation record (*biên bản vi phạm quy chế chuyên môn*) and the
year-end summary per teacher for the emulation evaluation (*thi đua, xếp
loại*) all aggregate the statuses of :mod:`.submission_status` here.

Counting
--------
Every figure counts **lesson-plan files** (one expected file is one unit),
not teacher-weeks: a week where a teacher owes three plans and handed in two
on time counts 2 on time and 1 missing. Files not due yet are counted apart
(``not_due``) and left out of what is owed and of the percentage.

Percentages
-----------
``on_time_pct`` = 100 × approved on time ÷ owed, rounded **half up** to one
decimal (66.65 → 66.7, never the banker's 66.6), ``None`` when nothing is
owed: a report prints "—", not 0 %, for a teacher who owed nothing yet.

Weeks of a month
----------------
A teaching week (Monday to Sunday) belongs to the month holding its
**Thursday**, i.e. the month that has at least four of its seven days (the
ISO 8601 rule): the week of Monday 28 September to Sunday 4 October is an
October week.

Violation facts
---------------
A lesson plan must be approved when the teacher teaches with it (FR-47,
FR-48). For each expected item whose teaching week has started, a file is
*ready* when it was approved at or before the first instant of that week
(Monday 00:00 in Vietnam). Every expected file that was not ready is a fact:

``missing``
    nothing was handed in for it (no file, or only drafts);
``rejected``
    its file was rejected and not approved again;
``unapproved``
    its file was handed in but was still waiting for approval when the week
    started (or was approved only after the start): teaching with a plan that
    was not approved.

An item's kind is its most serious fact (missing > rejected > unapproved).
The facts are a *draft*: the leadership checks them with the teacher before
anything is issued.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from . import submission_status as st
from .school_calendar import VN_TZ

FACT_MISSING = "missing"
FACT_REJECTED = "rejected"
FACT_UNAPPROVED = "unapproved"
FACT_KINDS = (FACT_MISSING, FACT_REJECTED, FACT_UNAPPROVED)

_TOTAL_FIELDS = {
    st.APPROVED_ON_TIME: "on_time",
    st.APPROVED_LATE: "late",
    st.PENDING: "pending",
    st.REJECTED: "rejected",
    st.MISSING: "missing",
    st.NOT_DUE: "not_due",
}


def percent(part, whole, digits=1):
    """``100 × part ÷ whole`` rounded half up to ``digits`` decimals, or
    ``None`` when ``whole`` is 0."""
    if part < 0 or whole < 0:
        raise ValueError("counts cannot be negative")
    if part > whole:
        raise ValueError(f"{part} out of {whole}: the part exceeds the whole")
    if not whole:
        return None
    quantum = Decimal(1).scaleb(-digits)
    return float((Decimal(100) * Decimal(part) / Decimal(whole)).quantize(quantum, rounding=ROUND_HALF_UP))


def format_percent(value):
    """``"66.7 %"``, or ``"—"`` for ``None`` (nothing owed)."""
    return "—" if value is None else f"{value:.1f} %"


@dataclass(frozen=True)
class Totals:
    """Lesson-plan files per status."""

    on_time: int = 0
    late: int = 0
    pending: int = 0
    rejected: int = 0
    missing: int = 0
    not_due: int = 0

    @property
    def owed(self):
        """Files due by now: every status but ``not_due``."""
        return self.on_time + self.late + self.pending + self.rejected + self.missing

    @property
    def on_time_pct(self):
        return percent(self.on_time, self.owed)

    def __add__(self, other):
        if not isinstance(other, Totals):
            return NotImplemented
        return Totals(**{name: getattr(self, name) + getattr(other, name) for name in _TOTAL_FIELDS.values()})


def totals(cells):
    """Add up the files of ``cells``: :class:`~.submission_status.Cell`
    objects, or bare ``{status: count}`` dicts."""
    sums = dict.fromkeys(_TOTAL_FIELDS.values(), 0)
    for cell in cells:
        counts = cell if isinstance(cell, dict) else cell.counts
        for status, count in counts.items():
            if status not in _TOTAL_FIELDS:
                raise ValueError(f"unknown status {status!r}")
            if count < 0:
                raise ValueError("counts cannot be negative")
            sums[_TOTAL_FIELDS[status]] += count
    return Totals(**sums)


def weeks_of_month(teaching_weeks, year, month):
    """The numbers of the teaching weeks of ``month`` (see the module's
    docstring: a week belongs to the month of its Thursday)."""
    if not 1 <= month <= 12:
        raise ValueError(f"no month {month}")
    numbers = []
    for week in teaching_weeks:
        thursday = week.start + dt.timedelta(days=3)
        if (thursday.year, thursday.month) == (year, month):
            numbers.append(week.number)
    return numbers


def week_start_instant(day, tz=VN_TZ):
    """The first instant (aware) of the teaching week starting on ``day``."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


@dataclass(frozen=True)
class HandedIn:
    """One file handed in for an expected item: the dossier's ``state``, when
    it was finally approved (``None`` if not), and its reference."""

    state: str
    approved_on: dt.datetime | None = None
    reference: str = ""


@dataclass(frozen=True)
class Fact:
    """What was wrong with one expected item when its teaching week started."""

    teacher_id: object
    subject_id: object
    class_id: object
    week: int
    expected: int
    ready: int
    missing: int
    rejected: int
    unapproved: int
    references: tuple = field(default=())

    @property
    def kind(self):
        if self.missing:
            return FACT_MISSING
        if self.rejected:
            return FACT_REJECTED
        return FACT_UNAPPROVED


def _aware(value):
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def violation_facts(items, handed_in, week_starts, now):
    """The facts of a violation record (see the module's docstring).

    :param items: :class:`~.submission_status.ExpectedItem` objects
    :param handed_in: ``{(teacher, subject, class, week): [HandedIn]}``
    :param week_starts: ``{week: first instant of the week}`` (aware, or
        naive UTC); items of weeks missing here are skipped
    :param now: weeks not started at ``now`` are skipped (aware or naive UTC)
    :return: a list of :class:`Fact`, in the order of ``items``
    """
    now = _aware(now)
    facts = []
    for item in items:
        start = _aware(week_starts.get(item.week))
        if start is None or start > now:
            continue
        files = [f for f in handed_in.get((item.teacher_id, item.subject_id, item.class_id, item.week), [])
                 if f.state in ("submitted", "approved", "rejected")]
        ready = [f for f in files if f.state == "approved" and f.approved_on is not None
                 and _aware(f.approved_on) <= start]
        short = item.count - min(len(ready), item.count)
        if not short:
            continue
        # the best of the other files fill the slots still open: approved
        # late, then waiting, then rejected
        rank = {"approved": 0, "submitted": 1, "rejected": 2}
        ready_ids = {id(f) for f in ready}
        others = sorted((f for f in files if id(f) not in ready_ids), key=lambda f: rank[f.state])[:short]
        rejected = sum(1 for f in others if f.state == "rejected")
        facts.append(Fact(
            teacher_id=item.teacher_id, subject_id=item.subject_id, class_id=item.class_id, week=item.week,
            expected=item.count, ready=item.count - short, missing=short - len(others), rejected=rejected,
            unapproved=len(others) - rejected, references=tuple(f.reference for f in others if f.reference)))
    return facts


@dataclass(frozen=True)
class TeacherYear:
    """A teacher's year for the emulation evaluation (FR-53)."""

    totals: Totals
    rejections: int = 0
    other_records: int = 0
    other_approved: int = 0
    violations: int = 0


#: The columns of the year-end summary, in order (keys of :func:`year_row`).
YEAR_COLUMNS = ("owed", "on_time", "late", "pending", "rejected", "missing", "on_time_pct", "rejections",
                "other_records", "other_approved", "violations")


def teacher_year(cells, rejections=0, other_records=0, other_approved=0, violations=0):
    """Aggregate a teacher's cells of the year and the other counts."""
    for name, value in (("rejections", rejections), ("other_records", other_records),
                        ("other_approved", other_approved), ("violations", violations)):
        if value < 0:
            raise ValueError(f"{name} cannot be negative")
    if other_approved > other_records:
        raise ValueError("more other records approved than handed in")
    return TeacherYear(totals(cells), rejections, other_records, other_approved, violations)


def year_row(summary):
    """``{column: value}`` for :data:`YEAR_COLUMNS`."""
    t = summary.totals
    return {
        "owed": t.owed, "on_time": t.on_time, "late": t.late, "pending": t.pending, "rejected": t.rejected,
        "missing": t.missing, "on_time_pct": t.on_time_pct, "rejections": summary.rejections,
        "other_records": summary.other_records, "other_approved": summary.other_approved,
        "violations": summary.violations,
    }


__all__ = [
    "FACT_KINDS", "FACT_MISSING", "FACT_REJECTED", "FACT_UNAPPROVED", "YEAR_COLUMNS",
    "Fact", "HandedIn", "TeacherYear", "Totals",
    "format_percent", "percent", "teacher_year", "totals", "violation_facts", "week_start_instant",
    "weeks_of_month", "year_row",
]
