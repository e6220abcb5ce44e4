"""Which records other than lesson plans each role owes each period (FR-51…53).

Pure Python (no Odoo import). Lesson plans are owed from the teaching
assignments (:mod:`.submission_status`); every other dossier type says who
owns it (the school, a department, a subject group, a teacher, a class) and
its deadline rule says how often it is due:

=========================  ==================================================
rule                       periods owed in a school year
=========================  ==================================================
``yearly_date``            one
``teaching_week_end``      one (the week is the rule's parameter)
``semester_end``           two: semester 1 and semester 2
``monthly_*``              one per calendar month holding a teaching week
``weekly_before``          one per teaching week
``event_days``, ``none``   none can be foreseen: not tracked
=========================  ==================================================

A record is owed by each *owner unit* of its level (each department of the
school, each class…); a type may narrow the teachers who owe it to the
holders of one position (the homeroom book to homeroom teachers). The
matching of a dossier to what it settles uses :func:`period_key` on both
sides, so a monthly record submitted with any day of its month counts.
"""

import datetime as dt
from dataclasses import dataclass

from .deadlines import Period
from .school_calendar import monday_of

#: Rules whose periods cannot be known in advance: nothing is "owed".
UNTRACKED_RULES = frozenset({"event_days", "none"})
MONTHLY_RULES = frozenset({"monthly_first_monday", "monthly_last_day", "monthly_week_end"})


@dataclass(frozen=True)
class OwedRecord:
    """One record owed: ``type_id`` by ``owner`` (an owner unit's key) for ``period``."""

    type_id: object
    owner: object
    period: Period

    @property
    def key(self):
        return (self.type_id, self.owner, period_key(self.period))


def periods_for_rule(rule, weeks):
    """The periods a record under ``rule`` is owed for in a school year.

    :param rule: a deadline rule of :mod:`.deadlines`
    :param weeks: the year's :class:`~.school_calendar.TeachingWeek` list
    :return: a list of :class:`~.deadlines.Period` (empty when not tracked)
    """
    if rule in UNTRACKED_RULES or not weeks:
        return []
    if rule in ("yearly_date", "teaching_week_end"):
        return [Period()]
    if rule == "semester_end":
        return [Period(semester=1), Period(semester=2)]
    if rule == "weekly_before":
        return [Period(week=week.number) for week in weeks]
    if rule in MONTHLY_RULES:
        months = []
        for week in weeks:
            # a teaching week belongs to the month of its Monday-to-Saturday days
            for day in (week.start, week.start + dt.timedelta(days=5)):
                first = day.replace(day=1)
                if first not in months:
                    months.append(first)
        return [Period(month=first) for first in months]
    raise ValueError(f"unknown deadline rule {rule!r}")


def period_key(period):
    """What identifies a period when matching a dossier to an owed record:
    the week, the first day of the month, the semester, or nothing (yearly)."""
    if period.week:
        return ("week", int(period.week))
    if period.month:
        return ("month", period.month.replace(day=1))
    if period.semester:
        return ("semester", int(period.semester))
    return ("year",)


def period_of(rule, week=None, month=None, semester=None):
    """The period a dossier handed in under ``rule`` settles, from its
    fields (the ones the rule does not use are ignored)."""
    return Period(week=week or None if rule == "weekly_before" else None,
                  month=month or None if rule in MONTHLY_RULES else None,
                  semester=int(semester) if rule == "semester_end" and semester else None)


def owner_keys(level, school_id=None, staff_id=None, department_id=None, group_id=None, class_ids=()):
    """The owner units a dossier of an ``owner_level`` type speaks for: its
    teacher, department, subject group, each of its classes, or its school."""
    if level == "teacher":
        return [("staff", staff_id)]
    if level == "department":
        return [("department", department_id)]
    if level == "group":
        return [("group", group_id)]
    if level == "class":
        return [("class", class_id) for class_id in class_ids]
    return [("school", school_id)]


def owed_records(type_id, rule, owners, weeks):
    """Every :class:`OwedRecord` of one type: each owner for each period."""
    periods = periods_for_rule(rule, weeks)
    return [OwedRecord(type_id, owner, period) for owner in owners for period in periods]


def week_of_deadline(deadline, weeks):
    """The teaching week a deadline falls in, for the weekly dashboards: the
    week holding its date, else the last week before it, else week 1."""
    if deadline is None or not weeks:
        return None
    day = deadline.date() if isinstance(deadline, dt.datetime) else deadline
    chosen = weeks[0].number
    for week in weeks:
        if monday_of(day) >= week.start or day in week:
            chosen = week.number
        else:
            break
    return chosen


__all__ = ["MONTHLY_RULES", "OwedRecord", "UNTRACKED_RULES", "owed_records", "owner_keys", "period_key",
           "period_of", "periods_for_rule", "week_of_deadline"]
