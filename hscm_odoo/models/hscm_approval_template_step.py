from odoo import fields, models

APPROVER_ROLES = [
    ("group_leader", "Subject group leader (nhóm trưởng)"),
    ("department_head", "Department head (tổ trưởng), or the deputy by delegation"),
    ("vice_principal", "Vice principal in charge of professional records"),
    ("principal", "Principal, or a vice principal by delegation"),
]


class HscmApprovalTemplateStep(models.Model):
    _name = "hscm.approval.template.step"
    _description = "Approval chain step"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one("hscm.approval.template", required=True, index=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    role = fields.Selection(APPROVER_ROLES, required=True)
    required = fields.Boolean(
        default=True, help="A required level can be neither removed nor skipped by the submitter."
    )
