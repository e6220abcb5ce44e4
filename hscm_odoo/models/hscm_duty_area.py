from odoo import fields, models


class HscmDutyArea(models.Model):
    """An area a vice principal is in charge of (professional records, facilities…)."""

    _name = "hscm.duty.area"
    _description = "Area of responsibility"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_uniq", "unique(code)", "The area code must be unique."),
    ]
