from odoo import api, fields, models
from odoo.exceptions import ValidationError

SCHOOL_ROLE_GROUPS = (
    "hscm_odoo.group_teacher",
    "hscm_odoo.group_department_manager",
    "hscm_odoo.group_school_leader",
    "hscm_odoo.group_school_admin",
)


class HscmPosition(models.Model):
    """A position a staff member holds in a school, and the rights it brings.

    The rights are data: each position names the access group its holders
    get, so a school changes who may do what by editing records, not code.
    """

    _name = "hscm.position"
    _description = "Staff position"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, index=True)
    sequence = fields.Integer(default=10)
    group_id = fields.Many2one(
        "res.groups",
        string="Access group",
        ondelete="restrict",
        help="Holders of this position are put in this group.",
    )
    is_leadership = fields.Boolean(
        string="School leadership (BGH)",
        help="Principal and vice principals: they see the whole school.",
    )
    is_school_admin = fields.Boolean(
        string="School administrator",
        help="Manages the school's staff, departments and accounts.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_uniq", "unique(code)", "The position code must be unique."),
    ]

    @api.constrains("group_id")
    def _check_group_is_school_role(self):
        allowed = self._school_role_groups()
        for position in self:
            if position.group_id and position.group_id not in allowed:
                raise ValidationError(
                    self.env._(
                        "A position may only grant a school role (teacher, department "
                        "manager, leadership, school administrator), not %(group)s.",
                        group=position.group_id.display_name,
                    )
                )

    @api.model
    def _school_role_groups(self):
        return self.env["res.groups"].browse(
            [
                self.env["ir.model.data"]._xmlid_to_res_id(xmlid)
                for xmlid in SCHOOL_ROLE_GROUPS
            ]
        ).exists()
