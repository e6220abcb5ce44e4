from odoo import api, fields, models
from odoo.exceptions import ValidationError


class HscmSubjectGroup(models.Model):
    """A subject group (*nhóm chuyên môn*) inside a professional department."""

    _name = "hscm.subject.group"
    _description = "Subject group (nhóm)"
    _order = "department_id, name"

    name = fields.Char(required=True)
    department_id = fields.Many2one(
        "hscm.school.department", string="Department", required=True, index=True, ondelete="cascade"
    )
    school_id = fields.Many2one(related="department_id.school_id", store=True, index=True)
    leader_id = fields.Many2one(
        "hscm.staff",
        string="Group leader (Nhóm trưởng)",
        domain="[('school_id', '=', school_id)]",
        index=True,
        ondelete="set null",
    )
    subject_ids = fields.Many2many("hscm.subject", string="Subjects")
    member_ids = fields.One2many("hscm.staff", "subject_group_id", string="Members")
    active = fields.Boolean(default=True)

    @api.constrains("leader_id", "department_id")
    def _check_leader_in_school(self):
        for group in self:
            if group.leader_id and group.leader_id.school_id != group.school_id:
                raise ValidationError(
                    self.env._("The leader of %(name)s must work in its school.", name=group.name)
                )
