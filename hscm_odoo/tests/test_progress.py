import base64
import datetime as dt
import io
import json
import urllib.parse

from freezegun import freeze_time
from openpyxl import Workbook, load_workbook

from odoo.exceptions import UserError
from odoo.tests import HttpCase, TransactionCase, tagged

from ..tools import spreadsheets
from .common import PASSWORD, HscmFlowCase


def workbook(spec, rows):
    """An .xlsx with the template's header (Vietnamese names) and ``rows``."""
    book = Workbook()
    sheet = book.active
    sheet.title = spec.sheet_title
    sheet.append([column.vi for column in spec.columns])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return base64.b64encode(out.getvalue())


class ProgressCase(HscmFlowCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # lesson plans are owed one file per lesson; 2 periods of maths a week in 8A1
        cls.assignment = cls.env["hscm.teaching.assignment"].create({
            "staff_id": cls.staff["teacher"].id, "subject_id": cls.math.id, "class_id": cls.class_8a1.id,
            "periods_per_week": 2})

    def cell(self, week, now):
        grid = self.env["hscm.progress"]._grid(self.staff["teacher"], [week], now=now)
        return grid[self.staff["teacher"].id][week]


@tagged("post_install", "-at_install")
class TestProgress(ProgressCase, TransactionCase):

    def test_each_status_at_its_boundary(self):
        policy = self.lesson_plan._policy_for(self.s1)
        due = self.env["hscm.progress"]._deadlines(policy, self.year, [13])[13]
        due_utc = due.astimezone(dt.timezone.utc).replace(tzinfo=None)
        second = dt.timedelta(seconds=1)
        self.assertEqual(self.cell(13, due_utc).status, "not_due", "at the deadline nothing is missing yet")
        self.assertEqual(self.cell(13, due_utc + second).status, "missing")
        self.assertEqual(self.cell(13, due_utc + second).counts, {"missing": 2})

        with freeze_time(due_utc - second):
            first = self.new_plan(week=13, lesson=1)
            self.submit(first)
        self.assertFalse(first.is_late)
        self.assertEqual(self.cell(13, due_utc + second).status, "missing", "one of two files still missing")
        with freeze_time(due_utc + second):
            second_plan = self.new_plan(week=13, lesson=2)
            self.submit(second_plan)
        self.assertTrue(second_plan.is_late)
        self.assertEqual(self.cell(13, due_utc + 2 * second).status, "pending")
        with freeze_time(due_utc + 2 * second):
            (first | second_plan).with_user(self.head).action_approve()
            (first | second_plan).with_user(self.vp).action_approve()
        cell = self.cell(13, due_utc + 3 * second)
        self.assertEqual((cell.status, cell.counts), ("approved_late", {"approved_on_time": 1, "approved_late": 1}))

        with freeze_time(due_utc - second):
            plans = self.new_plan(week=14, lesson=3) | self.new_plan(week=14, lesson=4)
            for plan in plans:
                self.submit(plan)
            plans[0].with_user(self.head).action_reject("Thiếu mục tiêu")
        self.assertEqual(self.cell(14, due_utc).status, "rejected")

    def test_rollup_counts_and_percentage(self):
        grid = {1: {12: self.cell(12, self.year_end()), 13: self.cell(13, self.year_end())}}
        rollup = self.env["hscm.progress"]._rollup(grid, now=self.year_end())
        self.assertEqual(rollup.counts["missing"], 2)
        self.assertEqual(rollup.on_time_pct, 0.0)

    def year_end(self):
        return dt.datetime(2027, 5, 30)


@tagged("post_install", "-at_install")
class TestImports(ProgressCase, TransactionCase):

    def wizard(self, kind, rows, user=None):
        spec = spreadsheets.StaffImport if kind == "staff" else spreadsheets.AssignmentImport
        return self.env["hscm.import.wizard"].with_user(user or self.school_admin).create({
            "kind": kind, "school_id": self.s1.id, "file": workbook(spec, rows), "file_name": "x.xlsx"})

    def test_template_opens_with_the_columns(self):
        wizard = self.env["hscm.import.wizard"].with_user(self.school_admin).create({"kind": "assignments",
                                                                                     "school_id": self.s1.id})
        book = load_workbook(io.BytesIO(base64.b64decode(wizard.template)))
        headers = [cell.value for cell in book.active[1]]
        self.assertTrue(any("Giáo viên" in (h or "") for h in headers))

    def test_assignments_import_is_all_or_nothing(self):
        before = self.env["hscm.teaching.assignment"].search_count([])
        bad = self.wizard("assignments", [
            [self.teacher.login, "toan", "8A2", 3],
            ["no.such.login", "toan", "8A1", 3],
            [self.head.login, "toan", "9Z9", 30],
        ])
        with self.assertRaises(UserError) as caught:
            bad.action_import()
        message = str(caught.exception)
        self.assertIn("Dòng 3", message)
        self.assertIn("Row 4", message)
        self.assertEqual(self.env["hscm.teaching.assignment"].search_count([]), before, "nothing imported")

        good = self.wizard("assignments", [[self.teacher.login, "toan", "8A2", 3],
                                           [self.head.login, "toan", "8A1", 4]])
        good.action_import()
        self.assertIn("2", good.result)
        self.assertEqual(self.env["hscm.teaching.assignment"].search_count([]), before + 2)
        with self.assertRaises(UserError):  # another school's admin cannot import into this school
            self.wizard("assignments", [[self.teacher.login, "toan", "8A2", 3]], user=self.teacher).action_import()

    def test_staff_import_creates_accounts_with_their_roles(self):
        department = self.k1.name
        wizard = self.wizard("staff", [
            ["Lê Văn Mới", "le.van.moi", "moi@example.vn", "teacher", department, "toan"],
            ["Trần Thị Tổ", "tran.thi.to", "", "department_deputy, teacher", department, ""],
        ])
        wizard.action_import()
        new = self.env["res.users"].search([("login", "in", ("le.van.moi", "tran.thi.to"))])
        self.assertEqual(len(new), 2)
        self.assertTrue(all(u.has_group("hscm_odoo.group_teacher") and u.share for u in new))
        deputy = new.filtered(lambda u: u.login == "tran.thi.to")
        self.assertTrue(deputy.has_group("hscm_odoo.group_department_manager"))
        self.assertEqual(deputy.hscm_staff_ids.school_department_id, self.k1)
        again = self.wizard("staff", [["Lê Văn Mới", "le.van.moi", "", "teacher", department, ""]])
        with self.assertRaises(UserError) as caught:
            again.action_import()
        self.assertIn("Dòng 2", str(caught.exception))


@tagged("post_install", "-at_install")
class TestReminders(ProgressCase, TransactionCase):

    def mails(self):
        return self.env["mail.mail"].search([("subject", "like", "Professional records: your day")]) | \
            self.env["mail.mail"].search([("subject", "like", "Hồ sơ chuyên môn")])

    def test_one_digest_per_person_per_day(self):
        plan = self.new_plan(week=12, lesson=1)
        with freeze_time("2026-11-18 03:00:00"):
            self.submit(plan)
        with freeze_time("2026-11-20 01:00:00"):  # 08:00 in Vietnam
            self.env["hscm.progress"]._cron_send_reminders()
            first = self.mails()
            self.env["hscm.progress"]._cron_send_reminders()
            self.assertEqual(self.mails(), first, "a second run the same day sends nothing")
        recipients = first.recipient_ids
        self.assertIn(self.head.partner_id, recipients, "the approver hears about the pending plan")
        self.assertEqual(len(first), len(recipients), "one digest per person")
        head_mail = first.filtered(lambda m: self.head.partner_id in m.recipient_ids)
        self.assertIn(plan.name, head_mail.body_html)
        with freeze_time("2026-11-20 23:00:00"):  # 06:00 the next day: before the school's hour
            self.env["hscm.progress"]._cron_send_reminders()
            self.assertEqual(self.mails(), first)
        with freeze_time("2026-11-21 01:00:00"):
            self.env["hscm.progress"]._cron_send_reminders()
            self.assertGreater(len(self.mails()), len(first), "a new day, a new digest")
        self.s1.reminders_enabled = False
        with freeze_time("2026-11-22 01:00:00"):
            before = self.mails()
            self.env["hscm.progress"]._cron_send_reminders()
            new = self.mails() - before
        school_partners = self.s1.staff_ids.user_id.partner_id
        self.assertFalse(new.recipient_ids & school_partners, "the school switched reminders off")


@tagged("post_install", "-at_install")
class TestProgressPages(ProgressCase, HttpCase):

    def test_department_grid_and_exports(self):
        plan = self.new_plan(week=12, lesson=1)
        self.submit(plan)
        self.authenticate(self.teacher.login, PASSWORD)
        self.assertEqual(self.url_open("/my/hscm/progress").status_code, 404, "teachers follow no department")
        self.authenticate(self.head.login, PASSWORD)
        page = self.url_open("/my/hscm/progress?week_from=11&week_to=13")
        self.assertEqual(page.status_code, 200)
        # week 12: one of the two plans waits for approval, the other is missing: the worst wins
        self.assertIn('week=12" class="badge text-bg-dark o_hscm_cell o_hscm_cell_missing"', page.text)
        self.assertIn('data-waiting="1"', page.text)
        sheet = load_workbook(io.BytesIO(self.url_open("/my/hscm/progress.xlsx?week_from=11&week_to=13").content))
        rows = list(sheet.active.iter_rows(values_only=True))
        self.assertEqual(len(rows[0]), 4)
        self.assertIn(self.staff["teacher"].name, [row[0] for row in rows])

        self.authenticate(self.vp.login, PASSWORD)
        response = self.url_open("/hscm/export/register.xlsx")
        register = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
        self.assertIn(plan.name, [row[0] for row in register])
        row = next(row for row in register if row[0] == plan.name)
        # in the request's language (Vietnamese once vi_VN is loaded, as with the demo city)
        expected = set()
        for lang in self.env["res.lang"].search([("code", "in", ["en_US", "vi_VN"])]).mapped("code"):
            env = plan.with_context(lang=lang).env
            states = dict(plan._fields["state"]._description_selection(env))
            expected.add((plan.title, plan.type_id.with_context(lang=lang).name, plan.owner_id.name,
                          plan.school_id.name, plan.school_department_id.name,
                          plan.subject_id.with_context(lang=lang).name, plan.week_number, states[plan.state]))
        self.assertIn(row[1:9], expected)
        self.assertEqual(row[13], plan.file_sha256)
        self.authenticate(self.teacher2.login, PASSWORD)
        domain = urllib.parse.urlencode({"domain": json.dumps([["id", "=", plan.id]])})
        register = list(load_workbook(io.BytesIO(
            self.url_open(f"/hscm/export/register.xlsx?{domain}").content)).active.iter_rows(values_only=True))
        self.assertEqual(len(register), 1, "another school's teacher exports only the header")
