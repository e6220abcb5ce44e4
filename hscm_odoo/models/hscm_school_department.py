from odoo import api, fields, models
from odoo.exceptions import ValidationError


class HscmSchoolDepartment(models.Model):
    """A department inside a school: a professional department (*tổ chuyên
    môn*, made of subject groups) or the office team (*tổ văn phòng*)."""

    _name = "hscm.school.department"
    _description = "School department (tổ)"
    _order = "school_id, sequence, name"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(
        [("professional", "Professional department (tổ chuyên môn)"), ("office", "Office team (tổ văn phòng)")],
        required=True,
        default="professional",
    )
    school_id = fields.Many2one("hscm.school", required=True, index=True, ondelete="cascade")
    head_id = fields.Many2one(
        "hscm.staff",
        string="Head (Tổ trưởng)",
        domain="[('school_id', '=', school_id)]",
        index=True,
        ondelete="set null",
    )
    deputy_ids = fields.Many2many(
        "hscm.staff",
        "hscm_school_department_deputy_rel",
        "department_id",
        "staff_id",
        string="Deputies (Tổ phó)",
        domain="[('school_id', '=', school_id)]",
    )
    group_ids = fields.One2many("hscm.subject.group", "department_id", string="Subject groups")
    member_ids = fields.One2many("hscm.staff", "school_department_id", string="Members")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("name_school_uniq", "unique(school_id, name)", "A school cannot have two departments with the same name."),
    ]

    @api.constrains("head_id", "deputy_ids", "school_id")
    def _check_managers_in_school(self):
        for department in self:
            managers = department.head_id | department.deputy_ids
            if managers.filtered(lambda s: s.school_id != department.school_id):
                raise ValidationError(
                    self.env._("The head and deputies of %(name)s must work in its school.", name=department.name)
                )
