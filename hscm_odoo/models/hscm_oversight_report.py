import datetime as dt
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools.translate import LazyTranslate

from ..tools import oversight_reports as orp
from ..tools import school_calendar
from ..tools import submission_status as status_tools
from .hscm_dossier import user_error

_lt = LazyTranslate(__name__)

# Dossier states that count as handed in (drafts and cancelled files do not)
HANDED_IN_STATES = ("submitted", "approved", "rejected")


class HscmOversightReport(models.AbstractModel):
    """The figures behind the oversight reports (FR-48, FR-52, FR-53): the
    weekly and monthly progress report, the facts of a drafted violation
    record and the year-end summary per teacher.

    Records are read with the caller's rights, as ``hscm.progress`` does:
    a department head gets their department, the leadership their school,
    an office the schools under it. The arithmetic is pure Python
    (tools/oversight_reports.py, tools/submission_status.py)."""

    _name = "hscm.oversight.report"
    _description = "Oversight reports"

    # ------------------------------------------------------------------
    # Periods
    # ------------------------------------------------------------------
    @api.model
    def _period_weeks(self, year, kind, week=None, month=None):
        """``(weeks, period)`` of a week or a month (``month``: a date in it)
        of ``year``, ``period`` describing it for the printed header;
        refused when the period has no teaching week."""
        teaching_weeks = year._teaching_weeks()
        if kind == "week":
            if not week or not 1 <= int(week) <= len(teaching_weeks):
                raise user_error(_lt("Week %(week)s is not a teaching week of %(year)s.", week=week or 0,
                                     year=year.name))
            found = teaching_weeks[int(week) - 1]
            return [found.number], {"kind": "week", "week": found.number, "start": found.start.strftime("%d/%m/%Y"),
                                    "end": found.end.strftime("%d/%m/%Y")}
        if kind == "month":
            if not month:
                raise user_error(_lt("Choose the month of the report."))
            month = fields.Date.to_date(month)
            weeks = orp.weeks_of_month(teaching_weeks, month.year, month.month)
            if not weeks:
                label = month.strftime("%m/%Y")
                raise user_error(_lt("%(month)s has no teaching week in %(year)s.", month=label, year=year.name))
            return weeks, {"kind": "month", "month": month.strftime("%m/%Y"), "first": weeks[0], "last": weeks[-1]}
        raise user_error(_lt("A report covers a week or a month."))

    # ------------------------------------------------------------------
    # Lesson plans owed, item by item
    # ------------------------------------------------------------------
    @api.model
    def _school_grid(self, school, year, staff, weeks, now):
        """``{staff id: {week: Cell}}`` from ``hscm.progress`` for an explicit
        school year (``hscm.progress._grid`` picks the year holding ``now``,
        and a report may be about a finished year)."""
        if not staff or not weeks:
            return {}
        return self.env["hscm.progress"]._school_grid(school, year, staff, list(weeks), now)

    @api.model
    def _items(self, school, year, staff, weeks):
        """``(items, files)``: the lesson plans ``staff`` owe in ``weeks``
        (:class:`ExpectedItem`, one per teacher, subject, class and week) and
        the dossiers handed in for each, ``{(staff id, subject id, class id,
        week): [dossier]}``; matched as ``hscm.progress`` matches them."""
        return self.env["hscm.progress"]._lesson_plan_items(school, year, staff, weeks)

    @api.model
    def _item_rows(self, school, year, staff, weeks, now, statuses):
        """The expected items of ``staff`` whose status is in ``statuses``,
        as dicts for the reports' lists (teacher, week, subject, class,
        status, files, references)."""
        items, files = self._items(school, year, staff, weeks)
        progress = self.env["hscm.progress"]
        deadline_of = progress._deadlines(progress._lesson_plan_type()._policy_for(school), year, weeks)
        members = {member.id: member for member in staff}
        subjects = self.env["hscm.subject"].browse({item.subject_id for item in items})
        classes = self.env["hscm.school.class"].browse({item.class_id for item in items if item.class_id})
        names = {("s", s.id): s.name for s in subjects} | {("c", c.id): c.name for c in classes}
        rows = []
        for item in items:
            handed_in = files.get((item.teacher_id, item.subject_id, item.class_id, item.week), [])
            cell = status_tools.cell_of(item.count, [
                status_tools.Submitted(d.state, d.submitted_on, d.approved_on, d.is_late) for d in handed_in
            ], deadline_of.get(item.week), now)
            if not set(cell.counts) & set(statuses):
                continue
            rows.append({
                "staff": members[item.teacher_id], "week": item.week, "subject": names.get(("s", item.subject_id), ""),
                "class": names.get(("c", item.class_id), ""), "status": cell.status, "counts": cell.counts,
                "expected": item.count, "references": ", ".join(d.name for d in handed_in),
            })
        rows.sort(key=lambda r: (r["staff"].school_department_id.name or "", r["staff"].name, r["week"],
                                 r["subject"], r["class"]))
        return rows

    # ------------------------------------------------------------------
    # Weekly and monthly progress report (FR-52)
    # ------------------------------------------------------------------
    @api.model
    def _progress_values(self, school_id, school_year_id, kind, week=None, month=None, department_id=None,
                         now=None):
        """Everything the progress report prints, read with the caller's
        rights (an unreadable school or department raises AccessError)."""
        now = now or fields.Datetime.now()
        school = self.env["hscm.school"].browse(int(school_id))
        school.check_access("read")
        department = self.env["hscm.school.department"].browse(int(department_id)) if department_id else None
        if department:
            department.check_access("read")
            if department.school_id != school:
                raise user_error(_lt("%(department)s is not a department of %(school)s.",
                                     department=department.name, school=school.name))
        year = self.env["hscm.school.year"].browse(int(school_year_id))
        year.check_access("read")
        weeks, period = self._period_weeks(year, kind, week=week, month=month)
        domain = [("school_id", "=", school.id)]
        if department:
            domain.append(("school_department_id", "=", department.id))
        staff = self.env["hscm.staff"].search(domain, order="name")
        grid = self._school_grid(school, year, staff, weeks, now)
        staff = staff.filtered(lambda s: s.id in grid)
        sections = []
        school_totals = orp.Totals()
        for section_department in staff.school_department_id.sorted(lambda d: (d.sequence, d.name)) or [False]:
            members = staff.filtered(lambda s, d=section_department: s.school_department_id == (d or s.school_department_id))
            rows = []
            section_totals = orp.Totals()
            for member in members:
                cells = grid.get(member.id, {})
                member_totals = orp.totals(cells.values())
                section_totals += member_totals
                rows.append({"staff": member, "cells": [cells.get(w) for w in weeks], "totals": member_totals})
            school_totals += section_totals
            sections.append({"department": section_department, "rows": rows, "totals": section_totals,
                             "head": section_department.sudo().head_id.name if section_department else "",  # a name
                             })
        no_department = staff.filtered(lambda s: not s.school_department_id)
        if no_department and any(section["department"] for section in sections):
            rows = [{"staff": m, "cells": [grid.get(m.id, {}).get(w) for w in weeks],
                     "totals": orp.totals(grid.get(m.id, {}).values())} for m in no_department]
            section_totals = sum((row["totals"] for row in rows), orp.Totals())
            school_totals += section_totals
            sections.append({"department": False, "rows": rows, "totals": section_totals, "head": ""})
        issues = self._item_rows(school, year, staff, weeks, now,
                                 (status_tools.MISSING, status_tools.APPROVED_LATE, status_tools.REJECTED))
        local_now = now.replace(tzinfo=dt.timezone.utc).astimezone(school_calendar.VN_TZ)
        leaders = school.sudo()._staff_holding("vice_principal") or school.sudo()._staff_holding("principal")  # names
        return {
            "school": school, "department": department, "year": year, "weeks": weeks, "period": period,
            "authority": school.sudo().reports_to_id.name or "",  # the name of the office above the school
            "kind": kind, "sections": sections, "totals": school_totals, "issues": issues,
            "printed_by": self.env.user.name, "printed_at": f"{local_now:%H:%M %d/%m/%Y}",
            "head_name": department.sudo().head_id.name if department else "",  # a name for the signature line
            "leader_name": leaders[:1].name or "",
            "format_percent": orp.format_percent,
        }

    # ------------------------------------------------------------------
    # Violation record (FR-48): the facts, never the decision
    # ------------------------------------------------------------------
    @api.model
    def _violation_facts(self, staff, year, week_from, week_to, now=None):
        """The facts of a violation record for one teacher: the lesson plans
        owed in those weeks (from the teaching assignments and the calendar)
        that were missing, rejected, or not approved when their teaching week
        started. A list of :class:`Fact` with the dossiers concerned."""
        staff.ensure_one()
        now = now or fields.Datetime.now()
        teaching_weeks = year._teaching_weeks()
        weeks = [w.number for w in teaching_weeks if week_from <= w.number <= week_to]
        items, files = self._items(staff.school_id, year, staff, weeks)
        starts = {w.number: orp.week_start_instant(w.start) for w in teaching_weeks if w.number in weeks}
        handed_in = {key: [orp.HandedIn(d.state, d.approved_on if d.state == "approved" else None, d.name)
                           for d in dossiers] for key, dossiers in files.items()}
        return orp.violation_facts(items, handed_in, starts, now)

    # ------------------------------------------------------------------
    # Year-end summary per teacher (FR-53)
    # ------------------------------------------------------------------
    @api.model
    def _year_rows(self, school, year, department=None, now=None):
        """``[(staff, TeacherYear)]`` for the teachers of ``school`` (or of
        ``department``) over the whole school year ``year``."""
        now = now or fields.Datetime.now()
        school.check_access("read")
        domain = [("school_id", "=", school.id)]
        if department:
            department.check_access("read")
            domain.append(("school_department_id", "=", department.id))
        staff = self.env["hscm.staff"].search(domain, order="name")
        weeks = list(range(1, year.week_count + 1))
        grid = self._school_grid(school, year, staff, weeks, now)
        users = {member.sudo().user_id.id: member.id for member in staff if member.sudo().user_id}  # ids only
        lesson_plan = self.env["hscm.progress"]._lesson_plan_type()
        rejections = defaultdict(int)
        for version in self.env["hscm.dossier.version"].search([
                ("dossier_id.owner_id", "in", list(users)), ("dossier_id.type_id", "=", lesson_plan.id),
                ("dossier_id.school_year_id", "=", year.id), ("rejected_on", "!=", False)]):
            rejections[users[version.dossier_id.owner_id.id]] += 1
        other, other_approved = defaultdict(int), defaultdict(int)
        for owner, state, count in self.env["hscm.dossier"]._read_group([
                ("owner_id", "in", list(users)), ("type_id", "!=", lesson_plan.id),
                ("school_year_id", "=", year.id), ("state", "in", HANDED_IN_STATES)],
                ["owner_id", "state"], ["__count"]):
            other[users[owner.id]] += count
            if state == "approved":
                other_approved[users[owner.id]] += count
        violations = defaultdict(int)
        for member, count in self.env["hscm.violation.record"]._read_group([
                ("staff_id", "in", staff.ids), ("school_year_id", "=", year.id), ("state", "=", "issued")],
                ["staff_id"], ["__count"]):
            violations[member.id] += count
        rows = []
        for member in staff:
            if member.id not in grid and not (other[member.id] or violations[member.id]):
                continue
            rows.append((member, orp.teacher_year(grid.get(member.id, {}).values(), rejections[member.id],
                                                  other[member.id], other_approved[member.id],
                                                  violations[member.id])))
        return rows

    @api.model
    def _progress_pdf(self, school_id, school_year_id, kind, week=None, month=None, department_id=None):
        """The progress report as PDF bytes, computed with the caller's
        rights (the portal's "Print weekly report")."""
        data = {"school_id": school_id, "school_year_id": school_year_id, "kind": kind, "week": week or False,
                "month": month or False, "department_id": department_id or False}
        self._progress_values(**data)  # refuses a wrong period or scope before wkhtmltopdf runs
        report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        content, _kind = report._render_qweb_pdf("hscm_odoo.action_report_progress", res_ids=[], data=data)
        return content
