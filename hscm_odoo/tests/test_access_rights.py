from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged

from .common import HscmCase


@tagged("post_install", "-at_install")
class TestDossierAccess(HscmCase, TransactionCase):
    """The role matrix on dossiers: what each role sees, and is refused."""

    def visible(self, user):
        return self.env["hscm.dossier"].with_user(user).search([("id", "in", self.all_dossiers.ids)])

    def assert_sees(self, user, expected):
        self.assertEqual(self.visible(user), expected, f"{user.login} sees the wrong dossiers")
        for dossier in expected:
            dossier.with_user(user).read(["title"])
        for dossier in self.all_dossiers - expected:
            with self.assertRaises(AccessError, msg=f"{user.login} could read {dossier.title}"):
                dossier.with_user(user).read(["title"])

    def test_teacher_sees_own_only(self):
        self.assert_sees(self.teacher, self.d_teacher)
        self.assert_sees(self.teacher2, self.d_teacher2)

    def test_department_head_and_deputy_see_their_department(self):
        self.assert_sees(self.head, self.d_teacher)
        self.assert_sees(self.deputy, self.d_teacher)

    def test_group_leader_sees_the_group(self):
        self.assert_sees(self.group_leader, self.d_teacher)

    def test_leadership_sees_the_whole_school(self):
        self.assert_sees(self.vp, self.d_teacher | self.d_teacher_k2)
        self.assert_sees(self.principal, self.d_teacher | self.d_teacher_k2)
        self.assert_sees(self.vp2, self.d_teacher2)

    def test_school_admin_has_no_dossier_access(self):
        with self.assertRaises(AccessError):
            self.env["hscm.dossier"].with_user(self.school_admin).search([])
        with self.assertRaises(AccessError):
            self.d_teacher.with_user(self.school_admin).read(["title"])

    def test_offices_see_the_schools_under_them(self):
        self.assert_sees(self.district, self.d_teacher | self.d_teacher_k2)
        self.assert_sees(self.ward, self.d_teacher2)

    def test_city_leader_sees_the_whole_city_only(self):
        self.assert_sees(self.city, self.d_teacher | self.d_teacher_k2 | self.d_teacher2 | self.d_teacher3)
        self.assert_sees(self.city_b, self.d_teacher4)

    def test_specialist_sees_their_subject_in_their_city(self):
        self.assert_sees(self.specialist, self.d_teacher | self.d_teacher2 | self.d_teacher3)
        self.specialist.hscm_subject_ids = [Command.set(self.literature.ids)]
        self.assert_sees(self.specialist, self.d_teacher_k2)

    def test_boundaries_hold_with_several_groups(self):
        """Groups OR their rules, but every rule is anchored in the user's own
        school or office: extra groups without that anchor widen nothing."""
        # back-office groups make the account internal: it can no longer be portal
        self.teacher.groups_id = [
            Command.unlink(self.env.ref("base.group_portal").id),
            Command.link(self.env.ref("hscm_odoo.group_office_inspector").id),
            Command.link(self.env.ref("hscm_odoo.group_city_leader").id),
            Command.link(self.env.ref("hscm_odoo.group_city_specialist").id),
            Command.link(self.env.ref("hscm_odoo.group_department_manager").id),
        ]
        self.assert_sees(self.teacher, self.d_teacher)
        # a district account given the city-leader group still sees its district only
        self.district.groups_id = [Command.link(self.env.ref("hscm_odoo.group_city_leader").id)]
        self.assert_sees(self.district, self.d_teacher | self.d_teacher_k2)

    def test_owner_writes_only_while_draft_or_rejected(self):
        dossier = self.d_teacher.with_user(self.teacher)
        dossier.write({"title": "Bài 1 (sửa)"})
        self.d_teacher._write_internal({"state": "submitted"})
        with self.assertRaises(UserError):  # refused with the reason (AccessError is a UserError too)
            dossier.write({"title": "Bài 1 (sửa lần 2)"})
        with self.assertRaises(UserError):
            dossier.unlink()
        self.d_teacher._write_internal({"state": "rejected"})
        dossier.write({"title": "Bài 1 (nộp lại)"})

    def test_managers_cannot_write_their_staff_dossiers(self):
        for user in (self.head, self.deputy, self.group_leader, self.vp, self.district, self.city):
            with self.assertRaises(AccessError, msg=user.login):
                self.d_teacher.with_user(user).write({"title": "changed"})

    def test_teacher_creates_only_for_self(self):
        lesson_plan = self.env.ref("hscm_odoo.dossier_type_lesson_plan")
        Dossier = self.env["hscm.dossier"].with_user(self.teacher)
        mine = Dossier.create({"title": "Bài 2", "type_id": lesson_plan.id, "subject_id": self.math.id})
        self.assertEqual(mine.owner_id, self.teacher)
        self.assertEqual(mine.school_id, self.s1)
        self.assertEqual(mine.school_department_id, self.k1)
        self.assertTrue(mine.name.startswith("HS/"))
        with self.assertRaises(AccessError):
            Dossier.create({"title": "Bài 3", "type_id": lesson_plan.id, "owner_id": self.teacher2.id})

    def test_teacher_deletes_own_draft_only(self):
        self.d_teacher.with_user(self.teacher).unlink()
        with self.assertRaises(AccessError):
            self.d_teacher2.with_user(self.teacher).unlink()


