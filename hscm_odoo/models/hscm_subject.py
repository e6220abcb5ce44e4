from odoo import fields, models


class HscmSubject(models.Model):
    """A school subject (môn học), e.g. Toán, Ngữ văn, KHTN."""

    _name = "hscm.subject"
    _description = "Subject"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, index=True)
    sequence = fields.Integer(default=10)
    specialist_user_ids = fields.Many2many(
        "res.users",
        "hscm_subject_specialist_rel",
        "subject_id",
        "user_id",
        string="Sở specialists",
        help="Subject specialists of the Sở who inspect this subject city-wide.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_uniq", "unique(code)", "The subject code must be unique."),
    ]
