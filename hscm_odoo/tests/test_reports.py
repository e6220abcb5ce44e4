import datetime as dt
import io
import re
from unittest.mock import patch

from freezegun import freeze_time
from openpyxl import load_workbook

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged

from ..tools import oversight_reports as orp
from .common import PASSWORD, HscmFlowCase, pdf_text, render_pdf

SECOND = dt.timedelta(seconds=1)


def utc(value):
    """A naive UTC datetime (Odoo's convention) from an aware one."""
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


class ReportCase(HscmFlowCase):
    """The teacher teaches maths to 8A1, 2 periods a week (2 lesson plans a
    week); the calendar starts on Monday 7 September 2026."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.assignment = cls.env["hscm.teaching.assignment"].create({
            "staff_id": cls.staff["teacher"].id, "subject_id": cls.math.id, "class_id": cls.class_8a1.id,
            "periods_per_week": 2})
        cls.weeks = {w.number: w for w in cls.year._teaching_weeks()}

    def due(self, week):
        policy = self.lesson_plan._policy_for(self.s1)
        return utc(self.env["hscm.progress"]._deadlines(policy, self.year, [week])[week])

    def start(self, week):
        return utc(orp.week_start_instant(self.weeks[week].start))

    def plan_at(self, when, week, lesson, classes=None):
        with freeze_time(when):
            plan = self.new_plan(week=week, lesson=lesson, classes=classes)
            self.submit(plan)
        return plan

    def approve_at(self, when, plans):
        with freeze_time(when):
            plans.with_user(self.head).action_approve()
            plans.with_user(self.vp).action_approve()
        return plans

    def reject_at(self, when, plan):
        with freeze_time(when):
            plan.with_user(self.head).action_reject("Thiếu mục tiêu bài học")
        return plan


@tagged("post_install", "-at_install")
class TestProgressReport(ReportCase, HttpCase):
    """PDFs are rendered in an HttpCase: wkhtmltopdf loads the report's
    styles from the test server, which must share the test's cursor."""

    def test_weekly_department_report(self):
        # week 12: one plan on time and approved, the other never handed in
        plan = self.plan_at(self.due(12) - dt.timedelta(hours=5), 12, 1)
        self.approve_at(self.due(12) - dt.timedelta(hours=1), plan)
        data = {"school_id": self.s1.id, "school_year_id": self.year.id, "kind": "week", "week": 12,
                "month": False, "department_id": self.k1.id}
        with freeze_time(self.start(12) + dt.timedelta(days=2)):
            values = self.env["hscm.oversight.report"].with_user(self.vp)._progress_values(**data)
            self.assertEqual(values["totals"], orp.Totals(on_time=1, missing=1))
            self.assertEqual([row["staff"] for s in values["sections"] for row in s["rows"]],
                             [self.staff["teacher"]], "only the teachers who owe something are listed")
            text = pdf_text(render_pdf(self.env(user=self.vp), "hscm_odoo.action_report_progress", data=dict(data)))
        self.assertIn("BÁO CÁO TIẾN ĐỘ HỒ SƠ CHUYÊN MÔN ĐIỆN TỬ", text)
        self.assertIn("Tổ KHTN", text)
        self.assertIn("Tuần 12 (23/11/2026 – 29/11/2026)", text)
        # the teacher's row: the week's worst status in words and its 2 files, then
        # on time, late, waiting, rejected, missing, owed, on-time %
        self.assertRegex(text, r"Test teacher\s+Thiếu \(2\)\s+1\s+0\s+0\s+0\s+1\s+2\s+50\.0 %")
        self.assertRegex(text, r"Cộng tổ / Department total\s+1\s+0\s+0\s+0\s+1\s+2\s+50\.0 %")
        self.assertRegex(text, r"Test teacher\s+12\s+Toán\s+8A1\s+Thiếu: 1\s+2\s+" + re.escape(plan.name),
                         "the missing plan is listed with the record handed in")
        self.assertIn("TỔ TRƯỞNG", text)
        self.assertIn("PHÓ HIỆU TRƯỞNG", text)
        self.assertIn("Test head", text, "the head's name under their signature line")
        self.assertIn("In bởi / Printed by: Test vp", text)

    def test_monthly_school_report_and_its_refusals(self):
        late = self.plan_at(self.due(13) + SECOND, 13, 1)
        self.approve_at(self.due(13) + dt.timedelta(hours=1), late)
        rejected = self.plan_at(self.due(13) - SECOND, 13, 2)
        self.reject_at(self.due(13) + dt.timedelta(hours=2), rejected)
        data = {"school_id": self.s1.id, "school_year_id": self.year.id, "kind": "month", "week": False,
                "month": "2026-12-15", "department_id": False}
        with freeze_time(self.start(14) + dt.timedelta(hours=1)):
            text = pdf_text(render_pdf(self.env(user=self.principal), "hscm_odoo.action_report_progress",
                                       data=dict(data)))
            values = self.env["hscm.oversight.report"].with_user(self.principal)._progress_values(**data)
        # December: weeks 13 (Thursday 3 December) to 17; week 14 is due, 15… are not
        self.assertEqual(values["weeks"], [13, 14, 15, 16, 17])
        self.assertEqual(values["totals"], orp.Totals(late=1, rejected=1, missing=2, not_due=6))
        self.assertIn("Tháng 12/2026 (tuần 13–17)", text)
        self.assertIn("(toàn trường / whole school)", text)
        self.assertRegex(text, r"Test teacher\s+Trả lại \(2\)\s+Thiếu \(2\)\s+Chưa đến hạn \(2\)")
        self.assertIn("HIỆU TRƯỞNG / PRINCIPAL", text)
        self.assertIn("Muộn: 1", text)
        self.assertIn("Trả lại: 1", text)

        # another school's leader, a wrong period: refused
        with self.assertRaises(AccessError):
            self.env["hscm.oversight.report"].with_user(self.vp2)._progress_values(**data)
        with self.assertRaises(UserError):
            self.env["hscm.oversight.report"].with_user(self.vp)._progress_values(
                **dict(data, kind="week", week=99))
        with self.assertRaises(UserError):  # the Tết break has no week in it
            self.env["hscm.oversight.report"].with_user(self.vp)._progress_values(
                **dict(data, month="2027-07-01"))

    def test_wizard_prints_for_the_leadership_only(self):
        wizard = self.env["hscm.progress.report.wizard"].with_user(self.vp).create({
            "school_id": self.s1.id, "department_id": self.k1.id, "school_year_id": self.year.id,
            "period": "week", "week": 12})
        action = wizard.action_print()
        self.assertEqual(action["report_name"], "hscm_odoo.report_progress")
        self.assertEqual(action["data"]["department_id"], self.k1.id)
        for user in (self.teacher, self.head):  # portal accounts: the back-office wizard is not theirs
            with self.assertRaises(AccessError):
                self.env["hscm.progress.report.wizard"].with_user(user).create({
                    "school_id": self.s1.id, "school_year_id": self.year.id, "period": "week", "week": 12})


