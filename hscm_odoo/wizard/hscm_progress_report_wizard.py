from odoo import api, fields, models


class HscmProgressReportWizard(models.TransientModel):
    """Asks for the school, the department (optional) and the week or month,
    then prints the progress report (FR-52). The figures are computed when
    the PDF is rendered, with the user's rights."""

    _name = "hscm.progress.report.wizard"
    _description = "Print a progress report"

    school_id = fields.Many2one("hscm.school", required=True, default=lambda self: self._default_school())
    department_id = fields.Many2one("hscm.school.department", string="Department",
                                    domain="[('school_id', '=', school_id)]",
                                    help="Leave empty for the whole school.")
    school_year_id = fields.Many2one("hscm.school.year", string="School year", required=True,
                                     default=lambda self: self._default_year())
    period = fields.Selection([("week", "Week"), ("month", "Month")], required=True, default="week")
    week = fields.Integer(string="Teaching week", default=lambda self: self._default_week())
    month = fields.Date(help="Any day of the month.", default=fields.Date.context_today)

    @api.model
    def _default_school(self):
        return self.env.user._hscm_school()

    @api.model
    def _default_year(self):
        return self.env.user._hscm_school_year()

    @api.model
    def _default_week(self):
        """The current teaching week (the facts of a week are known once it has started)."""
        return self.env.user._hscm_teaching_week()

    def _report_data(self):
        self.ensure_one()
        return {
            "school_id": self.school_id.id, "department_id": self.department_id.id or False,
            "school_year_id": self.school_year_id.id, "kind": self.period,
            "week": self.week if self.period == "week" else False,
            "month": fields.Date.to_string(self.month) if self.period == "month" else False,
        }

    def action_print(self):
        data = self._report_data()
        # checked now, so a wrong period is told in the wizard, not in a broken PDF
        self.env["hscm.oversight.report"]._progress_values(**data)
        return self.env.ref("hscm_odoo.action_report_progress").report_action(self, data=data)
