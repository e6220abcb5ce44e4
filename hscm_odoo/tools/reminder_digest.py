"""Reminders and escalations, gathered into one digest per person per day.

Pure Python (no Odoo import): the daily cron gathers what is owed and what
waits for approval, calls :func:`digests`, sends what comes back and records
``(user_id, day)`` of each digest sent; the rules are the school's
(:class:`Rules`, configurable per school).

Who hears about what (the issue's rule, point 3):

``due_soon`` — to the teacher
    an item the teacher still owes (nothing handed in, or rejected and to be
    resubmitted: statuses ``not_due``, ``missing``, ``rejected``) whose
    deadline is **not yet passed** and at most ``remind_before_hours`` away
    (``now <= deadline <= now + remind_before_hours``);
``overdue`` — to the department head(s) of that teacher
    the same kind of item once the deadline has passed by more than
    ``escalate_to_head_after_hours`` (0: as soon as it has passed), for at
    most ``overdue_for_days`` local days after the deadline, so an item
    forgotten in week 3 does not fill every digest until June (the weekly
    report keeps it). The teacher is never escalated to themself: a head's
    own overdue items go to the vice principal(s) instead, and so do the
    items of a teacher without a head;
``to_approve`` — to the approver, and to the delegate acting for them
    every approval still pending (FR-30 delegation);
``approval_overdue`` — also to the vice principal(s)
    a pending approval waiting for more than
    ``escalate_pending_to_vp_after_hours`` since its submission; a vice
    principal who is the approver already sees it under ``to_approve``.

One digest per person per day, never a flood:

* a "day" is the **Vietnam local date** of ``now`` (Asia/Ho_Chi_Minh);
* nothing is sent before ``send_hour_local`` o'clock local time, so a cron
  running every hour sends the day's digests on its first run at or after
  that hour;
* whatever the number of items, a person gets one :class:`Digest` holding
  every section that concerns them (sections in the order above, each
  line once);
* ``already_sent`` — the ``(user_id, day)`` pairs sent before — is honoured:
  a rerun the same day sends nothing to anyone already served, and
  :func:`sent_keys` gives the pairs to record after sending.

A rule set to ``None`` is switched off (``remind_before_hours=None`` or 0: no
reminders before deadlines; ``escalate_to_head_after_hours=None``: no
escalation; ``escalate_pending_to_vp_after_hours=None``: approvals are never
escalated; ``overdue_for_days=None``: overdue items are escalated every day
until they are handed in).
"""

import datetime as dt
from dataclasses import dataclass

from .school_calendar import VN_TZ

DUE_SOON = "due_soon"
OVERDUE = "overdue"
TO_APPROVE = "to_approve"
APPROVAL_OVERDUE = "approval_overdue"
KINDS = (DUE_SOON, OVERDUE, TO_APPROVE, APPROVAL_OVERDUE)

#: Statuses (see :mod:`.submission_status`) where the teacher still has to act.
OWING = frozenset({"not_due", "missing", "rejected"})


@dataclass(frozen=True)
class Rules:
    """A school's reminder rules (hours are elapsed hours; ``None`` switches a rule off)."""

    remind_before_hours: float | None = 24
    escalate_to_head_after_hours: float | None = 0
    escalate_pending_to_vp_after_hours: float | None = 48
    send_hour_local: int = 7
    overdue_for_days: int | None = 7

    def __post_init__(self):
        for name in ("remind_before_hours", "escalate_to_head_after_hours",
                     "escalate_pending_to_vp_after_hours", "overdue_for_days"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} cannot be negative ({value})")
        if not 0 <= int(self.send_hour_local) <= 23:
            raise ValueError(f"send_hour_local is an hour of the day (0-23), got {self.send_hour_local}")


@dataclass(frozen=True)
class Owed:
    """An item a teacher owes: its label, deadline and status (a status of
    :mod:`.submission_status`)."""

    teacher_id: object
    label: str
    deadline: dt.datetime
    status: str


