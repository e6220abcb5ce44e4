import datetime as dt

import pytest

from hscm_tools import reminder_digest as rd
from hscm_tools import school_calendar as sc
from hscm_tools.reminder_digest import Owed, PendingApproval, Rules

D = dt.date
HOUR = dt.timedelta(hours=1)
SECOND = dt.timedelta(seconds=1)


def vn(*args):
    return dt.datetime(*args, tzinfo=sc.VN_TZ)


# Monday 23 November 2026, 07:00 in Hà Nội: the day's digests go out
NOW = vn(2026, 11, 23, 7, 0)
HEADS = {"lan": ["head_math"], "hung": ["head_math"], "head_math": ["head_math"], "mai": []}
VPS = ["vp"]


def by_user(digests):
    result = {}
    for digest in digests:
        assert digest.user_id not in result, "two digests for one person"
        result[digest.user_id] = {kind: [line.label for line in lines] for kind, lines in digest.sections}
    return result


def run(owed=(), pending=(), rules=Rules(), now=NOW, already_sent=frozenset()):
    return rd.digests(owed, pending, rules, now, heads_of=HEADS, vice_principals=VPS, already_sent=already_sent)


def test_before_the_deadline_the_teacher_is_reminded_within_the_window():
    owed = [
        Owed("lan", "KHBD Toán 10A1 tuần 13", NOW + 24 * HOUR, "not_due"),
        Owed("lan", "KHBD Toán 10A2 tuần 13", NOW + 24 * HOUR + SECOND, "not_due"),  # not yet
        Owed("lan", "KHBD Toán 10A3 tuần 13", NOW + 24 * HOUR, "pending"),  # handed in
        Owed("lan", "KHBD Toán 10A4 tuần 13", NOW + 5 * HOUR, "rejected"),  # to resubmit
        Owed("lan", "KHBD Toán 10A5 tuần 13", NOW + 5 * HOUR, "approved_on_time"),
    ]
    assert by_user(run(owed)) == {"lan": {"due_soon": ["KHBD Toán 10A1 tuần 13", "KHBD Toán 10A4 tuần 13"]}}


def test_after_the_deadline_the_department_head_hears_not_the_teacher():
    owed = [
        Owed("lan", "at the deadline", NOW, "not_due"),  # still on time: a reminder
        Owed("hung", "one second late", NOW - SECOND, "missing"),
        Owed("lan", "rejected, past due", NOW - 30 * HOUR, "rejected"),
        Owed("hung", "late but in", NOW - 30 * HOUR, "pending"),
    ]
    got = by_user(run(owed))
    assert got == {
        "lan": {"due_soon": ["at the deadline"]},
        "head_math": {"overdue": ["one second late", "rejected, past due"]},
    }


def test_escalation_waits_the_configured_hours():
    owed = [Owed("hung", "KHBD", NOW - 6 * HOUR, "missing")]
    assert by_user(run(owed, rules=Rules(escalate_to_head_after_hours=6))) == {}
    owed = [Owed("hung", "KHBD", NOW - 6 * HOUR - SECOND, "missing")]
    assert by_user(run(owed, rules=Rules(escalate_to_head_after_hours=6))) == {"head_math": {"overdue": ["KHBD"]}}


def test_old_overdue_items_stop_after_some_days():
    owed = [Owed("hung", "week 3", vn(2026, 11, 16, 23, 59), "missing"),  # 7 local days ago
            Owed("hung", "week 2", vn(2026, 11, 15, 23, 59), "missing")]  # 8 days ago
    assert by_user(run(owed)) == {"head_math": {"overdue": ["week 3"]}}
    assert by_user(run(owed, rules=Rules(overdue_for_days=None))) == {"head_math": {"overdue": ["week 3", "week 2"]}}


def test_a_head_is_not_escalated_to_themself_nor_a_teacher_without_head():
    owed = [Owed("head_math", "the head's own plan", NOW - HOUR, "missing"),
            Owed("mai", "no department", NOW - HOUR, "missing")]
    assert by_user(run(owed)) == {"vp": {"overdue": ["the head's own plan", "no department"]}}


def test_pending_approvals_go_to_the_approver_and_the_delegate():
    pending = [PendingApproval("head_math", "KHBD Lan tuần 13", NOW - 5 * HOUR, delegate_id="deputy_math"),
               PendingApproval("head_math", "KHBD Hùng tuần 13", NOW - 2 * HOUR)]
    assert by_user(run(pending=pending)) == {
        "head_math": {"to_approve": ["KHBD Lan tuần 13", "KHBD Hùng tuần 13"]},
        "deputy_math": {"to_approve": ["KHBD Lan tuần 13"]},
    }


