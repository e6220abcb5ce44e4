from odoo import fields, models


class HscmProgressOfficeWeek(models.Model):
    """Pre-aggregated progress per office (the Phòng GDĐT, ward office or Sở a
    school reports to) and teaching week: ``hscm.progress.school.week``
    summed up once more, for the Sở leaders' "offices × weeks" roll-up (a
    city's 31 offices × 35 weeks are 1,085 rows, where its schools are
    35,000). Rebuilt with the summary."""

    _name = "hscm.progress.office.week"
    _description = "Progress per office and week (pre-aggregated)"
    _inherit = ["hscm.progress.rollup.mixin"]
    _order = "school_year_id desc, reports_to_id, week"
    _log_access = False  # rebuilt wholesale with hscm.progress.summary

    reports_to_id = fields.Many2one("hscm.authority", string="Reports to", ondelete="cascade")

    def init(self):
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS hscm_progress_office_week_year_week_index
                ON hscm_progress_office_week (school_year_id, week)
        """)
