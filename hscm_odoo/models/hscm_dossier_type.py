from odoo import fields, models

OWNER_LEVELS = [
    ("school", "School (BGH)"),
    ("department", "Department (tổ)"),
    ("group", "Subject group (nhóm)"),
    ("teacher", "Teacher"),
    ("class", "Class"),
    ("office", "Office team"),
]


class HscmDossierType(models.Model):
    """A kind of professional record (*đầu sổ*): lesson plan, teacher's
    education plan, department plan… Policy is data: a school configures
    types, it does not change code."""

    _name = "hscm.dossier.type"
    _description = "Dossier type"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, index=True)
    sequence = fields.Integer(default=10)
    owner_level = fields.Selection(OWNER_LEVELS, string="Submitted by", required=True, default="teacher")
    needs_subject = fields.Boolean(
        string="Concerns one subject",
        help="Records of this type concern one subject (lesson plans, teacher plans)."
    )
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_uniq", "unique(code)", "The dossier type code must be unique."),
    ]