@dataclass(frozen=True)
class PendingApproval:
    """A dossier waiting for ``approver_id`` (and ``delegate_id`` acting for them)."""

    approver_id: object
    label: str
    submitted_on: dt.datetime
    delegate_id: object = None


@dataclass(frozen=True)
class Line:
    """One line of a digest: the item, whom it is about (the teacher who owes
    it, or the approver it waits for), and its time (the deadline, or when the
    file was submitted)."""

    label: str
    about_id: object
    at: dt.datetime


@dataclass(frozen=True)
class Digest:
    """Everything one person hears about on one local day."""

    user_id: object
    day: dt.date
    sections: tuple  # ((kind, (Line, ...)), ...) in the order of KINDS


def _aware(value):
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def _hours(value):
    return dt.timedelta(hours=float(value))


def digests(owed, pending, rules, now, heads_of=None, vice_principals=(), already_sent=frozenset()):
    """The digests to send at ``now``: at most one per person and local day.

    :param owed: iterable of :class:`Owed`
    :param pending: iterable of :class:`PendingApproval`
    :param rules: the school's :class:`Rules`
    :param now: the current time (aware, or naive UTC)
    :param heads_of: mapping teacher → iterable of their department head(s)
    :param vice_principals: the vice principal(s) who receive escalations
    :param already_sent: set of ``(user_id, day)`` already served
    :return: a list of :class:`Digest`, ordered by first appearance of the person
    """
    now = _aware(now)
    local = now.astimezone(VN_TZ)
    day = local.date()
    if local.hour < rules.send_hour_local:
        return []
    heads_of = heads_of or {}
    vice_principals = tuple(dict.fromkeys(vice_principals))
    boxes = {}  # user -> kind -> {line: None} (an ordered set)

    def put(user, kind, line):
        if user is None or (user, day) in already_sent:
            return
        boxes.setdefault(user, {}).setdefault(kind, {})[line] = None

    for item in owed:
        if item.status not in OWING or item.deadline is None:
            continue
        deadline = _aware(item.deadline)
        line = Line(item.label, item.teacher_id, deadline)
        if now <= deadline:
            if rules.remind_before_hours and deadline <= now + _hours(rules.remind_before_hours):
                put(item.teacher_id, DUE_SOON, line)
            continue
        if rules.escalate_to_head_after_hours is None:
            continue
        if now <= deadline + _hours(rules.escalate_to_head_after_hours):
            continue
        if rules.overdue_for_days is not None:
            if (day - deadline.astimezone(VN_TZ).date()).days > rules.overdue_for_days:
                continue
        heads = [head for head in heads_of.get(item.teacher_id, ()) if head != item.teacher_id]
        for user in heads or [vp for vp in vice_principals if vp != item.teacher_id]:
            put(user, OVERDUE, line)

    for approval in pending:
        submitted = _aware(approval.submitted_on)
        line = Line(approval.label, approval.approver_id, submitted)
        put(approval.approver_id, TO_APPROVE, line)
        if approval.delegate_id is not None and approval.delegate_id != approval.approver_id:
            put(approval.delegate_id, TO_APPROVE, line)
        limit = rules.escalate_pending_to_vp_after_hours
        if limit is not None and now > submitted + _hours(limit):
            for vp in vice_principals:
                if vp not in (approval.approver_id, approval.delegate_id):
                    put(vp, APPROVAL_OVERDUE, line)

    result = []
    for user, kinds in boxes.items():
        sections = tuple((kind, tuple(kinds[kind])) for kind in KINDS if kinds.get(kind))
        if sections:
            result.append(Digest(user, day, sections))
    return result


def sent_keys(sent):
    """The ``(user_id, day)`` pairs to add to ``already_sent`` once ``sent`` went out."""
    return {(digest.user_id, digest.day) for digest in sent}


__all__ = [
    "APPROVAL_OVERDUE", "DUE_SOON", "KINDS", "OVERDUE", "OWING", "TO_APPROVE",
    "Digest", "Line", "Owed", "PendingApproval", "Rules", "digests", "sent_keys",
]