@tagged("post_install", "-at_install")
class TestViolationRecord(ReportCase, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # and 1 period of maths to 8A2, in weeks 12 and 13 only
        cls.env["hscm.teaching.assignment"].create({
            "staff_id": cls.staff["teacher"].id, "subject_id": cls.math.id, "class_id": cls.class_8a2.id,
            "periods_per_week": 1, "from_week": 12, "to_week": 13})

    def timetable(self):
        """Weeks 12 and 13 of a constructed timetable:
        8A1 w12: lesson 1 approved before the week, lesson 2 approved one second after it started;
        8A1 w13: lesson 3 rejected, lesson 4 never handed in;
        8A2 w12: approved at the very start of the week; 8A2 w13: nothing."""
        first = self.plan_at(self.due(12) - dt.timedelta(days=2), 12, 1)
        second = self.plan_at(self.due(12) - dt.timedelta(days=2), 12, 2)
        other_class = self.plan_at(self.due(12) - dt.timedelta(days=2), 12, 5, classes=self.class_8a2)
        self.approve_at(self.start(12) - dt.timedelta(hours=3), first)
        self.approve_at(self.start(12), other_class)
        self.approve_at(self.start(12) + SECOND, second)
        rejected = self.plan_at(self.due(13) - dt.timedelta(days=1), 13, 3)
        self.reject_at(self.due(13) - dt.timedelta(hours=2), rejected)
        return second, rejected

    def draft(self, user=None, **values):
        with freeze_time(self.start(14) + dt.timedelta(hours=8)):
            return self.env["hscm.violation.record"].with_user(user or self.vp).create(dict({
                "staff_id": self.staff["teacher"].id, "school_year_id": self.year.id,
                "week_from": 12, "week_to": 13}, **values))

    def test_draft_lists_exactly_the_unapproved_items(self):
        second, rejected = self.timetable()
        record = self.draft()
        self.assertEqual(record.state, "draft")
        self.assertTrue(record.name.startswith("BB-VP/"))
        self.assertEqual(record.chair_id, self.staff["vp"], "the leader who drafts chairs by default")
        rows = [(line.week, line.class_id, line.kind, line.expected, line.ready, line.missing, line.rejected,
                 line.unapproved, line.references) for line in record.line_ids]
        self.assertEqual(rows, [
            (12, self.class_8a1, "unapproved", 2, 1, 0, 0, 1, second.name),
            (13, self.class_8a1, "missing", 2, 0, 1, 1, 0, rejected.name),
            (13, self.class_8a2, "missing", 1, 0, 1, 0, 0, False),
        ])
        # everything editable while draft, by the leadership
        record.line_ids[2].note = "Có bản in, đã kiểm tra"
        record.write({"explanation": "Máy tính hỏng", "conclusion": "Nhắc nhở"})
        record.line_ids[0].unlink()
        self.assertEqual(len(record.line_ids), 2)
        with freeze_time(self.start(14) + dt.timedelta(hours=9)):
            record.action_prefill()
        self.assertEqual(len(record.line_ids), 3, "the facts are drawn again")
        with freeze_time(self.start(13) - SECOND):
            record.action_prefill()
        self.assertEqual(len(record.line_ids), 1, "before week 13 started, only week 12 had begun")

    def test_only_a_leader_of_the_school_creates_and_issues(self):
        self.timetable()
        for user in (self.teacher, self.head, self.school_admin, self.vp2, self.district, self.city):
            with self.assertRaises(AccessError, msg=f"{user.login} created a violation record"):
                self.draft(user=user)
        record = self.draft()
        self.env.invalidate_all()
        for user in (self.head, self.teacher):
            with self.assertRaises(AccessError, msg=f"{user.login} issued a violation record"):
                record.with_user(user).action_issue()
            with self.assertRaises(AccessError):
                record.with_user(user).write({"conclusion": "x"})
        self.assertEqual(record.state, "draft", "nothing issues it but a leader")
        self.assertFalse(record.with_user(self.head).can_issue)
        self.assertTrue(record.with_user(self.vp).can_issue)
        self.env["hscm.progress"]._cron_send_reminders()
        self.assertEqual(record.state, "draft", "the crons never issue")

        record.with_user(self.principal).action_issue()
        self.assertEqual((record.state, record.issued_by_id), ("issued", self.principal))
        entry = self.env["hscm.audit.log"].search([("res_model", "=", record._name), ("res_id", "=", record.id)])
        self.assertEqual(entry.mapped("event"), ["violation_issue"])
        # issued: read-only, for everyone
        with self.assertRaises(UserError):
            record.with_user(self.vp).write({"conclusion": "Khác"})
        with self.assertRaises(UserError):
            record.line_ids[0].with_user(self.vp).write({"note": "Khác"})
        with self.assertRaises(UserError):
            record.with_user(self.vp).action_issue()
        with self.assertRaises(UserError):
            record.with_user(self.vp).unlink()
        with self.assertRaises(UserError):
            record.with_user(self.vp).write({"state": "draft"})
        record.with_user(self.vp).action_cancel()
        self.assertEqual(record.state, "cancelled")
        self.assertEqual(self.env["hscm.audit.log"].search(
            [("res_model", "=", record._name), ("res_id", "=", record.id)], order="sequence").mapped("event"),
            ["violation_issue", "violation_cancel"])

    def test_leader_cannot_issue_about_themselves_and_rpc_cannot_set_the_state(self):
        record = self.env["hscm.violation.record"].with_user(self.principal).create({
            "staff_id": self.staff["vp"].id, "school_year_id": self.year.id, "week_from": 1, "week_to": 2,
            "description": "Không có bản in khi mất điện"})
        with self.assertRaises(UserError):
            record.with_user(self.vp).action_issue()
        with self.assertRaises(UserError):
            self.env["hscm.violation.record"].with_user(self.vp).create({
                "staff_id": self.staff["teacher"].id, "school_year_id": self.year.id, "week_from": 1,
                "week_to": 2, "state": "issued"})
        with self.assertRaises(UserError):
            record.with_user(self.principal).write({"issued_by_id": self.principal.id})
        with self.assertRaises(ValidationError):
            record.with_user(self.principal).write({"week_from": 3, "week_to": 2})
        with self.assertRaises(ValidationError):
            record.with_user(self.principal).write({"week_to": 36})
        with self.assertRaises(AccessError):  # a leader cannot even name someone of another school
            record.with_user(self.principal).write({"participant_ids": [Command.set(self.staff["teacher2"].ids)]})
        with self.assertRaises(ValidationError):  # nor can the platform manager
            record.with_env(self.env).write({"participant_ids": [Command.set(self.staff["teacher2"].ids)]})

    def test_who_reads_a_violation_record(self):
        self.timetable()
        record = self.draft()
        Record = self.env["hscm.violation.record"]

        def reads(user):
            try:
                found = Record.with_user(user).search([("id", "=", record.id)])
            except AccessError:  # no access right on the model at all
                found = Record
            if found:
                record.with_user(user).read(["name", "conclusion"])
                record.line_ids.with_user(user).read(["week"])
            else:
                with self.assertRaises(AccessError):
                    record.with_user(user).read(["name"])
                with self.assertRaises(AccessError):
                    record.line_ids.with_user(user).read(["week"])
            return bool(found)

        allowed = (self.vp, self.principal, self.head, self.deputy, self.district, self.city,
                   self.env.ref("base.user_admin"))
        refused = (self.teacher_k2, self.group_leader, self.school_admin, self.vp2, self.head2, self.teacher2,
                   self.ward, self.city_b, self.specialist)
        for user in allowed:
            self.assertTrue(reads(user), f"{user.login} should read the draft")
        for user in refused + (self.teacher,):
            self.assertFalse(reads(user), f"{user.login} should not read the draft")
        record.with_user(self.vp).action_issue()
        self.assertTrue(reads(self.teacher), "the teacher reads their own issued record")
        for user in refused:
            self.assertFalse(reads(user), f"{user.login} should not read the issued record")
        with self.assertRaises(AccessError):
            record.with_user(self.teacher).write({"explanation": "Tôi không đồng ý"})

    def test_record_pdf_follows_the_form_of_a_bien_ban(self):
        self.timetable()
        record = self.draft(participant_ids=[Command.set(self.staff["head"].ids)],
                            recorder_id=self.staff["deputy"].id)
        record.write({"explanation": "Máy chiếu hỏng nên dùng bản nháp", "conclusion": "Nhắc nhở lần 1"})
        text = pdf_text(render_pdf(self.env(user=self.vp), "hscm_odoo.action_report_violation_record",
                                   res_ids=record.ids))
        for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "BIÊN BẢN",
                         "Vi phạm quy chế chuyên môn", "DỰ THẢO", f"Số: {record.name}", "THCS S1",
                         "Chủ trì: Test vp", "Thư ký: Test deputy", "Thành phần tham dự: Test head",
                         "Giáo viên vi phạm: Test teacher", "I. NỘI DUNG VI PHẠM", "II. Ý KIẾN GIẢI TRÌNH",
                         "Máy chiếu hỏng", "III. KẾT LUẬN", "Nhắc nhở lần 1", "GIÁO VIÊN VI PHẠM", "CHỦ TRÌ"):
            self.assertIn(expected, text)
        self.assertEqual(text.count("Không nộp kế hoạch bài dạy"), 2)
        self.assertEqual(text.count("chưa được phê duyệt khi lên lớp"), 1 + 1, "one fact, and the title")
        record.with_user(self.vp).action_issue()
        issued = pdf_text(render_pdf(self.env(user=self.teacher), "hscm_odoo.action_report_violation_record",
                                     res_ids=record.ids))
        self.assertNotIn("DỰ THẢO", issued)
        self.assertIn("Giáo viên vi phạm: Test teacher", issued)