def test_overdue_approvals_also_go_to_the_vice_principal():
    pending = [PendingApproval("head_math", "48 hours", NOW - 48 * HOUR),
               PendingApproval("head_math", "48 hours and a second", NOW - 48 * HOUR - SECOND),
               PendingApproval("vp", "waits for the vice principal", NOW - 60 * HOUR)]
    got = by_user(run(pending=pending))
    assert got["head_math"] == {"to_approve": ["48 hours", "48 hours and a second"]}
    # the vice principal approves one herself: it is listed once, under to_approve
    assert got["vp"] == {"to_approve": ["waits for the vice principal"],
                         "approval_overdue": ["48 hours and a second"]}


def test_one_digest_per_person_whatever_the_number_of_items():
    owed = [Owed("lan", f"due {i}", NOW + HOUR, "not_due") for i in range(30)]
    owed += [Owed("hung", f"late {i}", NOW - HOUR, "missing") for i in range(30)]
    pending = [PendingApproval("head_math", f"approve {i}", NOW - 50 * HOUR) for i in range(30)]
    digests = run(owed, pending)
    assert sorted(d.user_id for d in digests) == ["head_math", "lan", "vp"]
    head = by_user(digests)["head_math"]
    assert list(head) == ["overdue", "to_approve"]  # sections in a fixed order
    assert len(head["overdue"]) == 30 and len(head["to_approve"]) == 30
    assert all(d.day == D(2026, 11, 23) for d in digests)


def test_the_same_item_listed_twice_appears_once():
    owed = [Owed("lan", "KHBD", NOW + HOUR, "not_due")] * 2
    assert by_user(run(owed)) == {"lan": {"due_soon": ["KHBD"]}}


def test_a_rerun_the_same_local_day_sends_nothing_more():
    owed = [Owed("lan", "KHBD", NOW + 3 * HOUR, "not_due"), Owed("hung", "late", NOW - HOUR, "missing")]
    first = run(owed)
    sent = rd.sent_keys(first)
    assert sent == {("lan", D(2026, 11, 23)), ("head_math", D(2026, 11, 23))}
    # later that day, with a new pending approval for the head: still nothing for the head
    later = NOW + 10 * HOUR
    pending = [PendingApproval("head_math", "new", later - HOUR, delegate_id="deputy_math")]
    again = run(owed, pending, now=later, already_sent=sent)
    assert by_user(again) == {"deputy_math": {"to_approve": ["new"]}}
    # 23:59 is still the same day in Hà Nội, although it is already 16:59 UTC
    assert run(owed, now=vn(2026, 11, 23, 23, 59), already_sent=sent) == []


def test_days_are_vietnam_local_dates():
    owed = [Owed("lan", "KHBD", vn(2026, 11, 24, 12, 0), "not_due")]
    sent = {("lan", D(2026, 11, 23))}
    # 00:30 UTC on the 24th is 07:30 in Hà Nội: a new local day, a new digest
    utc_morning = dt.datetime(2026, 11, 24, 0, 30, tzinfo=dt.timezone.utc)
    digests = run(owed, now=utc_morning, already_sent=sent)
    assert [(d.user_id, d.day) for d in digests] == [("lan", D(2026, 11, 24))]
    # naive datetimes are UTC, as Odoo stores them
    assert run(owed, now=dt.datetime(2026, 11, 24, 0, 30), already_sent=sent) == digests


def test_nothing_goes_out_before_the_sending_hour():
    owed = [Owed("lan", "KHBD", NOW + HOUR, "not_due")]
    assert run(owed, now=NOW - SECOND) == []
    assert len(run(owed, now=NOW)) == 1
    assert run(owed, now=NOW - SECOND, rules=Rules(send_hour_local=6)) != []


def test_rules_switched_off():
    owed = [Owed("lan", "soon", NOW + HOUR, "not_due"), Owed("hung", "late", NOW - HOUR, "missing")]
    pending = [PendingApproval("head_math", "old", NOW - 100 * HOUR)]
    rules = Rules(remind_before_hours=None, escalate_to_head_after_hours=None,
                  escalate_pending_to_vp_after_hours=None)
    assert by_user(run(owed, pending, rules=rules)) == {"head_math": {"to_approve": ["old"]}}


def test_rules_are_checked():
    with pytest.raises(ValueError):
        Rules(remind_before_hours=-1)
    with pytest.raises(ValueError):
        Rules(send_hour_local=24)
