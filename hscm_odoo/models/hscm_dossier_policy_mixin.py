from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import deadlines

WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]

DEADLINE_RULES = [
    ("weekly_before", "Weekly: a weekday of the week before the teaching week"),
    ("yearly_date", "Yearly: a fixed date"),
    ("monthly_first_monday", "Monthly: Monday of the first week"),
    ("monthly_last_day", "Monthly: last day of the month"),
    ("monthly_week_end", "Monthly: end of week N of the month"),
    ("semester_end", "Per semester: end of the semester"),
    ("teaching_week_end", "End of teaching week N"),
    ("event_days", "Within N days after an event"),
    ("none", "No deadline (continuous updates)"),
]

# The policy fields a school may override (see hscm.dossier.type.override).
POLICY_FIELDS = (
    "deadline_rule",
    "deadline_weekday",
    "deadline_time",
    "deadline_day",
    "deadline_month",
    "deadline_week",
    "deadline_days",
    "allowed_formats",
    "max_size_mb",
    "max_pages",
    "file_unit",
    "lookahead_weeks",
    "signature_policy",
    "allow_reorder_signers",
    "allow_extra_signers",
    "seal_final_signature",
)


class HscmDossierPolicyMixin(models.AbstractModel):
    """The tunable rules of a dossier type: deadline, file policy, look-ahead
    cap and signing. A type carries the defaults; a Sở or a school overrides
    them with an ``hscm.dossier.type.override`` where the type allows it."""

    _name = "hscm.dossier.policy.mixin"
    _description = "Dossier policy"

    deadline_rule = fields.Selection(DEADLINE_RULES, required=True, default="weekly_before")
    deadline_weekday = fields.Selection(
        WEEKDAYS, string="Deadline weekday", default="5", help="For weekly records: the weekday of the week before."
    )
    deadline_time = fields.Float(string="Deadline time", default=23.99, help="Time of day, in Vietnam.")
    deadline_day = fields.Integer(string="Deadline day", default=10)
    deadline_month = fields.Integer(string="Deadline month", default=9)
    deadline_week = fields.Integer(string="Deadline week", default=1, help="Week of the month, or teaching week.")
    deadline_days = fields.Integer(string="Days after the event", default=2)
    allowed_formats = fields.Selection(
        [("pdf", "PDF only"), ("pdf_docx", "PDF or Word (.docx)")], required=True, default="pdf"
    )
    max_size_mb = fields.Integer(string="Largest file (MB)", default=20, required=True)
    max_pages = fields.Integer(string="Most pages", default=200, required=True)
    file_unit = fields.Selection(
        [
            ("lesson", "One lesson or topic per file"),
            ("week", "One teaching week per file"),
            ("document", "One document per file"),
        ],
        string="One file holds",
        required=True,
        default="document",
    )
    lookahead_weeks = fields.Integer(
        string="Look-ahead cap (teaching weeks)",
        default=0,
        help="How many teaching weeks ahead a record may be uploaded; 0 means no cap.",
    )
    signature_policy = fields.Selection(
        [
            ("pki", "PKI digital signature required"),
            ("account", "Account approval allowed (no certificate)"),
        ],
        required=True,
        default="pki",
    )
    allow_reorder_signers = fields.Boolean(string="Submitter may reorder signers")
    allow_extra_signers = fields.Boolean(string="Submitter may add signers")
    seal_final_signature = fields.Boolean(
        string="Sealed by the school after the last approval",
        help="After the last approval, the school's seal certificate signs the PDF as one more "
        "signature (an organisational signature). A school without a valid seal certificate "
        "cannot give the last approval.",
    )

    _sql_constraints = [
        ("max_size_positive", "CHECK(max_size_mb > 0)", "The largest file size must be positive."),
        ("max_pages_positive", "CHECK(max_pages > 0)", "The page limit must be positive."),
        ("lookahead_positive", "CHECK(lookahead_weeks >= 0)", "The look-ahead cap cannot be negative."),
    ]

    @api.constrains("deadline_rule", "deadline_day", "deadline_month", "deadline_time", "deadline_week")
    def _check_deadline_parameters(self):
        for policy in self:
            if not 0 <= policy.deadline_time <= 24:
                raise ValidationError(self.env._("The deadline time must be between 0:00 and 24:00."))
            if policy.deadline_rule == "yearly_date" and not (
                1 <= policy.deadline_month <= 12 and 1 <= policy.deadline_day <= 31
            ):
                raise ValidationError(self.env._("A yearly deadline needs a valid day and month."))
            if policy.deadline_rule in ("monthly_week_end", "teaching_week_end") and policy.deadline_week < 1:
                raise ValidationError(self.env._("The deadline week must be 1 or more."))

    def _policy_values(self):
        self.ensure_one()
        return {name: self[name] for name in POLICY_FIELDS}

    def _deadline_params(self):
        self.ensure_one()
        return {
            "weekday": int(self.deadline_weekday or 5),
            "time": self.deadline_time,
            "day": self.deadline_day,
            "month": self.deadline_month,
            "week": self.deadline_week,
            "days": self.deadline_days,
        }

    def _compute_deadline(self, period, weeks, first_semester_weeks=18):
        """Aware datetime in Vietnam, or None; raises ValueError on a bad period."""
        self.ensure_one()
        return deadlines.deadline(
            self.deadline_rule, self._deadline_params(), period, weeks, first_semester_weeks
        )

    def _formats(self):
        self.ensure_one()
        return ("pdf", "docx") if self.allowed_formats == "pdf_docx" else ("pdf",)
