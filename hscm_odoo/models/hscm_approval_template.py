from odoo import fields, models


class HscmApprovalTemplate(models.Model):
    """An ordered approval chain a dossier type follows, resolved into people
    from the organisation when a dossier is submitted (FR-25, FR-26)."""

    _name = "hscm.approval.template"
    _description = "Approval chain template"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, index=True)
    step_ids = fields.One2many("hscm.approval.template.step", "template_id", string="Steps", copy=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_uniq", "unique(code)", "The approval chain code must be unique."),
    ]
