from odoo import fields, models

OWNER_LEVELS = [
    ("school", "School (BGH)"),
    ("department", "Department (tổ)"),
    ("group", "Subject group (nhóm)"),
    ("teacher", "Teacher"),
    ("class", "Class"),
    ("office", "Office team"),
]

SUBMITTERS = [
    ("owner", "The owner themself"),
    ("appointed", "The teacher the department head appoints (shared subjects)"),
    ("group_leader", "The subject group leader"),
    ("department_head", "The department head"),
    ("leadership", "The school leadership"),
    ("clerk", "The clerk or office team"),
]


class HscmDossierType(models.Model):
    """A kind of professional record (*đầu sổ*): lesson plan, teacher's
    education plan, department plan… Policy is data: a school configures
    types, it does not change code. The tunable rules (deadline, file policy,
    look-ahead, signing) come from ``hscm.dossier.policy.mixin``."""

    _name = "hscm.dossier.type"
    _description = "Dossier type"
    _inherit = ["hscm.dossier.policy.mixin"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, index=True)
    sequence = fields.Integer(default=10)
    owner_level = fields.Selection(OWNER_LEVELS, string="Submitted by", required=True, default="teacher")
    submitter = fields.Selection(
        SUBMITTERS, string="Who uploads", required=True, default="owner",
        help="Who may upload and submit records of this type (FR-04).",
    )
    needs_subject = fields.Boolean(
        string="Concerns one subject",
        help="Records of this type concern one subject (lesson plans, teacher plans).",
    )
    needs_classes = fields.Boolean(string="Concerns classes", help="Lesson plans name the classes they are for.")
    needs_lesson = fields.Boolean(string="Names a lesson", help="Lesson title and number are required.")
    level_th = fields.Boolean(string="Primary", default=True)
    level_thcs = fields.Boolean(string="Lower secondary", default=True)
    level_thpt = fields.Boolean(string="Upper secondary", default=True)
    level_multi = fields.Boolean(string="Multi-level", default=True)
    approval_template_id = fields.Many2one(
        "hscm.approval.template", string="Approval chain", required=True, ondelete="restrict"
    )
    forward_to_superior = fields.Boolean(
        string="Forward when approved",
        help="Once approved, send the record to the office the school reports to "
        "(the Phòng for TH/THCS, the Sở for THPT), FR-34.",
    )
    retention_years = fields.Integer(
        string="Retention (years)", default=5, help="0 means kept permanently (Circular 27/2016)."
    )
    school_may_override = fields.Boolean(
        string="Schools may override", default=True,
        help="A school may set its own deadline, file policy and look-ahead for this type.",
    )
    override_ids = fields.One2many("hscm.dossier.type.override", "type_id", string="Overrides")
    track_owed = fields.Boolean(
        string="Track what is owed", default=True,
        help="Dashboards count, for every period of the deadline rule, one record owed by each owner of the "
        "type's level (each department, each class…). Off for records nobody owes on a schedule (extra classes).",
    )
    owed_by_position_id = fields.Many2one(
        "hscm.position", string="Owed by holders of",
        help="Teacher-level records: only the staff holding this position owe it (the homeroom book: homeroom "
        "teachers). Empty: every teacher with a teaching assignment.",
    )
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_uniq", "unique(code)", "The dossier type code must be unique."),
        ("retention_positive", "CHECK(retention_years >= 0)", "The retention cannot be negative."),
    ]

    def _applies_to(self, school):
        self.ensure_one()
        return bool(self[f"level_{school.level}"])

    def _policy_for(self, school):
        """The policy that governs this type in ``school``: the school's own
        override, else its Sở's, else the type itself.

        One indexed search, not ``override_ids``: a type of a city of 1,000
        schools has up to 1,000 overrides, and this runs on every upload."""
        self.ensure_one()
        scope = [("school_id", "=", False), ("authority_id", "=", school.authority_id.id)]
        if self.school_may_override:
            scope = ["|", ("school_id", "=", school.id), "&", *scope]
        overrides = self.env["hscm.dossier.type.override"].search(
            [("type_id", "=", self.id), ("active", "=", True), *scope], limit=2)
        return overrides.filtered("school_id")[:1] or overrides[:1] or self

    def _policies_for(self, schools):
        """``{school id: policy}`` for many schools at once (the dashboards'
        rebuild): the same answer as :meth:`_policy_for`, in one search."""
        self.ensure_one()
        overrides = self.env["hscm.dossier.type.override"].search(
            [("type_id", "=", self.id), ("active", "=", True),
             "|", ("school_id", "in", schools.ids), ("authority_id", "in", schools.authority_id.ids)])
        by_school = {o.school_id.id: o for o in overrides if o.school_id} if self.school_may_override else {}
        by_authority = {}
        for override in overrides.filtered(lambda o: not o.school_id).sorted("id"):
            by_authority.setdefault(override.authority_id.id, override)
        return {school.id: by_school.get(school.id) or by_authority.get(school.authority_id.id) or self
                for school in schools}
