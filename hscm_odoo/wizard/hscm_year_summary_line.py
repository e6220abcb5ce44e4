from odoo import api, fields, models

from ..tools import oversight_reports as orp


class HscmYearSummaryLine(models.TransientModel):
    """One teacher's year in the year-end summary (see tools/oversight_reports.py)."""

    _name = "hscm.year.summary.line"
    _description = "Year-end summary of a teacher"
    _order = "department_id, staff_id"

    summary_id = fields.Many2one("hscm.year.summary", required=True, ondelete="cascade", index=True)
    school_year_id = fields.Many2one(related="summary_id.school_year_id")
    school_id = fields.Many2one(related="summary_id.school_id")
    staff_id = fields.Many2one("hscm.staff", string="Teacher", required=True, ondelete="cascade")
    department_id = fields.Many2one("hscm.school.department", string="Department", ondelete="cascade")
    owed = fields.Integer(string="Lesson plans owed")
    on_time = fields.Integer(string="Approved on time")
    late = fields.Integer(string="Approved late")
    pending = fields.Integer(string="Waiting for approval")
    rejected = fields.Integer(string="Rejected (now)")
    missing = fields.Integer()
    has_owed = fields.Boolean()
    on_time_pct = fields.Float(string="On time (%)", digits=(5, 1))
    on_time_text = fields.Char(string="On time", compute="_compute_on_time_text")
    rejections = fields.Integer(string="Times rejected", help="Rejection decisions on the teacher's lesson plans.")
    other_records = fields.Integer(help="Records other than lesson plans handed in during the year.")
    other_approved = fields.Integer(string="Other records approved")
    violations = fields.Integer(string="Violation records issued")

    @api.depends("on_time_pct", "has_owed")
    def _compute_on_time_text(self):
        for line in self:
            line.on_time_text = orp.format_percent(line.on_time_pct if line.has_owed else None)
