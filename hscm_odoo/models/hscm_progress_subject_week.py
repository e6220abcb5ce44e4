from odoo import fields, models


class HscmProgressSubjectWeek(models.Model):
    """Pre-aggregated progress per Sở, subject and teaching week, every school
    together: ``hscm.progress.summary`` summed up, for the Sở subject
    specialists' "subjects × weeks" roll-up (a subject's 35 rows, where the
    summary holds a city's 35,000 or more). Rebuilt with the summary."""

    _name = "hscm.progress.subject.week"
    _description = "Progress per subject and week (pre-aggregated)"
    _inherit = ["hscm.progress.rollup.mixin"]
    _order = "school_year_id desc, subject_id, week"
    _log_access = False  # rebuilt wholesale with hscm.progress.summary

    subject_id = fields.Many2one("hscm.subject", ondelete="cascade")

    def init(self):
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS hscm_progress_subject_week_year_week_index
                ON hscm_progress_subject_week (school_year_id, week)
        """)