@tagged("post_install", "-at_install")
class TestYearSummary(ReportCase, HttpCase):

    def test_year_figures_at_the_boundaries_and_exports(self):
        on_time = self.plan_at(self.due(13), 13, 1)          # exactly at the deadline: on time
        late = self.plan_at(self.due(13) + SECOND, 13, 2)   # one second after: late
        self.approve_at(self.due(13) + dt.timedelta(hours=1), on_time | late)
        self.assertEqual((on_time.is_late, late.is_late), (False, True))
        rejected = self.plan_at(self.due(14) - dt.timedelta(hours=3), 14, 3)
        self.reject_at(self.due(14) - dt.timedelta(hours=2), rejected)
        with freeze_time(self.due(14) - dt.timedelta(hours=1)):
            rejected.with_user(self.teacher).write({"change_note": "Đã sửa"})
            self.submit(rejected)
        self.reject_at(self.due(14) - dt.timedelta(minutes=30), rejected)
        with freeze_time(self.start(15)):
            violation = self.env["hscm.violation.record"].with_user(self.vp).create({
                "staff_id": self.staff["teacher"].id, "school_year_id": self.year.id, "week_from": 13,
                "week_to": 14})
            violation.with_user(self.vp).action_issue()

        with freeze_time(self.start(15) + dt.timedelta(hours=1)):
            summary = self.env["hscm.year.summary"].with_user(self.vp).create({
                "school_id": self.s1.id, "department_id": self.k1.id, "school_year_id": self.year.id})
            summary.action_compute()
        line = summary.line_ids
        self.assertEqual(line.staff_id, self.staff["teacher"])
        owed = 2 * 14  # weeks 1..14 are due when week 15 starts; week 15's deadline has passed too
        owed += 2 if self.due(15) < self.start(15) else 0
        self.assertEqual((line.owed, line.on_time, line.late, line.pending, line.rejected, line.missing),
                         (owed, 1, 1, 0, 1, owed - 3))
        self.assertEqual(line.rejections, 2, "rejected twice")
        self.assertEqual((line.violations, line.other_records), (1, 0))
        self.assertAlmostEqual(line.on_time_pct, orp.percent(1, owed))

        # Excel, opened back
        action = summary.with_user(self.vp).action_export_xlsx()
        attachment = self.env["ir.attachment"].browse(int(re.search(r"/web/content/(\d+)", action["url"]).group(1)))
        book = load_workbook(io.BytesIO(attachment.raw), read_only=True)
        rows = list(book.active.iter_rows(values_only=True))
        self.assertEqual(rows[0][:3], ("Teacher", "Department", "Lesson plans owed"))
        self.assertEqual(rows[1][:9], ("Test teacher", "Tổ KHTN", owed, 1, 1, 0, 1, owed - 3, orp.percent(1, owed)))
        self.assertEqual(rows[1][9:], (2, 0, 0, 1))
        self.assertEqual(len(rows), 2)

        # PDFs: the department's table, and one page per teacher
        table = pdf_text(render_pdf(self.env(user=self.vp), "hscm_odoo.action_report_year_summary",
                                    res_ids=summary.ids))
        self.assertIn("TỔNG HỢP THỰC HIỆN HỒ SƠ CHUYÊN MÔN ĐIỆN TỬ NĂM HỌC 2026-2027", " ".join(table.split()))
        self.assertRegex(table, rf"1\s+Test teacher\s+Tổ KHTN\s+{owed}\s+1\s+1\s+0\s+1\s+{owed - 3}\s+"
                                rf"{orp.percent(1, owed)} %\s+2\s+0/0\s+1")
        teacher = pdf_text(render_pdf(self.env(user=self.vp), "hscm_odoo.action_report_year_summary_teacher",
                                      res_ids=line.ids))
        self.assertIn("PHIẾU TỔNG HỢP THỰC HIỆN HỒ SƠ CHUYÊN MÔN ĐIỆN TỬ", " ".join(teacher.split()))
        self.assertRegex(teacher, r"Biên bản vi phạm quy chế chuyên môn / Violation records issued\s+1")
        self.assertRegex(teacher, r"Được duyệt, nộp đúng hạn / Approved, on time\s+1")

    def test_summary_is_the_leadership_s(self):
        with self.assertRaises(AccessError):
            self.env["hscm.year.summary"].with_user(self.head).create({
                "school_id": self.s1.id, "school_year_id": self.year.id})
        other = self.env["hscm.year.summary"].with_user(self.vp2).create({
            "school_id": self.s1.id, "school_year_id": self.year.id})
        with self.assertRaises(AccessError):  # another school's leadership reads nothing of S1
            other.action_compute()


