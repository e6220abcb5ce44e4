import base64
from datetime import date

from odoo.tests import HttpCase, tagged

from .common import make_pdf
from .test_login_landing import LoginMixin

DEMO_LOGINS = {
    "demo.teacher": "/my",
    "demo.teacher2": "/my",
    "demo.head": "/my",
    "demo.deputy": "/my",
    "demo.vp": "/odoo",
    "demo.principal": "/odoo",
    "demo.admin": "/odoo",
    "demo.district": "/odoo",
    "demo.city": "/odoo",
    "demo.specialist": "/odoo",
}


@tagged("post_install", "-at_install", "hscm_demo")
class TestDemoCity(LoginMixin, HttpCase):
    """Checks of the demo data itself; run only on a database that has it
    (the test command excludes the ``hscm_demo`` tag without demo data)."""

    def test_every_demo_login_lands_on_its_screen(self):
        for login, landing in DEMO_LOGINS.items():
            self.assertTrue(self.login_redirect(login, "demo").endswith(landing), login)

    def test_the_demo_city_is_complete(self):
        ref = self.env.ref
        schools = (
            ref("hscm_odoo.demo_school_thcs_hoasen")
            | ref("hscm_odoo.demo_school_th_binhminh")
            | ref("hscm_odoo.demo_school_thcs_tanlap")
            | ref("hscm_odoo.demo_school_thpt_hoason")
        )
        self.assertEqual(set(schools.mapped("level")), {"th", "thcs", "thpt"})
        self.assertEqual(len(schools.office_id), 2)
        for school in schools:
            self.assertGreaterEqual(school.staff_count, 15, school.name)
            self.assertGreaterEqual(len(school.department_ids.filtered(lambda d: d.kind == "professional")), 2)
            self.assertGreaterEqual(len(school.department_ids.group_ids), 2)
        teacher = ref("hscm_odoo.demo_user_teacher")
        staff = teacher.hscm_staff_ids
        self.assertEqual(staff.school_id, ref("hscm_odoo.demo_school_thcs_hoasen"))
        self.assertIn(ref("hscm_odoo.subject_toan"), staff.subject_ids)
        self.assertEqual(staff.school_department_id.head_id.user_id, ref("hscm_odoo.demo_user_head"))
        self.assertIn(ref("hscm_odoo.demo_user_deputy"), staff.school_department_id.deputy_ids.user_id)
        self.assertNotEqual(ref("hscm_odoo.demo_user_teacher2").hscm_staff_ids.school_id.office_id,
                            staff.school_id.office_id)
        self.assertEqual(ref("hscm_odoo.demo_user_district").hscm_authority_id, staff.school_id.office_id)
        self.assertEqual(teacher.lang, "vi_VN")
        vp = ref("hscm_odoo.demo_user_vp").hscm_staff_ids
        self.assertIn(ref("hscm_odoo.duty_area_professional"), vp.duty_area_ids)
        self.assertEqual(staff.school_id.get_teaching_week(date(2026, 11, 23))["week"], 12)

    def test_demo_approvers_sign_the_whole_chain(self):
        """Every demo approver holds a certificate of the demo organisation CA
        (passphrase "demo"): a lesson plan runs the whole signed chain."""
        ref = self.env.ref
        for key in ("head", "deputy", "vp", "principal"):
            user = ref(f"hscm_odoo.demo_user_{key}")
            credential = self.env["hscm.signing.credential"]._for_user(user)
            self.assertTrue(credential.is_internal, key)
        teacher = ref("hscm_odoo.demo_user_teacher")
        plan = self.env["hscm.dossier"].with_user(teacher).create({
            "title": "Bài 12: Luyện tập chung", "type_id": ref("hscm_odoo.dossier_type_lesson_plan").id,
            "subject_id": ref("hscm_odoo.subject_toan").id,
            "class_ids": [(6, 0, teacher.hscm_staff_ids.class_ids[:1].ids)],
            "lesson_number": 12, "week_number": teacher.hscm_staff_ids.school_id.get_teaching_week(
                date.today())["week"] or 12,
            "file": base64.b64encode(make_pdf("demo chain")), "file_name": "bai-12.pdf",
        })
        plan.with_user(teacher).action_submit()
        while plan.state == "submitted":
            step = plan._current_steps().filtered(lambda s: s.state == "pending")
            approver = step.acting_user_id or step.expected_user_id
            plan.with_user(approver).action_approve(passphrase="demo")
        self.assertEqual(plan.state, "approved")
        report = plan.verify_signatures()
        self.assertEqual(report["verdict"], "valid", report["reasons"])
        self.assertEqual(len(report["signatures"]), len(plan._current_steps()))
