"""Deadline rules of the dossier types, as pure functions.

A dossier type names a rule and its parameters (policy is data); this module
turns a rule and a period into the deadline, an aware datetime in Vietnam's
time zone. The rules come from the source documents:

``weekly_before``
    lesson plans: on a chosen weekday of the week *before* the teaching week,
    at a chosen time (Sunday [002], Saturday [003], Friday [004]);
``yearly_date``
    a fixed date of the school year (10/9 [000], 15/9 [001], 31/8, 3/9, 20/9
    [004]); months from August on belong to the year's first calendar year;
``monthly_first_monday``
    the Monday of the first week of the month (sổ chủ nhiệm [004]);
``monthly_last_day``
    the last day of the month (sổ dự giờ scans, tổ minutes [004]);
``monthly_week_end``
    the end (a chosen weekday) of week *n* of the month: "plan in week 1,
    minutes at the end of week 2" [004];
``semester_end``
    the last day of the semester's last teaching week;
``teaching_week_end``
    the end of teaching week *n* ("in week 19" [004]);
``event_days``
    within *n* days after an event (Đại hội Liên đội + 2 days [004]);
``none``
    continuously updated records: no deadline.
"""

import calendar
import datetime as dt
from dataclasses import dataclass

from .school_calendar import VN_TZ, TeachingWeek, local_date, monday_of, semester_of

RULES = (
    "weekly_before",
    "yearly_date",
    "monthly_first_monday",
    "monthly_last_day",
    "monthly_week_end",
    "semester_end",
    "teaching_week_end",
    "event_days",
    "none",
)


@dataclass(frozen=True)
class Period:
    """What a dossier is for: one of these is set, depending on the rule."""

    week: int | None = None  # teaching week number
    month: dt.date | None = None  # any day of the month
    semester: int | None = None
    event_date: dt.date | None = None


def _at(day, hours):
    """``day`` at ``hours`` (a float such as 23.99 or 17.5) in Vietnam."""
    hours = max(0.0, min(float(hours), 24.0))
    minutes = min(round(hours * 60), 24 * 60 - 1)
    return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=VN_TZ)


def _week(weeks, number):
    for week in weeks:
        if week.number == number:
            return week
    raise ValueError(f"teaching week {number} is not in the school year")


def deadline(rule, params, period, weeks, first_semester_weeks=18):
    """The deadline of ``period`` under ``rule``, or ``None`` for ``none``.

    :param rule: one of :data:`RULES`
    :param params: dict with ``weekday`` (0 = Monday … 6 = Sunday), ``time``
        (hours, float), ``day``/``month``, ``week``, ``days`` as the rule needs
    :param period: a :class:`Period`
    :param weeks: the school year's :class:`TeachingWeek` list
    :return: an aware datetime in Asia/Ho_Chi_Minh, or ``None``
    :raises ValueError: when the period does not fit the rule
    """
    time = params.get("time", 23.99)
    if rule == "none":
        return None
    if rule == "weekly_before":
        if not period.week:
            raise ValueError("a weekly record needs its teaching week")
        week = _week(weeks, period.week)
        previous_monday = week.start - dt.timedelta(days=7)
        return _at(previous_monday + dt.timedelta(days=int(params.get("weekday", 5))), time)
    if rule == "yearly_date":
        first_year = weeks[0].start.year if weeks[0].start.month >= 8 else weeks[0].start.year - 1
        month, day = int(params["month"]), int(params["day"])
        year = first_year if month >= 8 else first_year + 1
        return _at(dt.date(year, month, day), time)
    if rule in ("monthly_first_monday", "monthly_last_day", "monthly_week_end"):
        if not period.month:
            raise ValueError("a monthly record needs its month")
        first = period.month.replace(day=1)
        if rule == "monthly_first_monday":
            return _at(first + dt.timedelta(days=(7 - first.weekday()) % 7), time)
        if rule == "monthly_last_day":
            last = calendar.monthrange(first.year, first.month)[1]
            return _at(first.replace(day=last), time)
        # week 1 of a month is the Monday-to-Sunday week holding its first day
        monday = monday_of(first) + dt.timedelta(weeks=int(params.get("week", 1)) - 1)
        return _at(monday + dt.timedelta(days=int(params.get("weekday", 5))), time)
    if rule == "semester_end":
        if period.semester not in (1, 2):
            raise ValueError("a semester record needs its semester (1 or 2)")
        last = [w for w in weeks if semester_of(w.number, first_semester_weeks) == period.semester][-1]
        return _at(last.end, time)
    if rule == "teaching_week_end":
        number = int(params.get("week") or period.week or 0)
        return _at(_week(weeks, number).end, time)
    if rule == "event_days":
        if not period.event_date:
            raise ValueError("this record needs the date of its event")
        return _at(period.event_date + dt.timedelta(days=int(params.get("days", 0))), time)
    raise ValueError(f"unknown deadline rule {rule!r}")


def lookahead_ok(target_week, current_week, cap):
    """May a plan for ``target_week`` be uploaded during ``current_week``?

    At most ``cap`` teaching weeks ahead (FR-17): during week 5 with a cap of
    2, weeks up to 7 are open. Earlier weeks are always allowed (late or
    back-filled records). ``cap`` 0 or ``None`` means no cap.
    """
    if not cap:
        return True
    return target_week <= current_week + cap


def current_teaching_week(now, weeks):
    """The teaching week in progress at ``now``; between weeks (a break) the
    next one; before the year, 0; after it, the last week number."""
    day = local_date(now)
    for week in weeks:
        if day <= week.end:
            return week.number if day >= week.start or week.number > 1 else 0
    return weeks[-1].number


__all__ = ["RULES", "Period", "TeachingWeek", "current_teaching_week", "deadline", "lookahead_ok"]