@tagged("post_install", "-at_install")
class TestOrganisationAccess(HscmCase, TransactionCase):
    """Schools, staff and departments: who sees and who edits them."""

    def test_staff_see_their_own_school(self):
        Staff = self.env["hscm.staff"]
        for user in (self.teacher, self.head, self.vp, self.school_admin):
            seen = Staff.with_user(user).search([]).school_id
            self.assertEqual(seen, self.s1, user.login)
            self.assertEqual(self.env["hscm.school"].with_user(user).search([]), self.s1, user.login)
        with self.assertRaises(AccessError):
            self.staff["teacher2"].with_user(self.teacher).read(["name"])
        with self.assertRaises(AccessError):
            self.s2.with_user(self.vp).read(["name"])

    def test_offices_and_city_see_their_schools(self):
        School = self.env["hscm.school"]
        tests_schools = self.s1 | self.s2 | self.s3 | self.s4
        self.assertEqual(School.with_user(self.district).search([("id", "in", tests_schools.ids)]), self.s1)
        self.assertEqual(School.with_user(self.ward).search([("id", "in", tests_schools.ids)]), self.s2)
        self.assertEqual(
            School.with_user(self.city).search([("id", "in", tests_schools.ids)]), self.s1 | self.s2 | self.s3
        )
        self.assertEqual(
            School.with_user(self.specialist).search([("id", "in", tests_schools.ids)]), self.s1 | self.s2 | self.s3
        )
        self.assertEqual(School.with_user(self.city_b).search([("id", "in", tests_schools.ids)]), self.s4)
        with self.assertRaises(AccessError):
            self.s3.with_user(self.district).read(["name"])
        with self.assertRaises(AccessError):
            self.s1.with_user(self.city_b).read(["name"])
        with self.assertRaises(AccessError):
            self.staff["teacher4"].with_user(self.city).read(["name"])

    def test_school_admin_manages_own_school_only(self):
        admin_env = self.env(user=self.school_admin)
        self.staff["teacher"].with_env(admin_env).write({"subject_ids": [Command.set(self.literature.ids)]})
        admin_env["hscm.school.department"].create({"name": "Tổ mới", "school_id": self.s1.id})
        admin_env["hscm.school.class"].create({"name": "6A9", "grade": 6, "school_id": self.s1.id})
        with self.assertRaises(AccessError):
            self.staff["teacher2"].with_env(admin_env).write({"name": "changed"})
        with self.assertRaises(AccessError):
            admin_env["hscm.school.class"].create({"name": "6A9", "grade": 6, "school_id": self.s2.id})
        with self.assertRaises(AccessError):
            admin_env["hscm.school"].create({"name": "New", "code": "T-NEW", "office_id": self.office_d.id})
        with self.assertRaises(AccessError):
            self.env.ref("hscm_odoo.position_principal").with_env(admin_env).write({"name": "x"})

    def test_nobody_but_the_manager_edits_the_organisation_above_schools(self):
        for user in (self.teacher, self.vp, self.school_admin, self.district, self.city):
            with self.assertRaises(AccessError, msg=user.login):
                self.office_d.with_user(user).write({"name": "changed"})
        for user in (self.teacher, self.vp, self.district, self.city):
            with self.assertRaises(AccessError, msg=user.login):
                self.s1.with_user(user).write({"compulsory_from_week": 4})
        # the school admin sets their own school's parameters, not another's
        self.s1.with_user(self.school_admin).write({"compulsory_from_week": 4})
        with self.assertRaises(AccessError):
            self.s2.with_user(self.school_admin).write({"compulsory_from_week": 4})
        # every role may read the authorities and the reference data
        for user in (self.teacher, self.district, self.city):
            self.office_d.with_user(user).read(["name"])
            self.math.with_user(user).read(["name"])

    def test_outsiders_have_no_access(self):
        outsider = self.env["res.users"].create(
            {"name": "Outsider", "login": "t.outsider", "groups_id": [Command.set(self.env.ref("base.group_user").ids)]}
        )
        for model in ("hscm.dossier", "hscm.staff", "hscm.school"):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(outsider).search([])
