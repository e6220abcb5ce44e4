from odoo import api, fields, models
from odoo.exceptions import ValidationError

STATES = [
    ("draft", "Draft"),
    ("submitted", "Submitted"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("cancelled", "Cancelled"),
]


class HscmDossier(models.Model):
    """A professional record (*hồ sơ*) submitted by a teacher, a department
    or the school leadership.

    The organisational fields (school, office, Sở, department, group,
    subject) are stored on the dossier itself so the record rules that
    implement the role matrix compare plain columns, which stays fast with
    millions of dossiers.
    """

    _name = "hscm.dossier"
    _description = "Professional record (hồ sơ chuyên môn)"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/", index="trigram"
    )
    title = fields.Char(required=True, tracking=True)
    type_id = fields.Many2one("hscm.dossier.type", string="Type", required=True, index=True, ondelete="restrict")
    owner_id = fields.Many2one(
        "res.users",
        string="Owner",
        required=True,
        index=True,
        default=lambda self: self.env.user,
        ondelete="restrict",
    )
    staff_id = fields.Many2one(
        "hscm.staff",
        string="Staff member",
        compute="_compute_staff_id",
        store=True,
        readonly=False,
        index=True,
        ondelete="restrict",
    )
    school_id = fields.Many2one(
        "hscm.school",
        compute="_compute_from_staff",
        store=True,
        readonly=False,
        index=True,
        ondelete="restrict",
    )
    school_department_id = fields.Many2one(
        "hscm.school.department",
        string="Department",
        compute="_compute_from_staff",
        store=True,
        readonly=False,
        index=True,
        ondelete="restrict",
    )
    subject_group_id = fields.Many2one(
        "hscm.subject.group",
        string="Subject group",
        compute="_compute_from_staff",
        store=True,
        readonly=False,
        index=True,
        ondelete="restrict",
    )
    office_id = fields.Many2one(related="school_id.office_id", store=True, index=True)
    authority_id = fields.Many2one(related="school_id.authority_id", store=True, index=True)
    subject_id = fields.Many2one("hscm.subject", index=True, ondelete="restrict")
    school_year_id = fields.Many2one("hscm.school.year", string="School year", index=True, ondelete="restrict")
    week_number = fields.Integer(string="Teaching week", index=True)
    state = fields.Selection(STATES, string="Status", default="draft", required=True, tracking=True, copy=False, index=True)

    @api.depends("owner_id")
    def _compute_staff_id(self):
        for dossier in self:
            if not dossier.staff_id or dossier.staff_id.user_id != dossier.owner_id:
                # Sudoed: the owner's staff record may be outside what the
                # current user can read (an integrator creating on behalf of
                # someone); only the id is taken, the rules still guard the dossier.
                staff = dossier.owner_id.sudo().hscm_staff_ids.filtered("active")  # ids only
                dossier.staff_id = staff[:1].id

    @api.depends("staff_id")
    def _compute_from_staff(self):
        for dossier in self:
            staff = dossier.staff_id.sudo()  # only ids are copied; see _compute_staff_id
            if staff:
                dossier.school_id = staff.school_id.id
                dossier.school_department_id = staff.school_department_id.id
                dossier.subject_group_id = staff.subject_group_id.id

    @api.constrains("school_id")
    def _check_school(self):
        for dossier in self:
            if not dossier.school_id:
                raise ValidationError(
                    self.env._(
                        "%(owner)s has no staff record in a school: a record needs its school.",
                        owner=dossier.owner_id.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                sequence = self.env["ir.sequence"].sudo()  # teachers may not read sequences
                vals["name"] = sequence.next_by_code("hscm.dossier") or "/"
        return super().create(vals_list)
