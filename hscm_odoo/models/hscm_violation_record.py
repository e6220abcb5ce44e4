import datetime as dt

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.translate import LazyTranslate

from ..tools import school_calendar
from ..tools.bilingual import bilingual
from .hscm_dossier import user_error

_lt = LazyTranslate(__name__)

# Sentinel for writes only this module's code may make (queue_job pattern):
# the state, the reference and who issued or cancelled cannot be set over RPC.
INTERNAL = object()
PROTECTED_FIELDS = {"state", "name", "issued_by_id", "issued_on", "cancelled_by_id", "cancelled_on"}

STATES = [("draft", "Draft"), ("issued", "Issued"), ("cancelled", "Cancelled")]


class HscmViolationRecord(models.Model):
    """A record of a breach of the professional rules (*biên bản vi phạm quy
    chế chuyên môn*, FR-48): teaching with a lesson plan that was not
    approved, or without one.

    The leadership drafts it for a teacher and a span of teaching weeks; the
    system pre-fills the facts from the teaching assignments and the approval
    states (``hscm.oversight.report._violation_facts``), as editable lines.
    Nothing is ever issued automatically: only a school leader (principal or
    vice principal) of the teacher's school issues it, by an explicit action.
    An issued record is read-only; the teacher reads their own issued
    records, nothing else of it."""

    _name = "hscm.violation.record"
    _description = "Violation record (biên bản vi phạm quy chế chuyên môn)"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/", index="trigram")
    staff_id = fields.Many2one("hscm.staff", string="Teacher", required=True, index=True, ondelete="restrict",
                               tracking=True)
    user_id = fields.Many2one(related="staff_id.user_id", store=True, index=True, string="Teacher's account")
    school_id = fields.Many2one(related="staff_id.school_id", store=True, index=True)
    school_department_id = fields.Many2one(related="staff_id.school_department_id", store=True, index=True,
                                           string="Department")
    school_year_id = fields.Many2one("hscm.school.year", string="School year", required=True, index=True,
                                     ondelete="restrict", tracking=True, default=lambda self: self._default_year())
    week_from = fields.Integer(string="From teaching week", required=True, tracking=True,
                               default=lambda self: self._default_week())
    week_to = fields.Integer(string="To teaching week", required=True, tracking=True,
                             default=lambda self: self._default_week())
    state = fields.Selection(STATES, string="Status", default="draft", required=True, tracking=True, copy=False,
                             index=True)

    held_on = fields.Datetime(string="Time", required=True, default=fields.Datetime.now,
                              help="When the record is drawn up.")
    place = fields.Char(help="Where the record is drawn up; the school by default.")
    chair_id = fields.Many2one("hscm.staff", string="Chaired by", ondelete="restrict",
                               domain="[('school_id', '=', school_id), ('is_leader', '=', True)]")
    recorder_id = fields.Many2one("hscm.staff", string="Secretary", ondelete="restrict",
                                  domain="[('school_id', '=', school_id)]")
    participant_ids = fields.Many2many("hscm.staff", "hscm_violation_record_participant_rel", "record_id",
                                       "staff_id", string="Also present", domain="[('school_id', '=', school_id)]")
    other_participants = fields.Text(string="Other participants")
    line_ids = fields.One2many("hscm.violation.record.line", "record_id", string="Facts", copy=True)
    description = fields.Text(string="Further facts",
                              help="What the facts do not say: the lessons observed, the device missing…")
    explanation = fields.Text(string="Teacher's explanation")
    conclusion = fields.Text(help="The conclusion and what is asked of the teacher.")

    issued_by_id = fields.Many2one("res.users", string="Issued by", readonly=True, copy=False, ondelete="restrict")
    issued_on = fields.Datetime(readonly=True, copy=False)
    cancelled_by_id = fields.Many2one("res.users", string="Cancelled by", readonly=True, copy=False,
                                      ondelete="restrict")
    cancelled_on = fields.Datetime(readonly=True, copy=False)

    can_issue = fields.Boolean(compute="_compute_can_issue")
    cannot_issue_reason = fields.Char(compute="_compute_can_issue")

    @api.model
    def _default_school(self):
        return self.env.user._hscm_school(leader=True)

    @api.model
    def _default_year(self):
        return self.env.user._hscm_school_year(leader=True)

    @api.model
    def _default_week(self):
        """The current teaching week (the facts of a week are known once it has started)."""
        return self.env.user._hscm_teaching_week(leader=True)

    # ------------------------------------------------------------------
    # Computes and constraints
    # ------------------------------------------------------------------
    @api.depends_context("uid")
    @api.depends("state", "school_id", "staff_id")
    def _compute_can_issue(self):
        for record in self:
            reason = record._cannot_decide_reason(self.env.user)
            record.can_issue = not reason and record.state == "draft"
            record.cannot_issue_reason = reason or False

    @api.constrains("week_from", "week_to", "school_year_id")
    def _check_weeks(self):
        for record in self:
            if not 1 <= record.week_from <= record.week_to <= record.school_year_id.week_count:
                raise ValidationError(bilingual(_lt(
                    "Teaching weeks %(start)s to %(end)s are not weeks of %(year)s.",
                    start=record.week_from, end=record.week_to, year=record.school_year_id.name)))

    @api.constrains("chair_id", "recorder_id", "participant_ids", "staff_id")
    def _check_same_school(self):
        for record in self:
            people = record.chair_id | record.recorder_id | record.participant_ids
            if people.filtered(lambda s: s.school_id != record.school_id):
                raise ValidationError(bilingual(_lt("Everyone named in the record must belong to %(school)s.",
                                                    school=record.school_id.name)))

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        if not self._internal():
            for vals in vals_list:
                forbidden = (set(vals) & PROTECTED_FIELDS) - ({"name"} if vals.get("name") == "/" else set())
                if forbidden:
                    raise user_error(_lt("These fields are set by the system: %(fields)s",
                                         fields=", ".join(sorted(forbidden))))
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env.ref("hscm_odoo.seq_hscm_violation_record").sudo()._next()  # leaders may not read sequences
        records = super().create(vals_list)
        for record, vals in zip(records, vals_list):
            if not record.place:
                record.place = record.school_id.name
            if not record.chair_id:
                record.chair_id = self.env.user.hscm_staff_ids.filtered(
                    lambda s, r=record: s.active and s.is_leader and s.school_id == r.school_id)[:1]
            if "line_ids" not in vals:
                record._prefill_lines()
        return records

    def write(self, vals):
        if not self._internal():
            self.check_access("write")  # the rights first: an outsider learns nothing of the state
            forbidden = set(vals) & PROTECTED_FIELDS
            if forbidden:
                raise user_error(_lt("These fields are set by the system: %(fields)s",
                                     fields=", ".join(sorted(forbidden))))
            self._check_draft()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_issued(self):
        for record in self:
            if record.state != "draft":
                raise user_error(_lt("%(ref)s was issued or cancelled: it is kept.", ref=record.name))

    def _internal(self):
        return self.env.context.get("hscm_internal") is INTERNAL

    def _write_internal(self, vals):
        return self.with_context(hscm_internal=INTERNAL).write(vals)

    def _check_draft(self):
        for record in self:
            if record.state != "draft":
                raise user_error(_lt("%(ref)s is no longer a draft: it cannot be changed.", ref=record.name))

    # ------------------------------------------------------------------
    # The facts
    # ------------------------------------------------------------------
    def action_prefill(self):
        """Draw the facts again from the timetable and the approval states
        (the lines edited by hand are replaced)."""
        self.check_access("write")
        self._check_draft()
        for record in self:
            record._prefill_lines()
        return True

    def _prefill_lines(self):
        self.ensure_one()
        facts = self.env["hscm.oversight.report"]._violation_facts(
            self.staff_id, self.school_year_id, self.week_from, self.week_to)
        self.line_ids = [Command.clear()] + [Command.create({
            "sequence": index, "week": fact.week, "subject_id": fact.subject_id, "class_id": fact.class_id or False,
            "kind": fact.kind, "expected": fact.expected, "ready": fact.ready, "missing": fact.missing,
            "rejected": fact.rejected, "unapproved": fact.unapproved, "references": ", ".join(fact.references) or False,
        }) for index, fact in enumerate(facts, start=1)]

    # ------------------------------------------------------------------
    # Transitions: action_* → _check_can_* → _do_*
    # ------------------------------------------------------------------
    def _cannot_decide_reason(self, user):
        """Why ``user`` may not issue or cancel this record (a translated
        string), or None: only a leader of the teacher's school decides, and
        never about themselves."""
        self.ensure_one()
        leader = user.hscm_staff_ids.filtered(lambda s: s.active and s.is_leader and s.school_id == self.school_id)
        if not leader:
            return self.env._("Only the principal or a vice principal of %(school)s decides on this record.",
                              school=self.school_id.name)
        if self.staff_id.user_id == user:
            return self.env._("Nobody decides on a record about themselves.")
        return None

    def _check_can_decide(self):
        self.check_access("write")
        for record in self:
            reason = record._cannot_decide_reason(self.env.user)
            if reason:
                raise user_error(_lt("%(ref)s: %(reason)s", ref=record.name, reason=reason))

    def action_issue(self):
        """Issue the drafted record (explicitly, by a school leader)."""
        self._check_can_decide()
        for record in self:
            if record.state != "draft":
                raise user_error(_lt("%(ref)s is not a draft: it cannot be issued.", ref=record.name))
            if not (record.line_ids or (record.description or "").strip()):
                raise user_error(_lt("%(ref)s states no fact: there is nothing to issue.", ref=record.name))
        self._do_issue()
        return True

    def _do_issue(self):
        now = fields.Datetime.now()
        for record in self:
            record._write_internal({"state": "issued", "issued_by_id": self.env.uid, "issued_on": now})
            # Sudoed: a leader may not read the teacher's partner; only its id is used
            partner_ids = record.sudo().user_id.partner_id.ids  # ids only, see above
            record.message_post(body=self.env._("Issued by %(name)s.", name=self.env.user.name),
                                partner_ids=partner_ids, subtype_xmlid="mail.mt_comment")
            self.env["hscm.audit.log"]._log("violation_issue", record, {
                "teacher": record.staff_id.name, "weeks": [record.week_from, record.week_to],
                "facts": len(record.line_ids)})

    def action_cancel(self):
        """Cancel a draft, or withdraw an issued record (a school leader)."""
        self._check_can_decide()
        for record in self:
            if record.state == "cancelled":
                raise user_error(_lt("%(ref)s is already cancelled.", ref=record.name))
        self._do_cancel()
        return True

    def _do_cancel(self):
        now = fields.Datetime.now()
        for record in self:
            was = record.state
            record._write_internal({"state": "cancelled", "cancelled_by_id": self.env.uid, "cancelled_on": now})
            record.message_post(body=self.env._("Cancelled by %(name)s.", name=self.env.user.name))
            self.env["hscm.audit.log"]._log("violation_cancel", record, {"was": was})

    def action_print(self):
        self.ensure_one()
        self.check_access("read")
        return self.env.ref("hscm_odoo.action_report_violation_record").report_action(self)

    # ------------------------------------------------------------------
    # For the printed form
    # ------------------------------------------------------------------
    def _report_context(self):
        """Names and dates printed on the form: read with the system's
        rights, as they are only names of the record's own school."""
        self.ensure_one()
        held = self.held_on.replace(tzinfo=dt.timezone.utc).astimezone(school_calendar.VN_TZ)
        record = self.sudo()  # names of people of the record's school; the caller read the record
        teaching_weeks = {w.number: w for w in self.school_year_id._teaching_weeks()}
        first, last = teaching_weeks.get(self.week_from), teaching_weeks.get(self.week_to)
        return {
            "held": held,
            "teacher": record.staff_id.name,
            "department": record.school_department_id.name or "",
            "school": record.school_id.name,
            "authority": record.school_id.reports_to_id.name or "",
            "chair": record.chair_id.name or "",
            "recorder": record.recorder_id.name or "",
            "participants": record.participant_ids.mapped("name"),
            "period_from": first.start if first else None,
            "period_to": last.end if last else None,
        }