@tagged("post_install", "-at_install")
class TestPortalReport(ReportCase, HttpCase):

    def test_department_head_prints_the_weekly_report(self):
        rendered = []

        def fake_wkhtmltopdf(self_report, bodies, *args, **kwargs):
            rendered.extend(str(body) for body in bodies)
            return b"%PDF-1.4 fake"

        url = f"/my/hscm/progress/report.pdf?department_id={self.k1.id}&week=12"
        with patch("odoo.addons.base.models.ir_actions_report.IrActionsReport._run_wkhtmltopdf", fake_wkhtmltopdf):
            self.authenticate(self.head.login, PASSWORD)
            page = self.url_open(f"/my/hscm/progress?department_id={self.k1.id}")
            self.assertIn("/my/hscm/progress/report.pdf?department_id=", page.text)
            response = self.url_open(url)
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.headers["Content-Type"], "application/pdf")
            self.assertTrue(any("Test teacher" in body and "BÁO CÁO TIẾN ĐỘ" in body for body in rendered))
            self.assertEqual(self.url_open(url.replace("week=12", "week=99")).status_code, 400)
            for user in (self.teacher, self.teacher_k2, self.head2):
                self.authenticate(user.login, PASSWORD)
                self.assertEqual(self.url_open(url).status_code, 404, f"{user.login} printed K1's report")
