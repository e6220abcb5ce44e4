import datetime as dt
import io
import logging
import threading
import time
from collections import Counter, defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import records_owed
from ..tools import submission_status as status_tools

_logger = logging.getLogger(__name__)

#: Status ranks, most urgent first, as in tools/submission_status.URGENCY.
RANK = {status: index for index, status in enumerate(status_tools.URGENCY)}
#: The tables summed up from the summary, in the order they are built (each from the summary or the one before).
ROLLUP_TABLES = ("hscm_progress_school_week", "hscm_progress_office_week", "hscm_progress_subject_week")
COUNT_COLUMNS = ("expected", "owed", "on_time", "late", "pending", "rejected", "missing", "not_due", "waiting",
                 "oldest_waiting_since", "waiting_since_sum")

# The lesson plans of one school year, set-based: the same rules as
# tools/submission_status.py (expected_lesson_plans + cell_of), written in
# SQL because a city owes millions of them. test_progress_summary checks that
# both give the same statuses at every boundary.
#   pol      each school's teaching weeks, their deadline (passed or not) and the file unit
#   a0, a    the active assignments with their week range; a teacher's assignments of one subject
#            and class with different first weeks (a timetable change) become one row per week,
#            their periods added up, so that each (teacher, subject, class, week) is one item
#   files    the dossiers handed in per (owner, subject, class, week): how many approved on time
#            (n5), late (n4), pending (n2), rejected (n1)
#   slots, kept, cells
#            the items with files: the best ``cnt`` files fill the slots, on time first, then late,
#            pending, rejected (k5, k4, k2, k1); empty slots are missing once the deadline has
#            passed, else not due; the most urgent status wins
#   handed   those statuses per school, department, subject and week, each item taken back from
#            the empty ones counted next
#   ranges, empties
#            every item, counted per week range then per week, as if empty (missing or not due),
#            without reading the items one by one; every group has its row there, and its handed
#            row, if any, is added to it.
# Only the items with files go through the status rules (3.3 of a city's 5.9 million), not every
# item matched with its files: 30 s instead of 46 s on the generated city.
LESSON_PLAN_SQL = """
CREATE TEMP TABLE hscm_progress_tmp_rows ON COMMIT DROP AS
WITH pol AS (
    SELECT *, deadline IS NOT NULL AND %(now)s > deadline AS passed
      FROM unnest(%(school_ids)s::int[], %(weeks)s::int[], %(deadlines)s::timestamp[], %(units)s::bool[])
           AS pol(school_id, week, deadline, unit_is_week)
), a0 AS (
    SELECT st.id AS staff_id, st.user_id, st.school_id, st.school_department_id, ta.subject_id, ta.class_id,
           COALESCE(NULLIF(ta.from_week, 0), 1) AS week_from,
           COALESCE(NULLIF(ta.to_week, 0), %(week_count)s) AS week_to, ta.periods_per_week AS periods,
           COUNT(*) OVER (PARTITION BY st.id, ta.subject_id, ta.class_id) > 1 AS split
      FROM hscm_teaching_assignment ta
      JOIN hscm_staff st ON st.id = ta.staff_id AND st.active
     WHERE ta.active
), a AS (
    SELECT staff_id, user_id, school_id, school_department_id, subject_id, class_id, week_from, week_to, periods
      FROM a0 WHERE NOT split
    UNION ALL
    SELECT a0.staff_id, a0.user_id, a0.school_id, a0.school_department_id, a0.subject_id, a0.class_id,
           pol.week, pol.week, SUM(a0.periods)
      FROM a0 JOIN pol ON pol.school_id = a0.school_id AND pol.week BETWEEN a0.week_from AND a0.week_to
     WHERE a0.split
     GROUP BY a0.staff_id, a0.user_id, a0.school_id, a0.school_department_id, a0.subject_id, a0.class_id, pol.week
), files AS (
    SELECT d.owner_id AS user_id, d.subject_id, rel.hscm_school_class_id AS class_id, d.week_number AS week,
           COUNT(*) FILTER (WHERE d.state = 'approved' AND NOT COALESCE(d.is_late, FALSE)) AS n5,
           COUNT(*) FILTER (WHERE d.state = 'approved' AND COALESCE(d.is_late, FALSE)) AS n4,
           COUNT(*) FILTER (WHERE d.state = 'submitted') AS n2,
           COUNT(*) FILTER (WHERE d.state = 'rejected') AS n1,
           MIN(d.submitted_on) FILTER (WHERE d.state = 'submitted') AS pending_since
      FROM hscm_dossier d
      JOIN hscm_dossier_hscm_school_class_rel rel ON rel.hscm_dossier_id = d.id
     WHERE d.type_id = %(type_id)s AND d.school_year_id = %(year_id)s AND d.active
       AND d.state IN ('submitted', 'approved', 'rejected')
     GROUP BY d.owner_id, d.subject_id, rel.hscm_school_class_id, d.week_number
), slots AS (
    SELECT a.school_id, a.school_department_id, a.subject_id, f.week, pol.passed,
           CASE WHEN pol.unit_is_week THEN 1 ELSE a.periods END AS cnt, f.n5, f.n4, f.n2, f.n1, f.pending_since
      FROM files f
      JOIN a ON a.user_id = f.user_id AND a.subject_id = f.subject_id AND a.class_id = f.class_id
            AND f.week BETWEEN a.week_from AND a.week_to
      JOIN pol ON pol.school_id = a.school_id AND pol.week = f.week
), kept AS (
    SELECT s.*, LEAST(s.n5, s.cnt) AS k5, LEAST(s.n4, s.cnt - LEAST(s.n5, s.cnt)) AS k4, s.n5 + s.n4 AS n54
      FROM slots s
), cells AS (
    SELECT school_id, school_department_id, subject_id, week, passed,
           CASE WHEN empty > 0 AND passed THEN 0
                WHEN k1 > 0 THEN 1 WHEN k2 > 0 THEN 2 WHEN empty > 0 THEN 3 WHEN k4 > 0 THEN 4 ELSE 5 END AS status,
           CASE WHEN k2 > 0 THEN pending_since END AS waiting_since
      FROM (SELECT k.*, LEAST(k.n2, GREATEST(k.cnt - k.n54, 0)) AS k2,
                   LEAST(k.n1, GREATEST(k.cnt - k.n54 - k.n2, 0)) AS k1,
                   GREATEST(k.cnt - k.n54 - k.n2 - k.n1, 0) AS empty
              FROM kept k) k
), handed AS (
    -- the items with files, one status each, taken back from the empty ones counted below
    SELECT school_id, COALESCE(school_department_id, 0) AS department_key, subject_id, week,
           COUNT(*) FILTER (WHERE status = 5) AS on_time, COUNT(*) FILTER (WHERE status = 4) AS late,
           COUNT(*) FILTER (WHERE status = 2) AS pending, COUNT(*) FILTER (WHERE status = 1) AS rejected,
           COUNT(*) FILTER (WHERE status = 0) - CASE WHEN bool_or(passed) THEN COUNT(*) ELSE 0 END AS missing,
           COUNT(*) FILTER (WHERE status = 3) - CASE WHEN bool_or(passed) THEN 0 ELSE COUNT(*) END AS not_due,
           COUNT(waiting_since) AS waiting, MIN(waiting_since) AS oldest_waiting_since,
           COALESCE(SUM(EXTRACT(EPOCH FROM waiting_since)), 0) AS waiting_since_sum
      FROM cells
     GROUP BY school_id, COALESCE(school_department_id, 0), subject_id, week
), ranges AS (
    -- the single items, counted per school, department, subject and week range, then per week: each is
    -- empty (missing once the deadline has passed, else not due) unless taken back above
    SELECT school_id, school_department_id, subject_id, week_from, week_to, COUNT(*)::int AS n
      FROM a
     GROUP BY school_id, school_department_id, subject_id, week_from, week_to
), empties AS (
    SELECT r.school_id, r.school_department_id, COALESCE(r.school_department_id, 0) AS department_key,
           r.subject_id, pol.week, pol.passed, SUM(r.n) AS n
      FROM ranges r
      JOIN pol ON pol.school_id = r.school_id AND pol.week BETWEEN r.week_from AND r.week_to
     GROUP BY r.school_id, r.school_department_id, r.subject_id, pol.week, pol.passed
)
-- every group has items, so has its row in empties: the statuses of its items with files are added in
SELECT e.school_id, e.school_department_id, e.subject_id, e.week, e.n AS expected,
       e.n - CASE WHEN e.passed THEN 0 ELSE e.n END - COALESCE(h.not_due, 0) AS owed,
       COALESCE(h.on_time, 0) AS on_time, COALESCE(h.late, 0) AS late, COALESCE(h.pending, 0) AS pending,
       COALESCE(h.rejected, 0) AS rejected,
       CASE WHEN e.passed THEN e.n ELSE 0 END + COALESCE(h.missing, 0) AS missing,
       CASE WHEN e.passed THEN 0 ELSE e.n END + COALESCE(h.not_due, 0) AS not_due,
       COALESCE(h.waiting, 0) AS waiting, h.oldest_waiting_since, COALESCE(h.waiting_since_sum, 0) AS waiting_since_sum
  FROM empties e
  LEFT JOIN handed h ON h.school_id = e.school_id AND h.department_key = e.department_key
                    AND h.subject_id = e.subject_id AND h.week = e.week
"""

