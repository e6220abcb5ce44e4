import logging
from collections import defaultdict

from markupsafe import Markup, escape

from odoo import api, fields, models

from ..tools import deadlines, reminder_digest, school_calendar
from ..tools import submission_status as status_tools

_logger = logging.getLogger(__name__)


class HscmProgress(models.AbstractModel):
    """What each teacher owes each week and how it stands (FR-51…53): the
    lesson plans expected from the teaching assignments and the school
    calendar, matched with the dossiers handed in. The rules are pure
    Python (tools/submission_status.py); this model only gathers records,
    with the caller's rights."""

    _name = "hscm.progress"
    _description = "Submission progress"

    @api.model
    def _lesson_plan_type(self):
        return self.env.ref("hscm_odoo.dossier_type_lesson_plan")

    @api.model
    def _grid(self, staff, weeks, now=None):
        """``{staff id: {week: Cell}}`` for the lesson plans ``staff`` owe in
        ``weeks`` (numbers of teaching weeks of their school's year)."""
        now = now or fields.Datetime.now()
        grid = defaultdict(dict)
        for school in staff.school_id:
            members = staff.filtered(lambda s: s.school_id == school)
            year = self.env["hscm.school.year"].sudo()._find_for(school.authority_id, now.date())  # calendar only
            if not year:
                continue
            for staff_id, cells in self._school_grid(school, year, members, weeks, now).items():
                grid[staff_id].update(cells)
        return grid

    def _school_grid(self, school, year, staff, weeks, now):
        lesson_plan = self._lesson_plan_type()
        policy = lesson_plan._policy_for(school)
        assignments = self.env["hscm.teaching.assignment"].search([("staff_id", "in", staff.ids)])
        items = status_tools.expected_lesson_plans(
            [status_tools.Assignment(a.staff_id.id, a.subject_id.id, a.class_id.id, a.periods_per_week,
                                     a.from_week or None, a.to_week or None) for a in assignments],
            list(weeks), unit="week" if policy.file_unit == "week" else "lesson")
        deadline_of = self._deadlines(policy, year, weeks)
        handed_in = defaultdict(list)
        staff_of_user = {s.user_id.id: s.id for s in staff.sudo() if s.user_id}  # ids only
        dossiers = self.env["hscm.dossier"].search([
            ("type_id", "=", lesson_plan.id), ("owner_id", "in", list(staff_of_user)),
            ("school_year_id", "=", year.id), ("week_number", "in", list(weeks)),
            ("state", "in", ("submitted", "approved", "rejected")),
        ])
        for dossier in dossiers:
            submission = status_tools.Submitted(dossier.state, dossier.submitted_on, dossier.approved_on,
                                                dossier.is_late)
            for school_class in dossier.class_ids or [False]:
                key = (staff_of_user.get(dossier.owner_id.id), dossier.subject_id.id,
                       school_class.id if school_class else False, dossier.week_number)
                handed_in[key].append(submission)
        grid = defaultdict(dict)
        by_teacher_week = defaultdict(list)
        for item in items:
            cell = status_tools.cell_of(item.count, handed_in.get(
                (item.teacher_id, item.subject_id, item.class_id, item.week), []), deadline_of.get(item.week), now)
            by_teacher_week[(item.teacher_id, item.week)].append(cell)
        for (staff_id, week), cells in by_teacher_week.items():
            worst = status_tools.worst(c.status for c in cells)
            waiting = [c.waiting_since for c in cells if c.waiting_since]
            counts = defaultdict(int)
            for cell in cells:
                for key, value in cell.counts.items():
                    counts[key] += value
            grid[staff_id][week] = status_tools.Cell(worst, dict(counts), min(waiting) if waiting else None)
        return grid

    def _deadlines(self, policy, year, weeks):
        """``{week: aware deadline or None}`` of the lesson plans of ``weeks``."""
        teaching_weeks = year._teaching_weeks()
        result = {}
        for week in set(weeks):
            try:
                result[week] = policy._compute_deadline(deadlines.Period(week=week), teaching_weeks,
                                                        year.first_semester_weeks)
            except ValueError:
                result[week] = None
        return result

    @api.model
    def _rollup(self, grid, now=None):
        cells = [cell for weeks in grid.values() for cell in weeks.values()]
        return status_tools.rollup(cells, now or fields.Datetime.now())

    # ------------------------------------------------------------------
    # Reminders: one digest per person per day (cron)
    # ------------------------------------------------------------------
    @api.model
    def _cron_send_reminders(self):
        now = fields.Datetime.now()
        day = school_calendar.local_date(now)
        Sent = self.env["hscm.reminder.sent"].sudo()  # the cron's own bookkeeping
        already = {(sent.user_id.id, sent.day) for sent in Sent.search([("day", "=", day)])}
        schools = self.env["hscm.school"].sudo().search([("reminders_enabled", "=", True)])  # cron: every school
        for school in schools:
            for digest in self.sudo()._school_digests(school, now, already):  # cron: reads every school
                self._send_digest(digest)
                already.add((digest.user_id, digest.day))
                Sent.create({"user_id": digest.user_id, "day": digest.day,
                             "lines": sum(len(lines) for _kind, lines in digest.sections)})

    def _school_digests(self, school, now, already):
        year = self.env["hscm.school.year"]._find_for(school.authority_id, school_calendar.local_date(now))
        if not year:
            return []
        info = school.get_teaching_week(now)
        current = info.get("week") or 0
        weeks = [w for w in (current, current + 1) if 1 <= w <= year.week_count]
        staff = self.env["hscm.staff"].search([("school_id", "=", school.id), ("user_id", "!=", False)])
        grid = self._grid(staff, weeks, now) if weeks else {}
        policy = self._lesson_plan_type()._policy_for(school)
        deadline_of = self._deadlines(policy, year, weeks)
        user_of = {member.id: member.user_id.id for member in staff}
        owed = [
            reminder_digest.Owed(user_of[staff_id], f"{self._lesson_plan_type().name} — {week}",
                                 deadline_of.get(week), cell.status)
            for staff_id, cells in grid.items() for week, cell in cells.items()
            if staff_id in user_of
        ]
        pending = []
        for dossier in self.env["hscm.dossier"].search([("school_id", "=", school.id), ("state", "=", "submitted")]):
            step = dossier._current_steps().filtered(lambda s: s.state == "pending")[:1]
            if step:
                pending.append(reminder_digest.PendingApproval(
                    step.expected_user_id.id, f"{dossier.name} — {dossier.title}", dossier.submitted_on,
                    step.acting_user_id.id or None))
        heads_of = {member.user_id.id: [member.school_department_id.head_id.user_id.id]
                    for member in staff if member.school_department_id.head_id.user_id}
        rules = reminder_digest.Rules(
            remind_before_hours=school.remind_before_hours,
            escalate_to_head_after_hours=school.escalate_to_head_after_hours,
            escalate_pending_to_vp_after_hours=school.escalate_pending_after_hours,
            send_hour_local=min(23, max(0, school.reminder_hour)))
        return reminder_digest.digests(owed, pending, rules, now, heads_of=heads_of,
                                       vice_principals=school._staff_holding("vice_principal").user_id.ids,
                                       already_sent=frozenset(already))

    def _send_digest(self, digest):
        user = self.env["res.users"].browse(digest.user_id)
        env = self.with_context(lang=user.lang or "vi_VN").env
        titles = {
            reminder_digest.DUE_SOON: env._("Due soon"),
            reminder_digest.OVERDUE: env._("Overdue in your department"),
            reminder_digest.TO_APPROVE: env._("Waiting for your approval"),
            reminder_digest.APPROVAL_OVERDUE: env._("Approvals waiting too long"),
        }
        body = Markup("")
        for kind, lines in digest.sections:
            items = Markup("").join(Markup("<li>%s</li>") % escape(line.label) for line in lines)
            body += Markup("<h3>%s</h3><ul>%s</ul>") % (titles[kind], items)
        self.env["mail.mail"].sudo().create({  # the cron sends in the user's name nothing; a system mail
            "subject": env._("Professional records: your day (%(day)s)", day=digest.day.strftime("%d/%m/%Y")),
            "body_html": body,
            "recipient_ids": [(4, user.partner_id.id)],
            "auto_delete": True,
        })
