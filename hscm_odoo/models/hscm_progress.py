import datetime as dt
import logging
from collections import defaultdict

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..tools import deadlines, records_owed, reminder_digest, school_calendar
from ..tools import submission_status as status_tools

_logger = logging.getLogger(__name__)


#: What each cell of a roll-up holds, in this order (``rollup_view``): a list, not a dict,
#: since a city's view has thousands of cells.
ROLLUP_COLUMNS = ("on_time_pct", "expected", "owed", "on_time", "late", "pending", "rejected", "missing", "waiting",
                  "oldest_wait_hours", "average_wait_hours")


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
        grid = defaultdict(dict)
        by_teacher_week = defaultdict(list)
        for item, cell in self._item_cells(school, year, staff, weeks, now):
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

    def _lesson_plan_items(self, school, year, staff, weeks):
        """``(items, files)``: the lesson plans ``staff`` owe in ``weeks`` (one
        :class:`ExpectedItem` per teacher, subject, class and week) and the
        dossiers handed in for each, ``{(staff id, subject id, class id,
        week): [dossier]}`` in the order they were created. The dashboards,
        the reports and the violation records all match them here."""
        lesson_plan = self._lesson_plan_type()
        policy = lesson_plan._policy_for(school)
        # Records are found with the caller's rights, then read sudoed: Odoo would otherwise check the
        # record rules of every class and subject reached from them, in Python, one record at a time.
        assignments = self.env["hscm.teaching.assignment"].search([("staff_id", "in", staff.ids)]).sudo()  # found with the caller's rights
        items = status_tools.expected_lesson_plans(
            [status_tools.Assignment(a.staff_id.id, a.subject_id.id, a.class_id.id, a.periods_per_week,
                                     a.from_week or None, a.to_week or None) for a in assignments],
            list(weeks), unit="week" if policy.file_unit == "week" else "lesson")
        files = defaultdict(list)
        staff_of_user = {s.user_id.id: s.id for s in staff.sudo() if s.user_id}  # ids only
        dossiers = self.env["hscm.dossier"].search([
            ("type_id", "=", lesson_plan.id), ("owner_id", "in", list(staff_of_user)),
            ("school_year_id", "=", year.id), ("week_number", "in", list(weeks)),
            ("state", "in", ("submitted", "approved", "rejected")),
        ], order="id").sudo()  # found with the caller's rights (see above)
        for dossier in dossiers:
            for school_class in dossier.class_ids or [False]:
                files[(staff_of_user.get(dossier.owner_id.id), dossier.subject_id.id,
                       school_class.id if school_class else False, dossier.week_number)].append(dossier)
        return items, files

    def _item_cells(self, school, year, staff, weeks, now):
        """``[(ExpectedItem, Cell)]``: each lesson-plan item ``staff`` owe in
        ``weeks`` and how it stands (the rules of tools/submission_status)."""
        items, files = self._lesson_plan_items(school, year, staff, weeks)
        deadline_of = self._deadlines(self._lesson_plan_type()._policy_for(school), year, weeks)
        return [(item, status_tools.cell_of(item.count, [
                    status_tools.Submitted(d.state, d.submitted_on, d.approved_on, d.is_late)
                    for d in files.get((item.teacher_id, item.subject_id, item.class_id, item.week), ())
                ], deadline_of.get(item.week), now)) for item in items]

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
    # Records other than lesson plans: who owes them
    # ------------------------------------------------------------------
    @api.model
    def _owner_units(self, schools, types, year):
        """``{(school id, type id): [(owner key, department id)]}``: who owes
        each type in each school (see tools/records_owed.py). Owner keys are
        the ones ``hscm.progress.summary._other_handed_in`` gives dossiers.

        In SQL, active records only (as the ORM's searches): a city's rebuild
        reads 45,000 teachers and their classes, which took 7 s through the
        ORM. No record rule applies: callers with a user's rights keep only
        the owners that user is (``_owed_records_of``)."""
        result = defaultdict(list)
        school_ids = tuple(schools.ids) or (0,)
        queries = {
            "department": SQL("SELECT school_id, id, id FROM hscm_school_department "
                              "WHERE active AND school_id IN %s", school_ids),
            "group": SQL("SELECT school_id, id, department_id FROM hscm_subject_group "
                         "WHERE active AND school_id IN %s", school_ids),
            "class": SQL("""SELECT c.school_id, c.id, h.school_department_id
                              FROM hscm_school_class c LEFT JOIN hscm_staff h ON h.id = c.homeroom_teacher_id
                             WHERE c.active AND c.school_id IN %s""", school_ids),
            "school": SQL("SELECT id, id, NULL FROM hscm_school WHERE id IN %s", school_ids),
        }
        units_of = {}
        for type_ in types:
            level = type_.owner_level
            if level == "teacher":
                position = type_.owed_by_position_id.id
                key = ("teacher", position)
                if position:  # only the holders of a position (e.g. homeroom teachers)
                    owes = SQL("""SELECT 1 FROM hscm_position_hscm_staff_rel r
                                   WHERE r.hscm_staff_id = s.id AND r.hscm_position_id = %s""", position)
                else:  # teachers: staff with a teaching assignment
                    owes = SQL("SELECT 1 FROM hscm_teaching_assignment ta WHERE ta.staff_id = s.id AND ta.active")
                query = SQL("""SELECT s.school_id, s.id, s.school_department_id FROM hscm_staff s
                                WHERE s.active AND s.school_id IN %s AND EXISTS (%s)""", school_ids, owes)
            else:
                key = (level if level in queries else "school", None)
                query = queries[key[0]]
            if key not in units_of:
                self.env.cr.execute(query)
                units_of[key] = self.env.cr.fetchall()
            owner_level = {"teacher": "staff"}.get(key[0], key[0])
            for school_id, unit_id, department_id in units_of[key]:
                result[(school_id, type_.id)].append(((owner_level, unit_id), department_id))
        return result

    @api.model
    def _owed_records_of(self, staff, now=None, ahead_days=14, back_days=60):
        """The records other than lesson plans ``staff`` still owes around
        ``now`` (deadline within ``back_days`` before and ``ahead_days``
        after): theirs, their department's if they head it, their group's if
        they lead it, their homeroom classes', the school's if they lead it.
        ``[(type, period, deadline, Cell)]``, most urgent first; approved
        records are left out. Read with the caller's rights."""
        now = now or fields.Datetime.now()
        school = staff.school_id
        year = school and self.env["hscm.school.year"].sudo()._find_for(  # the calendar only
            school.authority_id, school_calendar.local_date(now))
        if not year:
            return []
        weeks = year._teaching_weeks()
        types = self.env["hscm.dossier.type"].search([
            ("id", "!=", self._lesson_plan_type().id), ("track_owed", "=", True),
            ("deadline_rule", "not in", tuple(records_owed.UNTRACKED_RULES))]).filtered(lambda t: t._applies_to(school))
        mine = {("staff", staff.id)}
        departments = self.env["hscm.school.department"].search(
            ["|", ("head_id", "=", staff.id), ("deputy_ids", "in", staff.ids)])
        mine |= {("department", d.id) for d in departments}
        mine |= {("group", g.id) for g in self.env["hscm.subject.group"].search([("leader_id", "=", staff.id)])}
        mine |= {("class", c.id) for c in self.env["hscm.school.class"].search([("homeroom_teacher_id", "=", staff.id)])}
        if staff.is_leader:
            mine.add(("school", school.id))
        owners = self._owner_units(school, types, year)
        handed_in = defaultdict(list)
        for dossier in self.env["hscm.dossier"].search([
                ("type_id", "in", types.ids), ("school_year_id", "=", year.id),
                ("state", "in", ("submitted", "approved", "rejected"))]):
            period = records_owed.period_of(dossier.type_id.deadline_rule, dossier.week_number, dossier.period_month,
                                            dossier.semester)
            for owner in records_owed.owner_keys(dossier.type_id.owner_level, dossier.school_id.id, dossier.staff_id.id,
                                                 dossier.school_department_id.id, dossier.subject_group_id.id,
                                                 dossier.class_ids.ids):
                handed_in[(dossier.type_id.id, owner, records_owed.period_key(period))].append(
                    status_tools.Submitted(dossier.state, dossier.submitted_on, dossier.approved_on, dossier.is_late))
        utc_now = now.replace(tzinfo=dt.timezone.utc)
        result = []
        for type_ in types:
            policy = type_._policy_for(school)
            for owner, _department in owners.get((school.id, type_.id), ()):
                if owner not in mine:
                    continue
                for period in records_owed.periods_for_rule(policy.deadline_rule, weeks):
                    try:
                        due = policy._compute_deadline(period, weeks, year.first_semester_weeks)
                    except ValueError:
                        continue
                    if due is None or not (-back_days <= (due - utc_now).total_seconds() / 86400 <= ahead_days):
                        continue
                    cell = status_tools.cell_of(
                        1, handed_in.get((type_.id, owner, records_owed.period_key(period)), ()), due, now)
                    if cell.status not in (status_tools.APPROVED_ON_TIME, status_tools.APPROVED_LATE):
                        result.append((type_, period, due, cell))
        rank = {status: index for index, status in enumerate(status_tools.URGENCY)}
        return sorted(result, key=lambda entry: (rank[entry[3].status], entry[2]))

    # ------------------------------------------------------------------
    # Dashboards over RPC
    # ------------------------------------------------------------------
    @api.model
    def _cell_json(self, cell):
        return {"status": cell.status, "counts": dict(cell.counts),
                "waiting_since": fields.Datetime.to_string(cell.waiting_since.replace(tzinfo=None))
                if cell.waiting_since else False}

    @api.model
    def _rollup_json(self, rollup):
        return {"counts": rollup.counts, "items": rollup.total, "owed": rollup.owed,
                "on_time_pct": rollup.on_time_pct, "waiting": rollup.waiting,
                "oldest_wait_hours": rollup.oldest_wait_hours, "median_wait_hours": rollup.median_wait_hours}

    @api.model
    def department_grid(self, department_id, week_from, week_to):
        """One department's teachers × weeks, live (selective dashboard).
        Read with the caller's rights: another department is refused."""
        department = self.env["hscm.school.department"].browse(int(department_id))
        self._check_may_follow(department)
        weeks = list(range(max(1, int(week_from)), min(int(week_to), 60) + 1))
        staff = self.env["hscm.staff"].search([("school_department_id", "=", department.id)], order="name")
        grid = self._grid(staff, weeks)
        return {
            "department": {"id": department.id, "name": department.name},
            "weeks": weeks,
            "teachers": [{"id": member.id, "name": member.name,
                          "cells": {str(w): self._cell_json(c) for w, c in grid.get(member.id, {}).items()}}
                         for member in staff],
            "rollup": self._rollup_json(self._rollup(grid)),
        }

    @api.model
    def school_week(self, school_id, week):
        """One school, one week, live: each department's roll-up (selective
        dashboard). The leadership of the school and the offices above it."""
        school = self.env["hscm.school"].browse(int(school_id))
        self._check_may_follow(school)
        week = int(week)
        staff = self.env["hscm.staff"].search([("school_id", "=", school.id)])
        grid = self._grid(staff, [week])
        by_department = defaultdict(dict)
        for member in staff:
            if member.id in grid:
                by_department[member.school_department_id][member.id] = grid[member.id]
        return {
            "school": {"id": school.id, "name": school.name}, "week": week,
            "departments": [{"id": department.id, "name": department.name or self.env._("No department"),
                             "rollup": self._rollup_json(self._rollup(cells))}
                            for department, cells in sorted(by_department.items(), key=lambda i: i[0].name or "")],
            "rollup": self._rollup_json(self._rollup(grid)),
        }

    @api.model
    def _check_may_follow(self, record):
        """Whole-school figures are for the leadership, the offices and the
        Sở leaders (who may read the school-week table), within their record
        rules; a department's also for its head and deputies. A Sở subject
        specialist follows their subject from the summary, not a school's
        every subject; a teacher follows only their own records."""
        record.check_access("read")
        if self._may_read_school_weeks():
            return
        if record._name == "hscm.school.department":
            staff = self.env.user.hscm_staff_ids
            if record.head_id in staff or record.deputy_ids & staff:
                return
        raise AccessError(self.env._("You may not follow the progress of %(name)s.", name=record.display_name))

    @api.model
    def rollup_view(self, group_by="school", week_from=None, week_to=None, school_year_id=None, subject_id=None,
                    reports_to_id=None, limit=None, offset=0):
        """Office and city roll-ups from the pre-aggregated tables: one row per
        school (or office, or subject) × teaching week with the on-time
        percentage, missing, rejected and pending counts and the waits. Rows
        are read with the caller's record rules: an office sees its schools,
        a Sở specialist only their subjects. Rows come by name; ``limit`` and
        ``offset`` give one page of them (a city has 1,000 schools), and
        ``row_count`` says how many there are in all."""
        if group_by not in ("school", "reports_to", "subject"):
            raise AccessError(self.env._("Unknown grouping %(group)s.", group=group_by))
        per_subject = bool(subject_id) or group_by == "subject" or not self._may_read_school_weeks()
        # the smallest table that holds the figures asked for and that the user may read (with the same
        # scope as the larger ones: their rules mirror each other)
        if group_by == "subject" and not reports_to_id and self.env["hscm.progress.subject.week"].has_access("read"):
            Model = self.env["hscm.progress.subject.week"]
        elif not per_subject and group_by == "reports_to" and self.env["hscm.progress.office.week"].has_access("read"):
            Model = self.env["hscm.progress.office.week"]
        else:
            Model = self.env["hscm.progress.summary" if per_subject else "hscm.progress.school.week"]
        domain = []
        year = self.env["hscm.school.year"].browse(int(school_year_id)) if school_year_id else self._default_year()
        if not year:
            return {"rows": [], "row_count": 0, "weeks": [], "refreshed_at": self._refreshed_at(),
                    "school_year": False}
        domain.append(("school_year_id", "=", year.id))
        if week_from or week_to:
            # a list, not "<=": Odoo adds "OR week IS NULL" to "<=", which no index serves
            domain.append(("week", "in", list(range(max(1, int(week_from or 1)), min(int(week_to or 60), 60) + 1))))
        if subject_id:
            domain.append(("subject_id", "=", int(subject_id)))
        if reports_to_id:
            domain.append(("reports_to_id", "=", int(reports_to_id)))
        key = {"school": "school_id", "reports_to": "reports_to_id", "subject": "subject_id"}[group_by]
        now = fields.Datetime.now()
        offset = max(int(offset or 0), 0)
        if limit:
            # one page: the groups and weeks in scope first, then the figures of the page's groups only
            # (fetching a city's 5,000 cells costs more than adding them up)
            sums = None
            group_ids, weeks = self._groups_and_weeks(Model, domain, key)
        else:
            sums = self._sums_by(Model, domain, key, now)
            group_ids = {row[0] for row in sums}
            weeks = {row[1] for row in sums} - {None}
        labels = self._names(Model._fields[key].comodel_name, group_ids - {None})
        none_label = self.env._("None")
        # by name, then id: pages stay stable
        ordered = sorted(group_ids, key=lambda group_id: (labels.get(group_id) or none_label, group_id or 0))
        page = ordered[offset:offset + int(limit)] if limit else ordered[offset:]
        if sums is None:
            sums = self._sums_by(Model, domain + [(key, "in", [group_id or False for group_id in page])], key,
                                 now) if page else []
        rows = {group_id: {"id": group_id or False, "name": labels.get(group_id) or none_label, "weeks": {}}
                for group_id in page}
        for group_id, week, *values in sums:
            row = rows.get(group_id)
            if row is None:  # not on this page
                continue
            owed, on_time = values[1], values[2]
            cell = [round(100.0 * on_time / owed, 2) if owed else None, *values]
            if week is None:  # the group's total over the weeks (grouping set without the week)
                row["total"] = cell
            else:
                row["weeks"][str(week)] = cell
        return {"columns": ROLLUP_COLUMNS, "rows": list(rows.values()), "row_count": len(ordered), "offset": offset,
                "weeks": sorted(weeks), "school_year": {"id": year.id, "name": year.display_name},
                "group_by": group_by, "refreshed_at": self._refreshed_at(), "per_subject": per_subject}

    @api.model
    def _groups_and_weeks(self, Model, domain, key):
        """The ``key`` ids and the weeks of ``Model``'s rows matching
        ``domain`` and the user's record rules, in one query."""
        query = Model._search(domain)
        key_sql, week_sql = SQL.identifier(Model._table, key), SQL.identifier(Model._table, "week")
        query.groupby = SQL("GROUPING SETS ((%s), (%s))", key_sql, week_sql)
        query.order = None
        group_ids, weeks = set(), set()
        for by_week, group_id, week in self.env.execute_query(query.select(SQL("GROUPING(%s)", key_sql),
                                                                            key_sql, week_sql)):
            if by_week:
                weeks.add(week)
            else:
                group_ids.add(group_id)
        return group_ids, weeks

    @api.model
    def _names(self, model, ids):
        """``{id: name}`` of ``model``'s records ``ids`` in one query, in the
        user's language: the groups of a roll-up, already read with the
        user's rules (a city's 1,000 school names cost 15 ms as records)."""
        if not ids:
            return {}
        Model = self.env[model].sudo().with_context(active_test=False)  # names of groups the user reads
        query = Model._search([("id", "in", list(ids))])
        return dict(self.env.execute_query(query.select(SQL.identifier(Model._table, "id"),
                                                        Model._field_to_sql(Model._table, "name", query))))

    @api.model
    def _sums_by(self, Model, domain, key, now):
        """``[(key id, week, expected, owed, on time, late, pending, rejected,
        missing, waiting, oldest wait in hours, average wait in hours)]`` of
        ``Model``'s rows matching ``domain`` and the user's record rules,
        added up per ``key`` and week, and per ``key`` over all weeks (week
        ``None``), in SQL. Plain SQL on the ORM's ruled query: ``_read_group``
        turns each group into a recordset, which costs more than the query on
        a city's rows. Waits in floating point (``date_part``, not ``EXTRACT``'s
        numeric, which costs more on a city's groups)."""
        query = Model._search(domain)
        table = Model._table
        column = lambda name: SQL.identifier(table, name)  # noqa: E731
        key_sql, week_sql = column(key), column("week")
        query.groupby = SQL("GROUPING SETS ((%s, %s), (%s))", key_sql, week_sql, key_sql)
        query.order = None
        epoch = now.replace(tzinfo=dt.timezone.utc).timestamp()
        self.env.cr.execute(query.select(
            key_sql, week_sql,  # NULL in the rows of the second grouping set
            *(SQL("SUM(%s)::int", column(name)) for name in ("expected", "owed", "on_time", "late", "pending",
                                                           "rejected", "missing", "waiting")),
            SQL("ROUND((%s - date_part('epoch', MIN(%s))) / 360) / 10", epoch, column("oldest_waiting_since")),
            SQL("ROUND((%s * SUM(%s) - SUM(%s)) / NULLIF(SUM(%s), 0) / 360) / 10", epoch, column("waiting"),
                column("waiting_since_sum"), column("waiting")),
        ))
        return self.env.cr.fetchall()

    @api.model
    def _may_read_school_weeks(self):
        return self.env["hscm.progress.school.week"].has_access("read")

    @api.model
    def _default_year(self):
        """The school year of the user's Sở (or school) in progress today, else its latest."""
        user = self.env.user
        authority = user.hscm_authority_id.department_id or user.hscm_staff_ids[:1].school_id.authority_id
        Year = self.env["hscm.school.year"].sudo()  # the calendar only; the figures are read with the user's rules
        domain = [("authority_id", "=", authority.id)] if authority else []
        today = fields.Date.context_today(self)
        return (Year.search(domain + [("date_start", "<=", today)], order="date_start desc", limit=1)
                or Year.search(domain, order="date_start desc", limit=1))

    @api.model
    def _refreshed_at(self):
        return self.env["ir.config_parameter"].sudo().get_param("hscm_odoo.progress_refreshed_at") or False  # a date

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
