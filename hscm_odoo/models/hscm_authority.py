from odoo import api, fields, models
from odoo.exceptions import ValidationError


class HscmAuthority(models.Model):
    """An education authority above the schools.

    Either the city/provincial Department of Education (*Sở GDĐT*) or an
    intermediate office: the district education office (*Phòng GDĐT*, before
    the 2025 reform) or the ward/commune office that took its place (*Phòng
    Văn hóa – Xã hội*). An intermediate office belongs to one Sở.
    """

    _name = "hscm.authority"
    _description = "Education authority (Sở / Phòng)"
    _order = "kind, name"

    name = fields.Char(required=True, translate=False)
    code = fields.Char(required=True, index=True)
    kind = fields.Selection(
        [
            ("department", "Department of Education (Sở GDĐT)"),
            ("district_office", "District education office (Phòng GDĐT)"),
            ("ward_office", "Ward/commune office (Phòng VH-XH)"),
        ],
        required=True,
        default="district_office",
    )
    parent_id = fields.Many2one(
        "hscm.authority",
        string="Department of Education",
        domain=[("kind", "=", "department")],
        index=True,
        ondelete="restrict",
        help="The Sở an intermediate office reports to.",
    )
    department_id = fields.Many2one(
        "hscm.authority",
        string="Sở (scope)",
        compute="_compute_department_id",
        store=True,
        index=True,
        recursive=True,
        help="The Sở itself, or the Sở of an intermediate office.",
    )
    child_ids = fields.One2many("hscm.authority", "parent_id", string="Intermediate offices")
    school_ids = fields.One2many("hscm.school", "authority_id", string="Schools of the Sở")
    user_ids = fields.One2many(
        "res.users", "hscm_authority_id", string="Accounts", context={"active_test": False}
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_uniq", "unique(code)", "The authority code must be unique."),
    ]

    @api.depends("kind", "parent_id", "parent_id.department_id")
    def _compute_department_id(self):
        for authority in self:
            if authority.kind == "department":
                authority.department_id = authority
            else:
                authority.department_id = authority.parent_id

    @api.constrains("kind", "parent_id")
    def _check_parent(self):
        for authority in self:
            if authority.kind == "department" and authority.parent_id:
                raise ValidationError(
                    self.env._("A Department of Education (Sở) has no parent authority.")
                )
            if authority.kind != "department" and not authority.parent_id:
                raise ValidationError(
                    self.env._(
                        "The office %(name)s must belong to a Department of Education (Sở).",
                        name=authority.name,
                    )
                )
