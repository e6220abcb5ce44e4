from odoo import api, fields, models
from odoo.exceptions import ValidationError


class HscmStaff(models.Model):
    """A member of a school's staff, with the positions they hold.

    The account (``user_id``) is optional: a staff record exists before its
    account is issued and stays after the account is revoked. The access
    groups of the account follow the positions (see ``res.users``).
    """

    _name = "hscm.staff"
    _description = "School staff member"
    _inherit = ["mail.thread"]
    _order = "school_id, name"

    name = fields.Char(required=True, tracking=True)
    user_id = fields.Many2one(
        "res.users",
        string="Account",
        index=True,
        ondelete="restrict",
        tracking=True,
        context={"active_test": False},
    )
    school_id = fields.Many2one(
        "hscm.school", required=True, index=True, ondelete="restrict", tracking=True
    )
    school_department_id = fields.Many2one(
        "hscm.school.department",
        string="Department",
        domain="[('school_id', '=', school_id)]",
        index=True,
        ondelete="set null",
        tracking=True,
    )
    subject_group_id = fields.Many2one(
        "hscm.subject.group",
        string="Subject group",
        domain="[('department_id', '=', school_department_id)]",
        index=True,
        ondelete="set null",
    )
    position_ids = fields.Many2many("hscm.position", string="Positions", tracking=True)
    duty_area_ids = fields.Many2many(
        "hscm.duty.area",
        string="In charge of",
        help="For vice principals: the areas they are in charge of.",
    )
    subject_ids = fields.Many2many("hscm.subject", string="Subjects taught")
    class_ids = fields.Many2many(
        "hscm.school.class",
        string="Classes taught",
        domain="[('school_id', '=', school_id)]",
    )
    homeroom_class_ids = fields.One2many(
        "hscm.school.class", "homeroom_teacher_id", string="Homeroom classes"
    )
    is_leader = fields.Boolean(
        string="School leadership",
        compute="_compute_position_flags",
        store=True,
        index=True,
    )
    is_school_admin = fields.Boolean(string="School administrator", compute="_compute_position_flags", store=True, index=True)
    active = fields.Boolean(default=True, tracking=True)

    _sql_constraints = [
        (
            "user_school_uniq",
            "unique(user_id, school_id)",
            "An account has at most one staff record per school.",
        ),
    ]

    @api.depends("position_ids.is_leadership", "position_ids.is_school_admin")
    def _compute_position_flags(self):
        for staff in self:
            staff.is_leader = any(staff.position_ids.mapped("is_leadership"))
            staff.is_school_admin = any(staff.position_ids.mapped("is_school_admin"))

    @api.constrains("school_id", "school_department_id", "subject_group_id", "class_ids")
    def _check_same_school(self):
        for staff in self:
            wrong = (
                (staff.school_department_id and staff.school_department_id.school_id != staff.school_id)
                or (staff.subject_group_id and staff.subject_group_id.school_id != staff.school_id)
                or staff.class_ids.filtered(lambda c: c.school_id != staff.school_id)
            )
            if wrong:
                raise ValidationError(
                    self.env._(
                        "The department, group and classes of %(name)s must belong to %(school)s.",
                        name=staff.name,
                        school=staff.school_id.name,
                    )
                )

    @api.constrains("user_id")
    def _check_user_not_office_account(self):
        for staff in self:
            if staff.user_id.hscm_authority_id:
                raise ValidationError(
                    self.env._(
                        "%(login)s is an account of %(office)s; a school staff record needs its own account.",
                        login=staff.user_id.login,
                        office=staff.user_id.hscm_authority_id.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        staff = super().create(vals_list)
        staff.user_id._hscm_sync_groups()
        return staff

    def write(self, vals):
        users_before = self.user_id
        result = super().write(vals)
        if {"user_id", "position_ids", "active", "school_id"} & set(vals):
            (users_before | self.user_id)._hscm_sync_groups()
        return result
