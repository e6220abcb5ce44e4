from odoo import fields, models


class HscmSchoolYearBreak(models.Model):
    """A holiday or break inside a school year (Tết, mid-year break…)."""

    _name = "hscm.school.year.break"
    _description = "School holiday or break"
    _order = "date_from"

    name = fields.Char(required=True)
    school_year_id = fields.Many2one("hscm.school.year", required=True, index=True, ondelete="cascade")
    date_from = fields.Date(string="From", required=True)
    date_to = fields.Date(string="To", required=True)

    _sql_constraints = [
        ("dates_order", "CHECK(date_to >= date_from)", "A break must end on or after its first day."),
    ]
