import datetime as dt
from collections import Counter, defaultdict

from freezegun import freeze_time

from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, tagged

from ..controllers import oversight
from ..tools.deadlines import Period
from .common import PASSWORD
from .test_progress import ProgressCase

SECOND = dt.timedelta(seconds=1)
STATUS_COLUMN = {"approved_on_time": "on_time", "approved_late": "late", "pending": "pending",
                 "rejected": "rejected", "missing": "missing", "not_due": "not_due"}


class SummaryCase(ProgressCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Assignment = cls.env["hscm.teaching.assignment"]
        # the head teaches 8A2 one period from week 14 on; the teacher 8A2 too, weeks 12-13 only
        Assignment.create({"staff_id": cls.staff["head"].id, "subject_id": cls.math.id,
                           "class_id": cls.class_8a2.id, "periods_per_week": 1, "from_week": 14})
        Assignment.create({"staff_id": cls.staff["teacher"].id, "subject_id": cls.math.id,
                           "class_id": cls.class_8a2.id, "periods_per_week": 1, "from_week": 12, "to_week": 13})
        cls.class_s2 = cls.env["hscm.school.class"].create({"name": "6B", "grade": 6, "school_id": cls.s2.id})
        Assignment.create({"staff_id": cls.staff["teacher2"].id, "subject_id": cls.math.id,
                           "class_id": cls.class_s2.id, "periods_per_week": 3})
        cls.class_s3 = cls.env["hscm.school.class"].create({"name": "10A", "grade": 10, "school_id": cls.s3.id})
        Assignment.create({"staff_id": cls.staff["teacher3"].id, "subject_id": cls.literature.id,
                           "class_id": cls.class_s3.id, "periods_per_week": 2})
        # a timetable change: one more period of 10A literature from week 13 on, a second line for the same
        # teacher, subject and class (one item a week all the same, its periods added up)
        Assignment.create({"staff_id": cls.staff["teacher3"].id, "subject_id": cls.literature.id,
                           "class_id": cls.class_s3.id, "periods_per_week": 1, "from_week": 13})
        # the other records of the year are compared in their own test
        cls.env["hscm.dossier.type"].search([("id", "!=", cls.lesson_plan.id)]).track_owed = False
        policy = cls.lesson_plan._policy_for(cls.s1)
        cls.due = {week: due.astimezone(dt.timezone.utc).replace(tzinfo=None)
                   for week, due in cls.env["hscm.progress"]._deadlines(policy, cls.year, [12, 13, 14]).items()}

    def refresh(self, now):
        return self.env["hscm.progress.summary"]._refresh(self.year, now=now)

    def summary_counts(self, model="hscm.progress.summary"):
        """``{(school, department, subject, week): Counter(status column → n)}`` of the lesson plans."""
        result = defaultdict(Counter)
        domain = [("school_year_id", "=", self.year.id)]
        if model == "hscm.progress.summary":
            domain.append(("type_id", "=", self.lesson_plan.id))
        for row in self.env[model].search(domain):
            key = (row.school_id.id, row.school_department_id.id if "school_department_id" in row else False,
                   row.subject_id.id if "subject_id" in row else False, row.week)
            for column in STATUS_COLUMN.values():
                result[key][column] += row[column]
            result[key]["waiting"] += row.waiting
        return result

    def python_counts(self, now, weeks=range(1, 36)):
        """The same figures from the per-item Python rules (hscm.progress._item_cells)."""
        result = defaultdict(Counter)
        for school in self.s1 | self.s2 | self.s3:
            staff = self.env["hscm.staff"].search([("school_id", "=", school.id)])
            for item, cell in self.env["hscm.progress"]._item_cells(school, self.year, staff, list(weeks), now):
                member = self.env["hscm.staff"].browse(item.teacher_id)
                key = (school.id, member.school_department_id.id, item.subject_id, item.week)
                result[key][STATUS_COLUMN[cell.status]] += 1
                result[key]["waiting"] += 1 if cell.waiting_since else 0
        return result


@tagged("post_install", "-at_install")
class TestProgressSummary(SummaryCase, TransactionCase):

    def test_sql_refresh_matches_the_python_rules_at_every_boundary(self):
        with freeze_time(self.due[13] - SECOND):
            on_time = self.new_plan(week=13, lesson=1)
            self.submit(on_time)
            rejected = self.new_plan(week=14, lesson=5)
            self.submit(rejected)
            rejected.with_user(self.head).action_reject("Thiếu mục tiêu")
        with freeze_time(self.due[13] + SECOND):
            late = self.new_plan(week=13, lesson=2)
            self.submit(late)
            (on_time | late).with_user(self.head).action_approve()
            (on_time | late).with_user(self.vp).action_approve()
            pending = self.new_plan(week=12, lesson=9, classes=self.class_8a2)
            self.submit(pending)
            # a draft and a cancelled plan count as nothing handed in
            self.new_plan(week=14, lesson=6)
        for now in (self.due[13] - SECOND, self.due[13], self.due[13] + SECOND, self.due[14] + SECOND,
                    dt.datetime(2027, 6, 1)):
            with self.subTest(now=now):
                self.refresh(now)
                sql = self.summary_counts()
                self.assertEqual({k: +v for k, v in sql.items()}, {k: +v for k, v in self.python_counts(now).items()})
        # the figures at the end of the year: week 13 of the teacher in 8A1 holds one of each kind
        week13 = self.summary_counts()[(self.s1.id, self.k1.id, self.math.id, 13)]
        self.assertEqual((week13["late"], week13["missing"]), (1, 1),
                         "8A1 owes 2 files: one on time, one late → the item is late; 8A2's is missing")
        week12 = self.summary_counts()[(self.s1.id, self.k1.id, self.math.id, 12)]
        self.assertEqual(week12["waiting"], 1)
        # the school-week table adds the summary up
        by_school_week = self.summary_counts("hscm.progress.school.week")
        summed = sum((c for (school, _d, _s, week), c in self.summary_counts().items()
                      if school == self.s1.id and week == 13), Counter())
        self.assertEqual(+by_school_week[(self.s1.id, False, False, 13)], +summed)

    def test_refresh_is_idempotent_and_counts_add_up(self):
        now = dt.datetime(2027, 6, 1)
        self.refresh(now)
        first = self.summary_counts()
        self.refresh(now)
        self.assertEqual(first, self.summary_counts(), "a second rebuild gives the same rows, not twice as many")
        rows = self.env["hscm.progress.summary"].search([("school_year_id", "=", self.year.id)])
        for row in rows:
            self.assertEqual(row.expected, row.on_time + row.late + row.pending + row.rejected + row.missing
                             + row.not_due)
        # the teacher in S1 owes 2 files a week in 8A1 for 35 weeks and 1 in 8A2 for weeks 12-13 (one item each)
        items = sum(rows.filtered(lambda r: r.school_id == self.s1 and r.school_department_id == self.k1)
                    .mapped("expected"))
        self.assertEqual(items, 35 + 2 + 22, "teacher: 35 + 2 items, head: weeks 14-35")

    def test_other_records_owed_by_each_department(self):
        plan = self.env.ref("hscm_odoo.dossier_type_department_activity_plan")
        plan.track_owed = True
        due = plan._policy_for(self.s1)._compute_deadline(Period(), self.year._teaching_weeks(),
                                                         self.year.first_semester_weeks)
        due = due.astimezone(dt.timezone.utc).replace(tzinfo=None)

        def figures(now):
            self.refresh(now)
            rows = self.env["hscm.progress.summary"].search([("type_id", "=", plan.id), ("school_id", "=", self.s1.id)])
            return {row.school_department_id: (row.expected, row.not_due, row.missing, row.pending) for row in rows}

        self.assertEqual(figures(due), {self.k1: (1, 1, 0, 0), self.k2: (1, 1, 0, 0)}, "one per department")
        self.assertEqual(figures(due + SECOND), {self.k1: (1, 0, 1, 0), self.k2: (1, 0, 1, 0)})
        with freeze_time(due + SECOND):
            record = self.new_plan(user=self.head, type_id=plan.id, title="Kế hoạch tổ KHTN", subject_id=False,
                                   class_ids=[], week_number=False, lesson_number=False)
            self.submit(record)
        self.assertEqual(figures(due + 2 * SECOND)[self.k1], (1, 0, 0, 1), "handed in (late): waiting for approval")
        # a THPT school is not owed a type of its level it does not apply to
        self.assertFalse(self.env["hscm.progress.summary"].search(
            [("type_id", "=", self.env.ref("hscm_odoo.dossier_type_th_homeroom_book").id)]))


@tagged("post_install", "-at_install")
class TestOwedRecords(SummaryCase, TransactionCase):

    def test_what_each_person_still_owes(self):
        plan = self.env.ref("hscm_odoo.dossier_type_department_activity_plan")
        own = self.env.ref("hscm_odoo.dossier_type_teacher_education_plan")
        (plan | own).track_owed = True
        weeks = self.year._teaching_weeks()
        due = plan._policy_for(self.s1)._compute_deadline(Period(), weeks, self.year.first_semester_weeks)
        now = due.astimezone(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(days=1)

        def owed(user, staff):
            return {(t.code, c.status) for t, _p, _d, c in
                    self.env["hscm.progress"].with_user(user)._owed_records_of(staff, now=now)}

        self.assertEqual(owed(self.head, self.staff["head"]), {("department_activity_plan", "missing"),
                                                                ("teacher_education_plan", "missing")})
        self.assertEqual(owed(self.teacher, self.staff["teacher"]), {("teacher_education_plan", "missing")},
                         "a teacher does not owe the department's plan")
        self.assertEqual(owed(self.teacher_k2, self.staff["teacher_k2"]), set(), "no teaching assignment: no plan owed")
        # two months later the yearly plan is out of the window
        self.assertEqual(self.env["hscm.progress"]._owed_records_of(self.staff["head"], now=now + dt.timedelta(days=90)), [])


@tagged("post_install", "-at_install")
class TestProgressSummaryAccess(SummaryCase, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["hscm.progress.summary"]._refresh(cls.year, now=dt.datetime(2027, 6, 1))

    def schools_seen(self, user, model="hscm.progress.summary"):
        return set(self.env[model].with_user(user).search([]).school_id.mapped("name"))

    def test_each_role_sees_its_scope_only(self):
        self.assertEqual(self.schools_seen(self.city), {"THCS S1", "THCS S2", "THPT S3"})
        self.assertEqual(self.schools_seen(self.city_b), set(), "Sở B has no year here: nothing of Sở A")
        self.assertEqual(self.schools_seen(self.district), {"THCS S1"})
        self.assertEqual(self.schools_seen(self.ward), {"THCS S2"})
        self.assertEqual(self.schools_seen(self.vp), {"THCS S1"})
        self.assertEqual(self.schools_seen(self.district, "hscm.progress.school.week"), {"THCS S1"})
        self.assertEqual(self.schools_seen(self.city, "hscm.progress.school.week"), {"THCS S1", "THCS S2", "THPT S3"})
        # the math specialist: math rows only, in every school of the Sở (S3's literature is not theirs)
        rows = self.env["hscm.progress.summary"].with_user(self.specialist).search([])
        self.assertEqual(set(rows.subject_id.ids), {self.math.id})
        self.assertEqual(set(rows.school_id.mapped("name")), {"THCS S1", "THCS S2"})
        # the department head: their department's rows
        rows = self.env["hscm.progress.summary"].with_user(self.head).search([])
        self.assertTrue(rows)
        self.assertEqual(rows.school_department_id, self.k1)

    def test_refused_reads_and_writes(self):
        with self.assertRaises(AccessError):
            self.env["hscm.progress.summary"].with_user(self.teacher).search([])
        with self.assertRaises(AccessError):
            self.env["hscm.progress.school.week"].with_user(self.head).search([])
        with self.assertRaises(AccessError):
            self.env["hscm.progress.school.week"].with_user(self.specialist).search([])
        row = self.env["hscm.progress.summary"].with_user(self.city).search([], limit=1)
        with self.assertRaises(AccessError):
            row.write({"missing": 0})
        with self.assertRaises(AccessError):
            self.env["hscm.progress.summary"].with_user(self.city).action_refresh()

    def sums(self, model, key, user=None, **filters):
        """``{(key id, week): Counter}`` of ``model``'s rows (as ``user``)."""
        result = defaultdict(Counter)
        Model = self.env[model].with_user(user) if user else self.env[model]
        for row in Model.search([("school_year_id", "=", self.year.id)]):
            if any(row[name].id != value for name, value in filters.items()):
                continue
            for column in (*STATUS_COLUMN.values(), "expected", "owed", "waiting"):
                result[(row[key].id, row.week)][column] += row[column]
        return {k: +v for k, v in result.items()}

    def test_office_and_subject_tables_add_the_summary_up(self):
        offices = self.sums("hscm.progress.office.week", "reports_to_id")
        self.assertEqual(offices, self.sums("hscm.progress.school.week", "reports_to_id"))
        self.assertEqual({office for office, _week in offices}, {self.office_d.id, self.office_w.id,
                                                                 self.sgd_a.id})
        subjects = self.sums("hscm.progress.subject.week", "subject_id")
        self.assertEqual(subjects, self.sums("hscm.progress.summary", "subject_id"))
        self.assertTrue({self.math.id, self.literature.id} <= {subject for subject, _week in subjects})

    def test_office_and_subject_tables_by_role(self):
        # an office reads its own row only; the Sở leader every office's; the specialist none
        self.assertEqual({row.reports_to_id for row in self.env["hscm.progress.office.week"].with_user(
            self.district).search([])}, {self.office_d})
        self.assertEqual(set(self.env["hscm.progress.office.week"].with_user(self.city).search([]).reports_to_id.ids),
                         {self.office_d.id, self.office_w.id, self.sgd_a.id})
        self.assertFalse(self.env["hscm.progress.office.week"].with_user(self.city_b).search([]))
        for user in (self.specialist, self.vp, self.head, self.teacher):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["hscm.progress.office.week"].with_user(user).search([])
        # the specialist reads their subjects only; the Sở leader every subject; offices and schools none
        self.assertEqual(self.env["hscm.progress.subject.week"].with_user(self.specialist).search([]).subject_id,
                         self.math)
        self.assertIn(self.literature, self.env["hscm.progress.subject.week"].with_user(self.city).search([]).subject_id)
        for user in (self.district, self.vp, self.head, self.teacher):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["hscm.progress.subject.week"].with_user(user).search([])
        row = self.env["hscm.progress.subject.week"].with_user(self.city).search([], limit=1)
        with self.assertRaises(AccessError):
            row.write({"missing": 0})

    def assert_cells(self, view, expected):
        """The cells of a roll-up ``view`` hold the ``expected`` counts, ``{(group id, week): Counter}``."""
        got = {(row["id"], int(week)): dict(zip(view["columns"], cell))
               for row in view["rows"] for week, cell in row["weeks"].items()}
        self.assertEqual(set(got), set(expected))
        for key, counts in expected.items():
            self.assertEqual({c: got[key][c] for c in counts}, dict(counts), key)

    def test_rollups_read_from_the_small_tables_give_the_same_figures(self):
        Progress = self.env["hscm.progress"]
        offices = Progress.with_user(self.city).rollup_view(group_by="reports_to")
        self.assert_cells(offices, self.sums("hscm.progress.school.week", "reports_to_id", self.city))
        subjects = Progress.with_user(self.specialist).rollup_view(group_by="subject")
        self.assert_cells(subjects, self.sums("hscm.progress.summary", "subject_id", self.specialist))
        # a week's cells add up to the row's total
        row = subjects["rows"][0]
        total = dict(zip(subjects["columns"], row["total"]))
        self.assertEqual(total["missing"], sum(dict(zip(subjects["columns"], cell))["missing"]
                                               for cell in row["weeks"].values()))

    def test_rollup_view_by_role(self):
        Progress = self.env["hscm.progress"]
        view = Progress.with_user(self.district).rollup_view(group_by="school")
        self.assertEqual([row["name"] for row in view["rows"]], ["THCS S1"])
        self.assertFalse(view["per_subject"])
        week13 = dict(zip(view["columns"], view["rows"][0]["weeks"]["13"]))
        self.assertEqual(week13["owed"], week13["on_time"] + week13["late"] + week13["pending"]
                         + week13["rejected"] + week13["missing"])
        # the figures of S1's week 13 are those of its rows in the table, added up
        rows = self.env["hscm.progress.school.week"].search([("school_id", "=", self.s1.id), ("week", "=", 13)])
        self.assertEqual((week13["expected"], week13["owed"], week13["missing"]),
                         (sum(rows.mapped("expected")), sum(rows.mapped("owed")), sum(rows.mapped("missing"))))
        total = dict(zip(view["columns"], view["rows"][0]["total"]))
        school_rows = self.env["hscm.progress.school.week"].search([("school_id", "=", self.s1.id)])
        self.assertEqual((total["owed"], total["on_time"]),
                         (sum(school_rows.mapped("owed")), sum(school_rows.mapped("on_time"))))
        self.assertEqual(total["on_time_pct"], round(100.0 * total["on_time"] / total["owed"], 2))
        offices = Progress.with_user(self.city).rollup_view(group_by="reports_to")
        self.assertEqual({row["name"] for row in offices["rows"]}, {"Phòng GDĐT D", "Phòng VHXH W", "Sở A"})
        specialist = Progress.with_user(self.specialist).rollup_view(group_by="school")
        self.assertTrue(specialist["per_subject"], "a specialist reads the per-subject table")
        self.assertEqual({row["name"] for row in specialist["rows"]}, {"THCS S1", "THCS S2"})
        subjects = Progress.with_user(self.specialist).rollup_view(group_by="subject")
        self.assertEqual([row["id"] for row in subjects["rows"]], [self.math.id])
        with self.assertRaises(AccessError):
            Progress.with_user(self.district).rollup_view(group_by="owner")

    def test_rollup_pages(self):
        Progress = self.env["hscm.progress"].with_user(self.city)
        whole = Progress.rollup_view(group_by="school")
        names = [row["name"] for row in whole["rows"]]
        self.assertEqual(names, ["THCS S1", "THCS S2", "THPT S3"])
        self.assertEqual(whole["row_count"], 3)
        first = Progress.rollup_view(group_by="school", limit=2)
        rest = Progress.rollup_view(group_by="school", limit=2, offset=2)
        self.assertEqual([row["name"] for row in first["rows"] + rest["rows"]], names)
        self.assertEqual((first["row_count"], rest["row_count"], rest["offset"]), (3, 3, 2))
        self.assertEqual(rest["rows"], whole["rows"][2:], "a page holds the same cells and totals")
        self.assertEqual(first["weeks"], whole["weeks"], "the weeks are the whole view's")

    def test_selective_dashboards_are_ruled(self):
        Progress = self.env["hscm.progress"]
        grid = Progress.with_user(self.head).department_grid(self.k1.id, 12, 14)
        self.assertEqual({t["name"] for t in grid["teachers"]},
                         set(self.env["hscm.staff"].search([("school_department_id", "=", self.k1.id)]).mapped("name")))
        self.assertIn("13", next(t for t in grid["teachers"] if t["id"] == self.staff["teacher"].id)["cells"])
        with self.assertRaises(AccessError):
            Progress.with_user(self.head).department_grid(self.k_s2.id, 12, 14)
        week = Progress.with_user(self.district).school_week(self.s1.id, 13)
        self.assertEqual({d["id"] for d in week["departments"]}, {self.k1.id})
        with self.assertRaises(AccessError):
            Progress.with_user(self.district).school_week(self.s2.id, 13)
        with self.assertRaises(AccessError):
            Progress.with_user(self.teacher).school_week(self.s2.id, 13)
        # a teacher of the department, the math specialist: not a whole department's or school's figures
        with self.assertRaises(AccessError):
            Progress.with_user(self.teacher).department_grid(self.k1.id, 12, 14)
        with self.assertRaises(AccessError):
            Progress.with_user(self.specialist).department_grid(self.k1.id, 12, 14)
        with self.assertRaises(AccessError):
            Progress.with_user(self.specialist).school_week(self.s1.id, 13)
        self.assertTrue(Progress.with_user(self.deputy).department_grid(self.k1.id, 13, 13)["teachers"])
        self.assertTrue(Progress.with_user(self.city).school_week(self.s3.id, 13)["departments"])


@tagged("post_install", "-at_install")
class TestOversightPages(SummaryCase, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["hscm.progress.summary"]._refresh(cls.year, now=dt.datetime(2027, 6, 1))

    def get(self, login, url):
        self.authenticate(login, PASSWORD)
        return self.url_open(url, allow_redirects=False)

    def test_roll_up_and_drill_down(self):
        page = self.get(self.district.login, "/my/hscm/oversight?group_by=school")
        self.assertEqual(page.status_code, 200)
        self.assertIn("THCS S1", page.text)
        self.assertNotIn("THCS S2", page.text)
        self.assertIn(f"/my/hscm/oversight/school/{self.s1.id}?week=13", page.text)
        school = self.get(self.district.login, f"/my/hscm/oversight/school/{self.s1.id}?week=13")
        self.assertEqual(school.status_code, 200)
        self.assertIn(f"/my/hscm/oversight/department/{self.k1.id}", school.text)
        department = self.get(self.district.login, f"/my/hscm/oversight/department/{self.k1.id}?week_from=12&week_to=13")
        self.assertEqual(department.status_code, 200)
        self.assertIn("Test teacher", department.text)
        records = self.get(self.district.login, f"/my/hscm/oversight/records?staff_id={self.staff['teacher'].id}&week=13")
        self.assertEqual(records.status_code, 200)

    def test_roll_up_in_pages(self):
        with patch.object(oversight, "ROLLUP_PAGE", 2):
            first = self.get(self.city.login, "/my/hscm/oversight?group_by=school&week_from=12&week_to=14")
            second = self.get(self.city.login, "/my/hscm/oversight/page/2?group_by=school&week_from=12&week_to=14")
        self.assertEqual((first.status_code, second.status_code), (200, 200))
        self.assertIn("THCS S2", first.text)
        self.assertNotIn("THPT S3", first.text)
        self.assertIn("THPT S3", second.text)
        self.assertNotIn("THCS S1", second.text)
        # the pager keeps the filters
        self.assertIn("/my/hscm/oversight/page/2?", first.text.replace("&amp;", "&"))
        self.assertIn("week_from=12", first.text.replace("&amp;", "&").split("/my/hscm/oversight/page/2?")[1][:200])

    def test_out_of_scope_pages_answer_404(self):
        self.assertEqual(self.get(self.district.login, f"/my/hscm/oversight/school/{self.s2.id}?week=13").status_code, 404)
        self.assertEqual(self.get(self.district.login, f"/my/hscm/oversight/department/{self.k_s2.id}").status_code, 404)
        self.assertEqual(self.get(self.teacher.login, "/my/hscm/oversight").status_code, 404)
        self.assertEqual(self.get(self.district.login,
                                  f"/my/hscm/oversight/records?staff_id={self.staff['teacher2'].id}&week=13").status_code,
                         404)
