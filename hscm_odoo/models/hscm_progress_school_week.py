from odoo import fields, models


class HscmProgressSchoolWeek(models.Model):
    """Pre-aggregated progress per school and teaching week, every type and
    subject together: ``hscm.progress.summary`` summed up, for the office and
    city roll-ups (1,000 schools × 35 weeks is 35,000 rows to read, not
    millions). Rebuilt with the summary. Sở subject specialists do not read
    it: their view is per subject, from the summary."""

    _name = "hscm.progress.school.week"
    _description = "Progress per school and week (pre-aggregated)"
    _inherit = ["hscm.progress.rollup.mixin"]
    _order = "school_year_id desc, school_id, week"
    _log_access = False  # rebuilt wholesale with hscm.progress.summary

    # read through one composite index (init): one year, some weeks, then the rules' filters
    school_id = fields.Many2one("hscm.school", required=True, index=True, ondelete="cascade")
    reports_to_id = fields.Many2one("hscm.authority", string="Reports to", ondelete="cascade")

    _sql_constraints = [
        ("one_row", "UNIQUE(school_year_id, school_id, week)", "One row per school and week."),
    ]

    def init(self):
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS hscm_progress_school_week_year_week_index
                ON hscm_progress_school_week (school_year_id, week, school_id)
        """)
