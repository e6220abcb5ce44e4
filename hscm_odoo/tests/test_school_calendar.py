import datetime as dt

from psycopg2.errors import CheckViolation

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import HscmCase


@tagged("post_install", "-at_install")
class TestSchoolCalendar(HscmCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.year = cls.env["hscm.school.year"].create(
            {
                "name": "2026-2027",
                "authority_id": cls.sgd_a.id,
                "date_start": "2026-09-07",
                "date_end": "2027-05-31",
                "break_ids": [
                    Command.create({"name": "Tết", "date_from": "2027-02-01", "date_to": "2027-02-13"}),
                ],
            }
        )

    def test_week_in_vietnam_time(self):
        # Monday 23 Nov 2026, 00:00-07:00 in Hà Nội is still Sunday in UTC
        sunday_late_utc = dt.datetime(2026, 11, 22, 17, 0)
        self.assertEqual(self.s1.get_teaching_week(sunday_late_utc)["week"], 12)
        self.assertEqual(self.s1.get_teaching_week(dt.datetime(2026, 11, 22, 16, 59))["week"], 11)
        self.assertEqual(self.s1.get_teaching_week(dt.date(2026, 11, 23))["week"], 12)

    def test_breaks_semesters_and_outside(self):
        self.assertFalse(self.s1.get_teaching_week(dt.date(2027, 2, 3)), "Tết is no teaching week")
        self.assertFalse(self.s1.get_teaching_week(dt.date(2026, 8, 31)), "before the year")
        info = self.s1.get_teaching_week(dt.date(2027, 2, 15))
        self.assertEqual(info["week"], 22)
        self.assertEqual(info["semester"], 2)
        self.assertEqual(info["school_year_id"], self.year.id)
        self.assertFalse(self.s4.get_teaching_week(dt.date(2026, 11, 23)), "Sở B has no calendar")

    def test_compulsory_week_per_school(self):
        self.s2.compulsory_from_week = 4
        self.assertFalse(self.s2.get_teaching_week(dt.date(2026, 9, 21))["compulsory"])  # week 3
        self.assertTrue(self.s2.get_teaching_week(dt.date(2026, 9, 28))["compulsory"])  # week 4
        self.assertTrue(self.s1.get_teaching_week(dt.date(2026, 9, 7))["compulsory"])  # week 1
        with self.assertRaises(CheckViolation), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.s2.compulsory_from_week = 36
                self.s2.flush_recordset()

    def test_frame_must_fit_and_years_must_not_overlap(self):
        with self.assertRaises(ValidationError):
            self.year.date_end = "2027-03-01"
        with self.assertRaises(ValidationError):
            self.env["hscm.school.year"].create(
                {"name": "overlap", "authority_id": self.sgd_a.id, "date_start": "2027-05-01", "date_end": "2028-05-01"}
            )

    def test_week_table_lists_the_weeks(self):
        self.assertIn("22/02/2027", self.year.week_table)
        self.assertEqual(self.year.week_table.count("<tr>"), 36)  # header + 35 weeks
