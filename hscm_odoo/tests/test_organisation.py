from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from .common import HscmCase


@tagged("post_install", "-at_install")
class TestOrganisation(HscmCase, TransactionCase):
    def test_reporting_line(self):
        self.assertEqual(self.s1.authority_id, self.sgd_a, "the Sở comes from the office")
        self.assertEqual(self.s1.reports_to_id, self.office_d)
        self.assertEqual(self.s3.reports_to_id, self.sgd_a, "THPT reports to the Sở")
        no_office = self.env["hscm.school"].create(
            {"name": "TH X", "code": "T-X", "level": "th", "authority_id": self.sgd_a.id}
        )
        self.assertEqual(no_office.reports_to_id, self.sgd_a, "without an office, the Sở")
        self.s2.level = "multi"
        self.assertEqual(self.s2.reports_to_id, self.sgd_a)

    def test_office_must_belong_to_the_schools_sgd(self):
        with self.assertRaises(ValidationError):
            self.s1.write({"office_id": self.office_b.id, "authority_id": self.sgd_a.id})
        with self.assertRaises(ValidationError):
            self.env["hscm.authority"].create({"name": "Lost", "code": "T-LOST", "kind": "ward_office"})
        with self.assertRaises(ValidationError):
            self.env["hscm.school"].create({"name": "Nowhere", "code": "T-NOWHERE"})

    def test_staff_structure_stays_inside_the_school(self):
        with self.assertRaises(ValidationError):
            self.staff["teacher"].school_department_id = self.k_s2
        with self.assertRaises(ValidationError):
            self.k1.head_id = self.staff["teacher2"]

    def test_positions_give_the_account_its_groups(self):
        user = self.teacher
        teacher = self.env.ref("hscm_odoo.group_teacher")
        leader = self.env.ref("hscm_odoo.group_school_leader")
        self.assertTrue(user.share, "teachers work through the portal")
        self.assertIn(teacher, user.groups_id)
        self.assertNotIn(leader, user.groups_id)
        # promoted to vice principal: back-office user with the leadership group
        self.staff["teacher"].position_ids = [Command.link(self.pos["vice_principal"].id)]
        self.assertFalse(user.share)
        self.assertIn(leader, user.groups_id)
        # back to teaching only: portal again, leadership gone
        self.staff["teacher"].position_ids = [Command.unlink(self.pos["vice_principal"].id)]
        self.assertTrue(user.share)
        self.assertNotIn(leader, user.groups_id)
        # staff record archived (transfer): the account loses its school role
        self.staff["teacher"].active = False
        self.assertNotIn(teacher, user.groups_id)

    def test_office_accounts_keep_their_groups(self):
        inspector = self.env.ref("hscm_odoo.group_office_inspector")
        self.district._hscm_sync_groups()
        self.assertIn(inspector, self.district.groups_id)
        with self.assertRaises(ValidationError):
            self.env["hscm.staff"].create(
                {"name": "Office person", "user_id": self.district.id, "school_id": self.s1.id}
            )

    def test_positions_only_grant_school_roles(self):
        with self.assertRaises(ValidationError):
            self.pos["teacher"].group_id = self.env.ref("hscm_odoo.group_manager")
        with self.assertRaises(ValidationError):
            self.pos["teacher"].group_id = self.env.ref("base.group_system")