# Then the rows, one per school, department, subject and week, go into the summary.
LESSON_PLAN_INSERT_SQL = """
INSERT INTO hscm_progress_summary (
    school_year_id, school_id, reports_to_id, authority_id, school_department_id, subject_id, type_id, week,
    expected, owed, on_time, late, pending, rejected, missing, not_due, waiting,
    oldest_waiting_since, waiting_since_sum)
SELECT %(year_id)s, r.school_id, s.reports_to_id, s.authority_id, r.school_department_id, r.subject_id,
       %(type_id)s, r.week, r.expected, r.owed, r.on_time, r.late, r.pending, r.rejected, r.missing, r.not_due,
       r.waiting, r.oldest_waiting_since, r.waiting_since_sum
  FROM hscm_progress_tmp_rows r
  JOIN hscm_school s ON s.id = r.school_id
 ORDER BY r.subject_id, r.week, r.school_id  -- a Sở specialist's rows (one subject, some weeks) side by side
"""


class HscmProgressSummary(models.Model):
    """Pre-aggregated progress: one row per school year, school, department,
    subject, dossier type and teaching week, with how many owed items stand
    in each status. Rebuilt by ``hscm.progress.refresh`` (cron and button):
    the office and city dashboards read these rows instead of millions of
    dossiers. Never written by hand.

    An *item* is what :mod:`..tools.submission_status` calls an expected
    item: the lesson plans of one teacher, subject, class and week, or one
    other record owed by its owner for its period (placed in the teaching
    week of its deadline)."""

    _name = "hscm.progress.summary"
    _description = "Progress summary (pre-aggregated)"
    _inherit = ["hscm.progress.counts.mixin"]
    _order = "school_year_id desc, school_id, week, type_id"
    _log_access = False  # rebuilt wholesale; when is hscm.progress's "refreshed at"
    # The table is made by init(), without foreign keys: a rebuild inserts a city's 850,000 rows, and
    # checking seven foreign keys per row took 40 s of the 60 s budget. The rows only ever come from
    # the rebuild, which deletes a year's rows first, so a deleted school's rows last until the next one.
    _auto = False

    school_year_id = fields.Many2one("hscm.school.year", required=True)
    school_id = fields.Many2one("hscm.school", required=True)
    reports_to_id = fields.Many2one("hscm.authority", string="Reports to")
    authority_id = fields.Many2one("hscm.authority", string="Department of Education")
    school_department_id = fields.Many2one("hscm.school.department", string="Department")
    subject_id = fields.Many2one("hscm.subject")
    type_id = fields.Many2one("hscm.dossier.type", string="Type", required=True)
    week = fields.Integer(string="Teaching week", required=True, aggregator=None)

    def init(self):
        self.env.cr.execute("""
            CREATE TABLE IF NOT EXISTS hscm_progress_summary (
                id serial PRIMARY KEY,
                school_year_id integer NOT NULL,
                school_id integer NOT NULL,
                reports_to_id integer,
                authority_id integer,
                school_department_id integer,
                subject_id integer,
                type_id integer NOT NULL,
                week integer NOT NULL,
                expected integer NOT NULL DEFAULT 0,
                owed integer NOT NULL DEFAULT 0,
                on_time integer NOT NULL DEFAULT 0,
                late integer NOT NULL DEFAULT 0,
                pending integer NOT NULL DEFAULT 0,
                rejected integer NOT NULL DEFAULT 0,
                missing integer NOT NULL DEFAULT 0,
                not_due integer NOT NULL DEFAULT 0,
                waiting integer NOT NULL DEFAULT 0,
                oldest_waiting_since timestamp,
                waiting_since_sum double precision NOT NULL DEFAULT 0,
                CONSTRAINT hscm_progress_summary_counts_add_up
                    CHECK (expected = on_time + late + pending + rejected + missing + not_due)
            )
        """)
        # Few indexes, since a rebuild inserts the whole table again (each one costs 3 s of a city's
        # rebuild): the Sở specialists' and per-subject roll-ups (one year, some subjects and weeks),
        # the leaders' and the department heads' record rules. The city and office roll-ups read the
        # smaller tables summed up from this one.
        self.env.cr.execute("DROP INDEX IF EXISTS hscm_progress_summary_year_week_index")
        for name, columns in (("year_subject_week", "school_year_id, subject_id, week"),
                              ("school", "school_id"), ("department", "school_department_id")):
            self.env.cr.execute(f"CREATE INDEX IF NOT EXISTS hscm_progress_summary_{name}_index "
                                f"ON hscm_progress_summary ({columns})")

    # ------------------------------------------------------------------
    # Refresh
    # ------------------------------------------------------------------
    @api.model
    def _cron_refresh(self):
        self.sudo()._refresh()  # cron: the tables cover every school; reading them is ruled per role

    @api.model
    def action_refresh(self):
        """Button of the back office (platform manager)."""
        self.env["hscm.progress.summary"].check_access("create")
        self.sudo()._refresh()  # the caller may rebuild (checked above); the rebuild reads every school
        return {"type": "ir.actions.client", "tag": "reload"}

    @api.model
    def _refresh(self, years=None, now=None):
        """Rebuild the summary and the tables summed up from it (per school,
        office or subject and week) of ``years`` (default:
        every school year in progress or ended within the last 30 days).
        Returns ``{year id: {"rows": n, "seconds": s}}``."""
        now = now or fields.Datetime.now()
        if years is None:
            years = self.env["hscm.school.year"].search([
                ("date_start", "<=", now.date()), ("date_end", ">=", now.date() - dt.timedelta(days=30))])
        result = {}
        for year in years:
            started = time.monotonic()
            self.env.cr.execute(SQL("DELETE FROM hscm_progress_summary WHERE school_year_id = %s", year.id))
            for table in ROLLUP_TABLES:
                self.env.cr.execute(SQL("DELETE FROM %s WHERE school_year_id = %s", SQL.identifier(table), year.id))
            schools = self.env["hscm.school"].search([("authority_id", "=", year.authority_id.id)])
            weeks = year._teaching_weeks()
            if schools and weeks:
                self._refresh_rows(year, schools, weeks, now)
                self._refresh_rollups(year)
            self.env.cr.execute(SQL("SELECT COUNT(*) FROM hscm_progress_summary WHERE school_year_id = %s", year.id))
            result[year.id] = {"rows": self.env.cr.fetchone()[0], "seconds": round(time.monotonic() - started, 3)}
            _logger.info("progress summary of %s rebuilt: %s", year.display_name, result[year.id])
        if years:
            # fresh statistics, or the first roll-ups after a rebuild are planned on the old ones
            for table in ("hscm_progress_summary", *ROLLUP_TABLES):
                self.env.cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
        self.env["ir.config_parameter"].set_param("hscm_odoo.progress_refreshed_at", fields.Datetime.to_string(now))
        self.env.invalidate_all()
        return result

    def _refresh_rows(self, year, schools, weeks, now):
        """The summary rows of ``year``: the lesson plans in one SQL statement
        (half a minute for a city) and, meanwhile, the other records in
        Python on a second cursor, whose rows are then copied in. Both only
        read committed records, the dossiers of different types; the two
        cores of a server work at once. In tests, whose records another
        cursor cannot see, one after the other."""
        params = self._lesson_plan_params(year, schools, weeks, now)
        if self.env.registry.in_test_mode() or getattr(threading.current_thread(), "testing", False):
            self._run_lesson_plan_sql(params)
            values = self._other_record_rows(year, schools, weeks, now)
        else:
            failure = []

            def run_sql():
                try:
                    self._run_lesson_plan_sql(params)
                except Exception as error:  # noqa: BLE001 - raised again in the calling thread below
                    failure.append(error)

            # only this thread uses self.env.cr until it is joined; the ORM stays in the calling thread
            thread = threading.Thread(target=run_sql, name="hscm-progress-lesson-plans", daemon=True)
            thread.start()
            try:
                with self.env.registry.cursor() as cr:
                    env = self.env(cr=cr)
                    values = self.with_env(env)._other_record_rows(year.with_env(env), schools.with_env(env),
                                                                   weeks, now)  # weeks: plain values
            finally:
                thread.join()
            if failure:
                raise failure[0]
        self._insert_rows("hscm_progress_summary", (
            "school_year_id", "school_id", "reports_to_id", "authority_id", "school_department_id", "subject_id",
            "type_id", "week", *COUNT_COLUMNS), values)

    def _lesson_plan_params(self, year, schools, weeks, now):
        """The parameters of ``LESSON_PLAN_SQL`` (read through the ORM)."""
        lesson_plan = self.env["hscm.progress"]._lesson_plan_type()
        applicable = schools.filtered(lesson_plan._applies_to)
        by_policy = defaultdict(list)
        for school_id, policy in lesson_plan._policies_for(applicable).items():
            by_policy[policy].append(school_id)
        # the deadline of each school's weeks, passed to the statement as arrays
        pol = {"school_ids": [], "weeks": [], "deadlines": [], "units": []}
        for policy, school_ids in by_policy.items():
            deadline_of = self.env["hscm.progress"]._deadlines(policy, year, [w.number for w in weeks])
            for week in weeks:
                due = deadline_of.get(week.number)
                due = due.astimezone(dt.timezone.utc).replace(tzinfo=None) if due else None
                pol["school_ids"] += school_ids
                pol["weeks"] += [week.number] * len(school_ids)
                pol["deadlines"] += [due] * len(school_ids)
                pol["units"] += [policy.file_unit == "week"] * len(school_ids)
        return dict(pol, type_id=lesson_plan.id, year_id=year.id, now=now, week_count=year.week_count)

    def _run_lesson_plan_sql(self, params):
        """``LESSON_PLAN_SQL`` and its rows into the summary: SQL only, no ORM
        (it may run in a thread of its own, see ``_refresh_rows``)."""
        cr = self.env.cr
        # a rebuild reads millions of rows at once: give it memory to hash them, and no JIT (seconds to compile
        # for a query run every 30 minutes); both for this transaction only
        cr.execute("SET LOCAL work_mem = '256MB'")
        cr.execute("SET LOCAL jit = off")
        # the planner cannot see how many files match an assignment (its guess is 40 times too few): it
        # would join the assignments with the weeks first (30 million rows), sort millions of rows to
        # merge or group them, spilling to disk. Hash joins and aggregates, in the order written.
        cr.execute("SET LOCAL enable_mergejoin = off")
        cr.execute("SET LOCAL enable_sort = off")
        cr.execute("SET LOCAL join_collapse_limit = 1")
        cr.execute("DROP TABLE IF EXISTS hscm_progress_tmp_rows")
        cr.execute(LESSON_PLAN_SQL, params)
        for setting in ("enable_mergejoin", "enable_sort", "join_collapse_limit"):
            cr.execute(f"RESET {setting}")
        cr.execute(LESSON_PLAN_INSERT_SQL, params)
        for setting in ("work_mem", "jit"):
            cr.execute(f"RESET {setting}")

    def _other_record_rows(self, year, schools, weeks, now):
        """The summary rows of the records other than lesson plans: few per
        school, so in Python with the same pure functions as the pages
        (tools/records_owed.py). Returns tuples in the summary's columns."""
        lesson_plan = self.env["hscm.progress"]._lesson_plan_type()
        types = self.env["hscm.dossier.type"].search([("id", "!=", lesson_plan.id), ("track_owed", "=", True)])
        types = types.filtered(lambda t: t.deadline_rule not in records_owed.UNTRACKED_RULES)
        if not types:
            return []
        handed_in = self._other_handed_in(year, types)
        owners = self.env["hscm.progress"]._owner_units(schools, types, year)
        values = []
        for type_ in types:
            applicable = schools.filtered(type_._applies_to)
            policies = type_._policies_for(applicable)
            periods_of = {}  # the deadlines of a policy are the same for all its schools: computed once
            for school in applicable:
                policy = policies[school.id]
                if policy not in periods_of:
                    periods_of[policy] = []
                    for period in records_owed.periods_for_rule(policy.deadline_rule, weeks):
                        try:
                            due = policy._compute_deadline(period, weeks, year.first_semester_weeks)
                        except ValueError:
                            continue
                        week = records_owed.week_of_deadline(due, weeks) or period.week or 1
                        periods_of[policy].append((records_owed.period_key(period), due, week))
                # An owner with nothing handed in for a period stands as every such owner does (missing
                # or not due): counted per department at once; only the records handed in are looked at.
                units = dict(owners.get((school.id, type_.id), ()))
                per_department = Counter(units.values())
                totals = defaultdict(lambda: defaultdict(float))
                for key, due, week in periods_of[policy]:
                    remaining = per_department.copy()
                    for owner, submitted in handed_in.get((type_.id, school.id, key), {}).items():
                        if owner in units:
                            department_id = units[owner]
                            remaining[department_id] -= 1
                            self._add_cell(totals[(department_id, week)], status_tools.cell_of(1, submitted, due, now))
                    empty = status_tools.cell_of(1, (), due, now)
                    for department_id, count in remaining.items():
                        if count:
                            self._add_cell(totals[(department_id, week)], empty, count)
                place = (year.id, school.id, school.reports_to_id.id or None, school.authority_id.id or None)
                for (department_id, week), counts in totals.items():
                    values.append((*place, department_id or None, None, type_.id, week, *self._count_values(counts)))
        return values

    @staticmethod
    def _add_cell(counts, cell, times=1):
        """Add ``times`` items standing as ``cell`` to ``counts``."""
        counts["expected"] += times
        counts[cell.status] += times
        if cell.waiting_since:
            since = cell.waiting_since.astimezone(dt.timezone.utc).replace(tzinfo=None)
            counts["waiting"] += times
            counts["waiting_since_sum"] += since.replace(tzinfo=dt.timezone.utc).timestamp() * times
            counts["oldest"] = min(counts.get("oldest") or since, since)

    @staticmethod
    def _count_values(counts):
        return (int(counts["expected"]), int(counts["expected"] - counts[status_tools.NOT_DUE]),
                int(counts[status_tools.APPROVED_ON_TIME]), int(counts[status_tools.APPROVED_LATE]),
                int(counts[status_tools.PENDING]), int(counts[status_tools.REJECTED]),
                int(counts[status_tools.MISSING]), int(counts[status_tools.NOT_DUE]), int(counts["waiting"]),
                counts.get("oldest") or None, counts["waiting_since_sum"])

    def _other_handed_in(self, year, types):
        """``{(type id, school id, period key): {owner key: [Submitted]}}`` of the year."""
        self.env.cr.execute(SQL("""
            SELECT d.type_id, t.owner_level, t.deadline_rule, d.school_id, d.staff_id, d.school_department_id,
                   d.subject_group_id, ARRAY(SELECT rel.hscm_school_class_id FROM hscm_dossier_hscm_school_class_rel rel
                                              WHERE rel.hscm_dossier_id = d.id),
                   d.week_number, d.period_month, d.semester, d.state, d.submitted_on, d.approved_on,
                   COALESCE(d.is_late, FALSE)
              FROM hscm_dossier d JOIN hscm_dossier_type t ON t.id = d.type_id
             WHERE d.school_year_id = %s AND d.type_id IN %s AND d.active
               AND d.state IN ('submitted', 'approved', 'rejected')
        """, year.id, tuple(types.ids)))
        handed_in = defaultdict(lambda: defaultdict(list))
        for (type_id, level, rule, school_id, staff_id, department_id, group_id, class_ids, week, month, semester,
             state, submitted_on, approved_on, is_late) in self.env.cr.fetchall():
            period = records_owed.period_of(rule, week, month, semester)
            submitted = status_tools.Submitted(state, submitted_on, approved_on, is_late)
            owners = records_owed.owner_keys(level, school_id, staff_id, department_id, group_id, class_ids)
            for owner in owners:
                handed_in[(type_id, school_id, records_owed.period_key(period))][owner].append(submitted)
        return handed_in

    def _insert_rows(self, table, columns, values):
        """COPY ``values`` (tuples in ``columns`` order) into ``table``."""
        if not values:
            return
        buffer = io.StringIO()
        for row in values:
            buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
            buffer.write("\n")
        buffer.seek(0)
        self.env.cr.copy_from(buffer, table, columns=columns)

    def _refresh_rollups(self, year):
        """The summary summed up per school and week, then per office and week,
        and per subject and week (every school together)."""
        counts = SQL("""SUM(expected), SUM(owed), SUM(on_time), SUM(late), SUM(pending), SUM(rejected), SUM(missing),
                        SUM(not_due), SUM(waiting), MIN(oldest_waiting_since), SUM(waiting_since_sum)""")
        columns = SQL("""expected, owed, on_time, late, pending, rejected, missing, not_due, waiting,
                         oldest_waiting_since, waiting_since_sum""")
        for table, keys, source in (
            ("hscm_progress_school_week", "school_id, reports_to_id, authority_id, week", "hscm_progress_summary"),
            ("hscm_progress_office_week", "reports_to_id, authority_id, week", "hscm_progress_school_week"),
            ("hscm_progress_subject_week", "authority_id, subject_id, week", "hscm_progress_summary"),
        ):
            self.env.cr.execute(SQL("""
                INSERT INTO %(table)s (school_year_id, %(keys)s, %(columns)s)
                SELECT school_year_id, %(keys)s, %(counts)s
                  FROM %(source)s
                 WHERE school_year_id = %(year)s
                 GROUP BY school_year_id, %(keys)s
            """, table=SQL.identifier(table), keys=SQL(keys), columns=columns, counts=counts,
                source=SQL.identifier(source), year=year.id))
