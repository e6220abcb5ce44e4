from odoo import api, fields, models
from odoo.tools.translate import LazyTranslate

from ..tools import oversight_reports as orp
from .hscm_dossier import user_error

_lt = LazyTranslate(__name__)

KINDS = [
    (orp.FACT_MISSING, "No lesson plan handed in"),
    (orp.FACT_REJECTED, "Lesson plan rejected, not corrected"),
    (orp.FACT_UNAPPROVED, "Lesson plan not approved when the week started"),
    ("other", "Other"),
]


class HscmViolationRecordLine(models.Model):
    """One fact of a violation record: the lesson plans of one subject, class
    and teaching week that were not approved when the week started. Drafted
    by the system, editable while the record is a draft."""

    _name = "hscm.violation.record.line"
    _description = "Fact of a violation record"
    _order = "record_id, sequence, week, id"

    record_id = fields.Many2one("hscm.violation.record", required=True, index=True, ondelete="cascade")
    school_id = fields.Many2one(related="record_id.school_id")
    sequence = fields.Integer(default=10)
    week = fields.Integer(string="Teaching week")
    subject_id = fields.Many2one("hscm.subject", ondelete="restrict")
    class_id = fields.Many2one("hscm.school.class", string="Class", ondelete="restrict",
                               domain="[('school_id', '=', school_id)]")
    kind = fields.Selection(KINDS, required=True, default="other")
    expected = fields.Integer(string="Plans owed", help="Lesson plans owed for this subject, class and week.")
    ready = fields.Integer(string="Approved in time", help="Approved before the teaching week started.")
    missing = fields.Integer(string="Not handed in")
    rejected = fields.Integer()
    unapproved = fields.Integer(string="Not yet approved")
    references = fields.Char(string="Records concerned")
    note = fields.Char(help="What the leadership adds or corrects.")

    @api.model_create_multi
    def create(self, vals_list):
        records = self.env["hscm.violation.record"].browse({vals.get("record_id") for vals in vals_list} - {None})
        records._check_draft()
        return super().create(vals_list)

    def write(self, vals):
        self.record_id._check_draft()
        if "record_id" in vals:
            raise user_error(_lt("A fact stays in its record."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_in_draft(self):
        # a record's cascade deletes its lines only when the record itself may go (drafts)
        self.record_id.filtered(lambda r: r.state != "draft")._check_draft()
