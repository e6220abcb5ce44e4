from odoo import fields, models


class HscmProgressRollupMixin(models.AbstractModel):
    """A table summed up from ``hscm.progress.summary`` at each rebuild (per
    school, office or subject and week): the counts, the school year, the
    Sở and the teaching week of each row."""

    _name = "hscm.progress.rollup.mixin"
    _description = "Progress rolled up from the summary"
    _inherit = ["hscm.progress.counts.mixin"]

    school_year_id = fields.Many2one("hscm.school.year", required=True, ondelete="cascade")
    authority_id = fields.Many2one("hscm.authority", string="Department of Education", ondelete="cascade")
    week = fields.Integer(string="Teaching week", required=True, aggregator=None)
