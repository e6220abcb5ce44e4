"""School calendar arithmetic: teaching weeks of a Vietnamese school year.

Pure Python (no Odoo import) so it can be unit-tested on its own and used
from models, controllers, crons and benchmarks alike.

The rules, from the Hải Phòng documents (FR-18):

* a school year has a frame of 35 teaching weeks (*35 tuần thực dạy*);
* a week runs Monday to Sunday; lessons are taught Monday to Saturday;
* a calendar week whose six teaching days all fall inside a break (Tết,
  mid-year holiday…) is not a teaching week and gets no number: the
  numbering continues after it;
* every date is read in Vietnam's time zone (Asia/Ho_Chi_Minh, UTC+7):
  at 23:30 UTC on a Sunday it is already Monday in Hà Nội.
"""

import bisect
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TEACHING_WEEKS = 35
TEACHING_DAYS = 6  # Monday .. Saturday


@dataclass(frozen=True)
class TeachingWeek:
    """One numbered teaching week: Monday ``start`` to Sunday ``end``."""

    number: int
    start: dt.date
    end: dt.date

    def __contains__(self, day):
        return self.start <= day <= self.end


def local_date(value, tz=VN_TZ):
    """Return the calendar date of ``value`` in ``tz`` (Vietnam by default).

    ``value`` may be a ``date`` (returned as is), an aware ``datetime``, or a
    naive ``datetime``, which is taken as UTC as Odoo stores them.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(tz).date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"expected a date or datetime, got {type(value).__name__}")


def monday_of(day):
    return day - dt.timedelta(days=day.weekday())


def _normalise_breaks(breaks):
    spans = []
    for date_from, date_to in breaks:
        if date_to < date_from:
            raise ValueError(f"break ends ({date_to}) before it starts ({date_from})")
        spans.append((date_from, date_to))
    return sorted(spans)


def _is_break_week(monday, breaks):
    """True when every teaching day (Mon-Sat) of that week is inside a break."""
    for offset in range(TEACHING_DAYS):
        day = monday + dt.timedelta(days=offset)
        if not any(start <= day <= end for start, end in breaks):
            return False
    return True


def teaching_weeks(first_day, breaks=(), count=TEACHING_WEEKS, last_day=None):
    """Number the teaching weeks of a school year.

    :param first_day: the first day of the year's teaching (any weekday; week
        1 is the Monday-to-Sunday week that contains it)
    :param breaks: iterable of ``(date_from, date_to)`` inclusive spans
    :param count: how many teaching weeks the frame has (35)
    :param last_day: optional last day of the school year; a ``ValueError``
        says so when the frame does not fit before it
    :return: a list of ``count`` :class:`TeachingWeek`
    """
    if count < 1:
        raise ValueError("a school year needs at least one teaching week")
    spans = _normalise_breaks(breaks)
    weeks = []
    monday = monday_of(first_day)
    # A guard against a break list that swallows the whole calendar.
    limit = monday + dt.timedelta(weeks=count + 60)
    while len(weeks) < count:
        if monday > limit:
            raise ValueError("the breaks leave no room for the teaching weeks")
        if not _is_break_week(monday, spans):
            weeks.append(TeachingWeek(len(weeks) + 1, monday, monday + dt.timedelta(days=6)))
        monday += dt.timedelta(weeks=1)
    if last_day is not None and weeks[-1].start > last_day:
        raise ValueError(
            f"{count} teaching weeks do not fit between {first_day} and {last_day}"
        )
    return weeks


def week_of(value, weeks, tz=VN_TZ):
    """Return the :class:`TeachingWeek` containing ``value``, or ``None``.

    ``None`` means the date is before the year, after it, or in a break week.
    ``weeks`` must be sorted, as :func:`teaching_weeks` returns them.
    """
    day = local_date(value, tz)
    starts = [week.start for week in weeks]
    index = bisect.bisect_right(starts, day) - 1
    if index < 0:
        return None
    week = weeks[index]
    return week if day in week else None


def next_week_on_or_after(value, weeks, tz=VN_TZ):
    """The teaching week containing ``value``, or the next one after it."""
    day = local_date(value, tz)
    for week in weeks:
        if week.end >= day:
            return week
    return None


def semester_of(week_number, first_semester_weeks=18):
    """1 or 2: the semester (học kỳ) a teaching week belongs to."""
    return 1 if week_number <= first_semester_weeks else 2
