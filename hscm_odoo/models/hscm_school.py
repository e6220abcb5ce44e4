from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import school_calendar

LEVELS = [
    ("th", "Primary (Tiểu học)"),
    ("thcs", "Lower secondary (THCS)"),
    ("thpt", "Upper secondary (THPT)"),
    ("multi", "Multi-level (Liên cấp)"),
]


class HscmSchool(models.Model):
    """A school. Its own model rather than a ``res.company``: see
    ``docs/decisions/0001-schools-are-not-companies.md``. A school may still
    point at the company that keeps its books and assets."""

    _name = "hscm.school"
    _description = "School"
    _inherit = ["mail.thread"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(required=True, index=True, tracking=True)
    level = fields.Selection(LEVELS, required=True, default="thcs", tracking=True)
    office_id = fields.Many2one(
        "hscm.authority",
        string="Intermediate office",
        domain=[("kind", "in", ("district_office", "ward_office"))],
        index=True,
        ondelete="restrict",
        tracking=True,
        help="The district Phòng GDĐT or ward office over the school; empty "
        "when the school reports straight to the Sở.",
    )
    authority_id = fields.Many2one(
        "hscm.authority",
        string="Department of Education",
        domain=[("kind", "=", "department")],
        compute="_compute_authority_id",
        store=True,
        readonly=False,
        index=True,
        ondelete="restrict",
        tracking=True,
    )
    reports_to_id = fields.Many2one(
        "hscm.authority",
        string="Reports to",
        compute="_compute_reports_to_id",
        store=True,
        help="THPT and multi-level schools report to the Sở; primary and lower "
        "secondary schools to their intermediate office when they have one.",
    )
    company_id = fields.Many2one(
        "res.company",
        string="Accounting company",
        ondelete="set null",
        help="The company that keeps this school's books and fixed assets, if "
        "the school's accountant works in this database.",
    )
    compulsory_from_week = fields.Integer(
        string="Compulsory from week",
        default=1,
        required=True,
        help="Teaching week (e.g. week 4) from which electronic records are "
        "compulsory. Records of the weeks before it are filed for the record only.",
    )
    # Reminders and escalation (one digest per person per day), the school's own rules
    reminders_enabled = fields.Boolean(string="Send reminders", default=True)
    remind_before_hours = fields.Integer(string="Remind teachers (hours before a deadline)", default=24)
    escalate_to_head_after_hours = fields.Integer(
        string="Tell the head (hours after a missed deadline)", default=0)
    escalate_pending_after_hours = fields.Integer(
        string="Tell the vice principal (hours an approval waits)", default=48)
    reminder_hour = fields.Integer(string="Send at (hour, Vietnam time)", default=7)
    staff_ids = fields.One2many("hscm.staff", "school_id", string="Staff")
    department_ids = fields.One2many("hscm.school.department", "school_id", string="Departments")
    class_ids = fields.One2many("hscm.school.class", "school_id", string="Classes")
    staff_count = fields.Integer(string="Number of staff", compute="_compute_staff_count")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_uniq", "unique(code)", "The school code must be unique."),
        (
            "compulsory_week_range",
            "CHECK(compulsory_from_week BETWEEN 1 AND 35)",
            "The week from which records are compulsory must be between 1 and 35.",
        ),
    ]

    @api.depends("office_id", "office_id.parent_id")
    def _compute_authority_id(self):
        for school in self:
            if school.office_id:
                school.authority_id = school.office_id.parent_id

    @api.depends("level", "office_id", "authority_id")
    def _compute_reports_to_id(self):
        for school in self:
            if school.level in ("thpt", "multi") or not school.office_id:
                school.reports_to_id = school.authority_id
            else:
                school.reports_to_id = school.office_id

    def _compute_staff_count(self):
        counts = dict(
            self.env["hscm.staff"]._read_group(
                [("school_id", "in", self.ids)], ["school_id"], ["__count"]
            )
        )
        for school in self:
            school.staff_count = counts.get(school, 0)

    @api.constrains("office_id", "authority_id")
    def _check_office_in_department(self):
        for school in self:
            if not school.authority_id:
                raise ValidationError(
                    self.env._("The school %(name)s must belong to a Department of Education (Sở).", name=school.name)
                )
            if school.office_id and school.office_id.parent_id != school.authority_id:
                raise ValidationError(
                    self.env._(
                        "The office %(office)s does not belong to %(department)s.",
                        office=school.office_id.name,
                        department=school.authority_id.name,
                    )
                )

    def _staff_holding(self, code):
        """Active staff of this school who hold the position ``code``."""
        self.ensure_one()
        return self.env["hscm.staff"].search([("school_id", "=", self.id), ("position_ids.code", "=", code)])

    # ------------------------------------------------------------------
    # Calendar
    # ------------------------------------------------------------------
    def _get_school_year(self, value):
        """The school year of this school's Sở that contains ``value``."""
        self.ensure_one()
        day = school_calendar.local_date(value)
        return self.env["hscm.school.year"]._find_for(self.authority_id, day)

    def get_teaching_week(self, value=None):
        """Answer, for a date or datetime (default: now), the teaching week.

        Dates are read in Asia/Ho_Chi_Minh, never the server's UTC date.
        Returns a dict ``{'school_year_id', 'week', 'start', 'end',
        'semester', 'compulsory'}`` or ``False`` outside any teaching week.
        """
        self.ensure_one()
        value = value or fields.Datetime.now()
        year = self._get_school_year(value)
        if not year:
            return False
        week = school_calendar.week_of(value, year._teaching_weeks())
        if not week:
            return False
        return {
            "school_year_id": year.id,
            "week": week.number,
            "start": week.start,
            "end": week.end,
            "semester": school_calendar.semester_of(week.number, year.first_semester_weeks),
            "compulsory": week.number >= self.compulsory_from_week,
        }
