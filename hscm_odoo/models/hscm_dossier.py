import binascii
import contextlib
import contextvars
import datetime as dt
import json
import logging
import urllib.parse
from collections import defaultdict
from typing import NamedTuple

import psycopg2.errors

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

from ..tools import deadlines, school_calendar
from ..tools.bilingual import bilingual, join
from ..tools.file_sandbox import get_checker

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

# Sentinel for writes only this module's code may make (queue_job pattern):
# it cannot travel through RPC, so state, hashes and decisions are out of
# reach of a client however it calls write().
INTERNAL = object()

STATES = [
    ("draft", "Draft"),
    ("submitted", "Submitted"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("cancelled", "Cancelled"),
]

# Fields the system sets; clients may not write them.
PROTECTED_FIELDS = {
    "state", "file_sha256", "file_size", "file_pages", "file_kind", "submitted_on", "approved_on",
    "deadline", "is_late", "version_ids", "forwarded_to_id", "owner_id", "name", "last_decision_on",
    "verify_token", "signature_verdict", "signature_report", "signature_checked_on",
}


MIMETYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def user_error(message, field=None):
    """A bilingual UserError; ``field`` names the form field it concerns, so
    the portal shows the message next to that field."""
    error = UserError(bilingual(message))
    error.hscm_field = field
    return error


# Attachment fields that hold the bytes, to drop from the cache once used
BINARY_CACHE_FIELDS = ["raw", "datas", "db_datas"]


def _binary_attachment(record, field):
    # Sudoed: the storage of a Binary field, reached as fields.Binary does;
    # the caller has already checked its rights on ``record``.
    return record.env["ir.attachment"].sudo().search([  # the field storage; see above
        ("res_model", "=", record._name), ("res_field", "=", field), ("res_id", "=", record.id),
    ], limit=1)


def binary_attachments(records, field):
    """``{res_id: attachment}`` of a ``Binary(attachment=True)`` field for a
    batch of records, in one search (see _binary_attachment)."""
    attachments = records.env["ir.attachment"].sudo().search([  # the field storage, as _binary_attachment
        ("res_model", "=", records._name), ("res_field", "=", field), ("res_id", "in", records.ids),
    ])
    # each on its own prefetch: reading one file must not read the batch's files
    return {attachment.res_id: attachment.with_prefetch() for attachment in attachments}


class KnownContent(NamedTuple):
    """What :func:`store_binary` knows of the bytes it stores, for ir.attachment
    (see ir_attachment.py): ``data`` (the very object), its SHA-1, the path
    of a stored file that holds the same bytes, the batch's file writer."""

    data: bytes
    sha1: str | None = None
    stored_path: str | None = None
    writer: object = None


# Set for the duration of one store_binary call only. Not in the environment's
# context: an environment lives on in reference cycles until Python's garbage
# collector runs, and a 5 MB file with it (a batch of approvals grew by one
# file per dossier between two collections).
KNOWN_CONTENT = contextvars.ContextVar("hscm_known_content", default=None)


@contextlib.contextmanager
def known_content(data, sha1=None, stored_path=None, writer=None):
    """Tell ir.attachment what is known of ``data`` while it is stored."""
    token = KNOWN_CONTENT.set(KnownContent(data, sha1, stored_path, writer))
    try:
        yield
    finally:
        KNOWN_CONTENT.reset(token)


def store_binary(record, field, data, mimetype, attachment=None, sha1=None, same_as=None, writer=None):
    """Store ``data`` as the attachment of a ``Binary(attachment=True)``
    field, like fields.Binary does, but from raw bytes with a known mimetype:
    a 5 MB upload is then not base64-decoded twice more by ir.attachment.
    The caller has checked its rights; the attachments of dossier files are
    written by this function only (see ir_attachment.py).

    ``attachment``: the field's current attachment when the caller already
    looked it up (an empty recordset: there is none); ``sha1``: the SHA-1 of
    ``data`` when the caller computed it (the filestore's key); ``same_as``:
    a (sudoed) attachment whose stored file ``data`` was just written to or
    read from, so that the filestore need not read that file back to compare
    (see ir_attachment.py); ``writer``: a BackgroundFileWriter that writes the
    file while the caller goes on (the caller closes it before committing).
    Returns the attachment."""
    if attachment is None:
        attachment = _binary_attachment(record, field)
    attachment = attachment.with_context(hscm_internal=INTERNAL)
    stored_path = None
    if same_as and same_as.store_fname:  # in the filestore (not the database)
        sha1 = sha1 or same_as.checksum
        stored_path = same_as._full_path(same_as.store_fname)
    values = {"raw": data, "mimetype": mimetype}
    with known_content(data, sha1, stored_path, writer):
        if attachment:
            attachment.write(values)
        else:
            attachment = attachment.create(dict(values, name=field, res_model=record._name, res_field=field,
                                                res_id=record.id, type="binary"))
    attachment.invalidate_recordset(BINARY_CACHE_FIELDS)
    record.invalidate_recordset([field])
    return attachment


def read_binary(record, field):
    """The raw bytes of a ``Binary(attachment=True)`` field (no base64).

    The attachment's cache is dropped at once: a batch of approvals then
    holds one file at a time in memory, not every file of the batch."""
    attachment = _binary_attachment(record, field)
    data = attachment.raw or b""
    attachment.invalidate_recordset(BINARY_CACHE_FIELDS)
    return data


class HscmDossier(models.Model):
    """A professional record (*hồ sơ chuyên môn*) submitted by a teacher, a
    department or the school leadership, with its file, its versions and its
    approval chain.

    The organisational fields (school, office, Sở, department, group,
    subject) are stored on the dossier itself so the record rules that
    implement the role matrix compare plain columns, which stays fast with
    millions of dossiers.

    Transitions follow hr_expense: ``action_*`` (button or RPC) →
    ``_check_can_*`` (raises with the reason) → ``_do_*`` (state, activities,
    chatter, audit trail).
    """

    _name = "hscm.dossier"
    _description = "Professional record (hồ sơ chuyên môn)"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/", index="trigram"
    )
    title = fields.Char(required=True, tracking=True, help="For lesson plans: the lesson's title.")
    type_id = fields.Many2one("hscm.dossier.type", string="Type", required=True, index=True, ondelete="restrict",
                              tracking=True)
    owner_id = fields.Many2one(
        "res.users", string="Owner", required=True, index=True, default=lambda self: self.env.user,
        ondelete="restrict",
    )
    staff_id = fields.Many2one(
        "hscm.staff", string="Staff member", compute="_compute_staff_id", store=True, readonly=False,
        index=True, ondelete="restrict",
    )
    school_id = fields.Many2one(
        "hscm.school", compute="_compute_from_staff", store=True, readonly=False, index=True, ondelete="restrict",
    )
    school_department_id = fields.Many2one(
        "hscm.school.department", string="Department", compute="_compute_from_staff", store=True,
        readonly=False, index=True, ondelete="restrict",
    )
    subject_group_id = fields.Many2one(
        "hscm.subject.group", string="Subject group", compute="_compute_from_staff", store=True,
        readonly=False, index=True, ondelete="restrict",
    )
    office_id = fields.Many2one(related="school_id.office_id", store=True, index=True)
    authority_id = fields.Many2one(related="school_id.authority_id", store=True, index=True)
    subject_id = fields.Many2one("hscm.subject", index=True, ondelete="restrict", tracking=True)
    class_ids = fields.Many2many("hscm.school.class", string="Classes", domain="[('school_id', '=', school_id)]")
    lesson_number = fields.Integer(string="Lesson number", help="The lesson (bài) or period (tiết) number.")
    school_year_id = fields.Many2one(
        "hscm.school.year", string="School year", compute="_compute_school_year_id", store=True,
        readonly=False, index=True, ondelete="restrict",
    )
    week_number = fields.Integer(string="Teaching week", index=True, tracking=True)
    period_month = fields.Date(string="Month", help="For monthly records: any day of the month.")
    semester = fields.Selection([("1", "Semester 1"), ("2", "Semester 2")])
    event_date = fields.Date(string="Event date", help="For records due some days after an event.")
    state = fields.Selection(STATES, string="Status", default="draft", required=True, tracking=True, copy=False,
                             index=True)
    active = fields.Boolean(default=True)

    # The file of the current version
    file = fields.Binary(string="File", attachment=True, copy=False)
    file_name = fields.Char(copy=False)
    file_sha256 = fields.Char(string="SHA-256", readonly=True, copy=False, index=True)
    file_size = fields.Integer(string="Size (bytes)", readonly=True, copy=False)
    file_pages = fields.Integer(string="Pages", readonly=True, copy=False)
    file_kind = fields.Selection([("pdf", "PDF"), ("docx", "Word")], readonly=True, copy=False)
    change_note = fields.Text(string="What changed", copy=False,
                              help="For a resubmission: what was corrected after the rejection.")

    version_ids = fields.One2many("hscm.dossier.version", "dossier_id", string="Versions", readonly=True)
    version_count = fields.Integer(compute="_compute_version_count", string="Number of versions")
    approval_ids = fields.One2many("hscm.dossier.approval", "dossier_id", string="Approval chain")
    current_approval_id = fields.Many2one("hscm.dossier.approval", compute="_compute_current_approval",
                                          string="Current step")
    current_approver_ids = fields.Many2many(
        "res.users", "hscm_dossier_current_approver_rel", "dossier_id", "user_id",
        string="Waiting for", compute="_compute_current_approver_ids", store=True,
    )
    deadline = fields.Datetime(readonly=True, copy=False, help="The deadline this record had to meet.")
    submitted_on = fields.Datetime(readonly=True, copy=False)
    approved_on = fields.Datetime(readonly=True, copy=False)
    last_decision_on = fields.Datetime(string="Last decision", readonly=True, copy=False)
    is_late = fields.Boolean(string="Late", readonly=True, copy=False, index=True,
                             help="Submitted after its deadline; the deadline missed stays recorded.")
    forwarded_to_id = fields.Many2one("hscm.authority", string="Forwarded to", readonly=True, copy=False)
    rejection_reason = fields.Text(compute="_compute_rejection_reason", string="Reason of the last rejection")

    can_approve = fields.Boolean(compute="_compute_can_approve")
    cannot_approve_reason = fields.Char(compute="_compute_can_approve")
    can_submit = fields.Boolean(compute="_compute_can_submit")

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends("owner_id")
    def _compute_staff_id(self):
        for dossier in self:
            if not dossier.staff_id or dossier.staff_id.user_id != dossier.owner_id:
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

    @api.depends("school_id")
    def _compute_school_year_id(self):
        today = school_calendar.local_date(fields.Datetime.now())
        for dossier in self:
            if not dossier.school_year_id and dossier.school_id:
                dossier.school_year_id = self.env["hscm.school.year"].sudo()._find_for(  # id lookup
                    dossier.school_id.authority_id, today
                ).id

    def _compute_version_count(self):
        for dossier in self:
            dossier.version_count = len(dossier.version_ids)

    @api.depends("approval_ids.state")
    def _compute_current_approval(self):
        for dossier in self:
            dossier.current_approval_id = dossier.approval_ids.filtered(lambda s: s.state == "pending")[:1]

    @api.depends("approval_ids.state", "approval_ids.expected_user_id", "approval_ids.acting_user_id")
    def _compute_current_approver_ids(self):
        # assigned per group of dossiers waiting for the same people: each assignment of this stored
        # many2many is written at once, and a batch of 20 approvals cost 80 queries one by one
        waiting_for = defaultdict(list)
        for dossier in self:
            pending = dossier.approval_ids.filtered(lambda s: s.state == "pending")[:1]
            waiting_for[pending.expected_user_id | pending.acting_user_id].append(dossier.id)
        for approvers, dossier_ids in waiting_for.items():
            self.browse(dossier_ids).current_approver_ids = approvers

    @api.depends("version_ids.rejection_reason")
    def _compute_rejection_reason(self):
        for dossier in self:
            rejected = dossier.version_ids.filtered("rejection_reason")[:1]
            dossier.rejection_reason = rejected.rejection_reason

    @api.depends_context("uid")
    @api.depends("state", "approval_ids.state")
    def _compute_can_approve(self):
        for dossier in self:
            reason = dossier._cannot_decide_reason(self.env.user)
            dossier.can_approve = not reason
            dossier.cannot_approve_reason = reason or False

    @api.depends_context("uid")
    @api.depends("state", "owner_id")
    def _compute_can_submit(self):
        for dossier in self:
            dossier.can_submit = dossier.state in ("draft", "rejected") and dossier.owner_id == self.env.user

    # ------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------
    @api.constrains("school_id")
    def _check_school(self):
        for dossier in self:
            if not dossier.school_id:
                raise ValidationError(bilingual(_lt(
                    "%(owner)s has no staff record in a school: a record needs its school.",
                    owner=dossier.owner_id.name,
                )))

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        internal = self._internal()
        for vals in vals_list:
            if not internal:
                forbidden = (set(vals) & PROTECTED_FIELDS) - {"owner_id"}
                if forbidden:
                    raise user_error(_lt("These fields are set by the system: %(fields)s",
                                         fields=", ".join(sorted(forbidden))))
            if vals.get("name", "/") == "/":
                # by XML id: no search by code on every upload; sudoed, teachers may not read sequences
                vals["name"] = self.env.ref("hscm_odoo.seq_hscm_dossier").sudo()._next()  # next number only
        uploads = [self._decode_upload(vals.pop("file", None)) for vals in vals_list]
        # No "record created" chatter message: a draft is nobody's business
        # yet, and the audit trail records what matters from the submission on.
        dossiers = super(HscmDossier, self.with_context(mail_create_nolog=True)).create(vals_list)
        for dossier, data in zip(dossiers, uploads):
            if data:
                dossier._inspect_file(data)
        return dossiers

    def write(self, vals):
        if not self._internal():
            forbidden = set(vals) & PROTECTED_FIELDS
            if forbidden:
                raise user_error(_lt("These fields are set by the system: %(fields)s",
                                     fields=", ".join(sorted(forbidden))))
            editable = {"draft", "rejected"}
            if any(dossier.state not in editable for dossier in self) and set(vals) - {"active"}:
                raise user_error(_lt("A submitted record can no longer be changed; "
                                     "it can be corrected after a rejection."))
        upload = "file" in vals and not self._internal()
        data = self._decode_upload(vals.pop("file")) if upload else None
        result = super().write(vals)
        if upload:
            for dossier in self:
                if data:
                    dossier._inspect_file(data)
                    self.env["hscm.audit.log"]._log("file_change", dossier, {"sha256": dossier.file_sha256})
                else:
                    _binary_attachment(dossier, "file").with_context(hscm_internal=INTERNAL).unlink()
                    dossier.invalidate_recordset(["file"])
                    dossier._write_internal({"file_sha256": False, "file_size": 0, "file_pages": 0,
                                             "file_kind": False})
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_submitted(self):
        for dossier in self:
            if dossier.state != "draft" or dossier.version_ids:
                raise user_error(_lt("%(ref)s was submitted: it is kept for good and can only be archived.",
                                     ref=dossier.name))

    def _internal(self):
        return self.env.context.get("hscm_internal") is INTERNAL

    def _write_internal(self, vals):
        return self.with_context(hscm_internal=INTERNAL).write(vals)

    # ------------------------------------------------------------------
    # Policy and file checks
    # ------------------------------------------------------------------
    def _policy(self):
        self.ensure_one()
        return self.type_id._policy_for(self.school_id)

    def _policies(self):
        """``{dossier id: policy}`` for a batch: one lookup per type and school."""
        by_scope = {}
        for dossier in self:
            key = (dossier.type_id, dossier.school_id)
            if key not in by_scope:
                by_scope[key] = dossier._policy()
        return {dossier.id: by_scope[dossier.type_id, dossier.school_id] for dossier in self}

    @api.model
    def _create_with_file(self, values, data, file_name):
        """Create a dossier from raw uploaded bytes (the multipart route):
        the same checks as ``create`` with a base64 ``file``; refused bytes
        leave nothing behind (the request's transaction is rolled back)."""
        if not data:
            raise user_error(_lt("Attach the file before submitting."), field="file")
        dossier = self.create(dict(values, file_name=file_name))  # create refuses system fields
        dossier._inspect_file(data)
        return dossier

    @api.model
    def _decode_upload(self, value):
        """The bytes of an uploaded ``file`` value (base64 text or bytes)."""
        if not value:
            return b""
        try:
            # strict mode refuses stray characters in C; b64decode(validate=True)
            # runs a regular expression over the whole text first (≈20 ms for 5 MB)
            return binascii.a2b_base64(value, strict_mode=True)
        except (binascii.Error, ValueError, TypeError):
            raise user_error(_lt("The file is not valid base64 data.")) from None

    def _file_bytes(self):
        self.ensure_one()
        self.check_access("read")
        # one record's attachment, raw: no prefetch of a batch of files, no base64
        return read_binary(self, "file")

    def _run_file_check(self, data):
        """Run the upload checks (in the sandboxed checker process) on ``data``
        under this dossier's policy; raise with the reason when refused."""
        self.ensure_one()
        policy = self._policy()
        verdict = get_checker().check(
            data,
            self.file_name or "",
            allowed_formats=policy._formats(),
            max_size=policy.max_size_mb * 1024 * 1024,
            max_pages=policy.max_pages,
        )
        if not verdict.ok:
            _logger.info("upload refused for %s (%s, %s bytes, user %s): %s", self.name, self.file_name,
                         len(data), self.env.user.login, verdict.code)
            error = ValidationError(join(verdict.message_vi, verdict.message_en))
            error.hscm_field = "file"
            raise error
        return verdict

    def _inspect_file(self, data):
        """Check freshly uploaded bytes, store them and record what they are;
        refused bytes are never stored."""
        for dossier in self:
            verdict = dossier._run_file_check(data)
            store_binary(dossier, "file", data, MIMETYPES[verdict.kind])
            dossier._write_internal({
                "file_sha256": verdict.sha256,
                "file_size": verdict.size,
                "file_pages": verdict.pages or 0,
                "file_kind": verdict.kind,
            })

    # ------------------------------------------------------------------
    # Submission
    # ------------------------------------------------------------------
    def action_submit(self):
        """Submit (or resubmit after a rejection) for approval."""
        self.check_access("write")
        self._lock_for_decision()  # a double click submits once
        uploads = self._check_can_submit()
        self._do_submit(uploads)
        return True

    def _check_can_submit(self):
        """Raise with the reason if a dossier cannot be submitted; return the
        checked bytes of each file (``{id: bytes}``) for the version copy."""
        self.check_access("write")
        now = fields.Datetime.now()
        uploads = {}
        for dossier in self:
            if dossier.owner_id != self.env.user and not self.env.su:
                raise user_error(_lt("Only the owner of %(ref)s submits it.", ref=dossier.name))
            if dossier.state not in ("draft", "rejected"):
                raise user_error(_lt("%(ref)s was already submitted.", ref=dossier.name))
            dossier._check_required_fields()
            data = dossier._file_bytes()
            if not data:
                raise user_error(_lt("Attach the file before submitting."), field="file")
            dossier._run_file_check(data)  # again at submit: the policy may have changed
            uploads[dossier.id] = data
            dossier._check_submitter()
            dossier._check_lock(now)
            dossier._check_lookahead(now)
            dossier._check_duplicates()
        return uploads

    def _check_required_fields(self):
        self.ensure_one()
        dossier_type = self.type_id
        if not dossier_type._applies_to(self.school_id):
            raise user_error(_lt("%(type)s is not used in %(school)s.", type=dossier_type.name,
                                 school=self.school_id.name))
        policy = self._policy()
        missing, missing_fields = [], []

        def lack(label, field):
            missing.append(label)
            missing_fields.append(field)

        if dossier_type.needs_subject and not self.subject_id:
            lack(_lt("subject"), "subject_id")
        if dossier_type.needs_classes and not self.class_ids:
            lack(_lt("classes"), "class_ids")
        if dossier_type.needs_lesson and not self.lesson_number and policy.file_unit == "lesson":
            lack(_lt("lesson number"), "lesson_number")
        if not self.school_year_id:
            lack(_lt("school year"), "school_year_id")
        rule = policy.deadline_rule
        if rule == "weekly_before" and not self.week_number:
            lack(_lt("teaching week"), "week_number")
        if rule.startswith("monthly") and not self.period_month:
            lack(_lt("month"), "period_month")
        if rule == "semester_end" and not self.semester:
            lack(_lt("semester"), "semester")
        if rule == "event_days" and not self.event_date:
            lack(_lt("event date"), "event_date")
        if missing:
            vi = ", ".join(m._translate("vi_VN") for m in missing)
            en = ", ".join(m._translate("en_US") for m in missing)
            message = _lt("Fill in before submitting: %(fields)s")
            error = UserError(join(message._translate("vi_VN") % {"fields": vi},
                                   message._translate("en_US") % {"fields": en}))
            error.hscm_field = missing_fields[0]
            raise error
        if self.week_number and not 1 <= self.week_number <= self.school_year_id.week_count:
            raise user_error(_lt("Week %(week)s is not a teaching week of %(year)s.", week=self.week_number,
                                 year=self.school_year_id.name), field="week_number")

    def _check_submitter(self):
        """The type says who uploads (FR-04); the owner level says whose it is."""
        self.ensure_one()
        staff = self.staff_id.sudo()  # the owner's own staff record
        submitter = self.type_id.submitter
        codes = set(staff.position_ids.mapped("code"))
        allowed = {
            "owner": True,
            "appointed": self._is_appointed_uploader(staff),
            "group_leader": "group_leader" in codes and staff.subject_group_id.leader_id == staff,
            "department_head": staff.school_department_id.head_id == staff,
            "leadership": staff.is_leader,
            "clerk": bool(codes & {"clerk", "office_head"}),
        }[submitter]
        if not allowed:
            raise user_error(_lt("You may not submit records of type %(type)s.", type=self.type_id.name))

    def _is_appointed_uploader(self, staff):
        """Shared subjects (KHTN, LS&ĐL…): only the teacher the department head
        appointed uploads them (FR-04)."""
        appointments = self.env["hscm.subject.uploader"].sudo().search([  # lookup only
            ("school_department_id", "=", staff.school_department_id.id),
            ("subject_id", "=", self.subject_id.id),
        ])
        return not appointments or staff in appointments.staff_id

    def _check_lock(self, now):
        self.ensure_one()
        lock = self.env["hscm.period.lock"]._blocking_lock(self, now)
        if lock:
            raise user_error(_lt("Week %(week)s is locked (%(lock)s). Ask for an unlock with a reason.",
                                 week=self.week_number, lock=lock.name), field="week_number")

    def _teaching_weeks(self):
        self.ensure_one()
        return self.school_year_id._teaching_weeks()

    def _check_lookahead(self, now):
        self.ensure_one()
        cap = self._policy().lookahead_weeks
        if not cap or not self.week_number:
            return
        current = deadlines.current_teaching_week(now, self._teaching_weeks())
        if not deadlines.lookahead_ok(self.week_number, current, cap):
            raise user_error(_lt(
                "Plans may be uploaded at most %(cap)s teaching weeks ahead: this is week %(current)s, "
                "so weeks up to %(last)s are open.",
                cap=cap, current=current, last=current + cap,
            ), field="week_number")

    def _check_duplicates(self):
        self.ensure_one()
        domain = [
            ("id", "!=", self.id),
            ("owner_id", "=", self.owner_id.id),
            ("type_id", "=", self.type_id.id),
            ("school_year_id", "=", self.school_year_id.id),
            ("state", "not in", ("draft", "cancelled")),
        ]
        same_file = self.sudo().search_count(domain + [("file_sha256", "=", self.file_sha256)], limit=1)  # count
        if same_file:
            raise user_error(_lt("You already submitted this very file this school year."), field="file")
        if self.lesson_number and self.type_id.needs_lesson:
            lesson_domain = domain + [("subject_id", "=", self.subject_id.id),
                                      ("lesson_number", "=", self.lesson_number)]
            if self.class_ids:
                lesson_domain.append(("class_ids", "in", self.class_ids.ids))
            if self.sudo().search_count(lesson_domain, limit=1):  # count only
                raise user_error(_lt("Lesson %(number)s of %(subject)s is already submitted for these classes.",
                                     number=self.lesson_number, subject=self.subject_id.name), field="lesson_number")

    def _period(self):
        self.ensure_one()
        return deadlines.Period(
            week=self.week_number or None,
            month=self.period_month or None,
            semester=int(self.semester) if self.semester else None,
            event_date=self.event_date or None,
        )

    def _compute_deadline_value(self):
        """The deadline as a naive UTC datetime (Odoo's convention), or False."""
        self.ensure_one()
        try:
            due = self._policy()._compute_deadline(
                self._period(), self._teaching_weeks(), self.school_year_id.first_semester_weeks
            )
        except ValueError as error:
            raise user_error(_lt("The deadline cannot be worked out: %(error)s", error=str(error))) from None
        if not due:
            return False
        return due.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def _do_submit(self, uploads):
        now = fields.Datetime.now()
        for dossier in self:
            resubmission = dossier.state == "rejected"
            due = dossier._compute_deadline_value()
            rows = dossier._chain_rows()
            number = len(dossier.version_ids) + 1
            version = dossier.env["hscm.dossier.version"].with_context(hscm_internal=INTERNAL).sudo().create([{  # system copy
                "dossier_id": dossier.id,
                "number": number,
                "file_name": dossier.file_name,
                "file_sha256": dossier.file_sha256,
                "file_size": dossier.file_size,
                "file_pages": dossier.file_pages,
                "change_note": dossier.change_note,
                "submitted_on": now,
                "submitted_by_id": self.env.uid,
            }])
            # the same bytes, read from the dossier's file: the filestore keeps one copy (content-addressed)
            store_binary(version, "file", uploads[dossier.id], MIMETYPES[dossier.file_kind],
                         same_as=_binary_attachment(dossier, "file"))
            dossier._build_chain(rows, number)
            dossier.sudo()._write_internal({  # the transition is the system's; guarded by _check_can_submit
                "state": "submitted",
                "submitted_on": now,
                "deadline": due,
                "is_late": bool(due and now > due),
                "change_note": False,
            })
            dossier._activate_next_step()
            self.env["hscm.audit.log"]._log("resubmit" if resubmission else "submit", dossier, {
                "version": number, "sha256": dossier.file_sha256, "late": dossier.is_late,
            })
            if dossier.is_late:
                dossier.sudo().message_post(  # a note from the system
                    body=self.env._("Submitted late: the deadline was %(deadline)s.",
                                    deadline=dossier._format_vn(due)))

    def _format_vn(self, value):
        local = value.replace(tzinfo=dt.timezone.utc).astimezone(school_calendar.VN_TZ)
        return local.strftime("%H:%M %d/%m/%Y")

    # ------------------------------------------------------------------
    # The approval chain
    # ------------------------------------------------------------------
    def _resolve_role(self, role):
        """``(expected user, acting user, delegation)`` for a chain role, from
        the organisation and the delegations in force today."""
        self.ensure_one()
        today = school_calendar.local_date(fields.Datetime.now())
        Delegation = self.env["hscm.delegation"]
        school = self.school_id.sudo()  # reading the organisation only
        empty = self.env["res.users"]
        if role == "group_leader":
            user = self.subject_group_id.sudo().leader_id.user_id  # reading the leader only
            return user, empty, Delegation
        if role == "department_head":
            department = self.school_department_id.sudo()  # reading the head only
            user = department.head_id.user_id
            delegation = Delegation._active_for(user, "department", today, department) if user else Delegation
            return user, delegation.delegate_id, delegation
        principal = school._staff_holding("principal")[:1].user_id
        if role == "vice_principal":
            # the vice principal in charge of professional records, else any
            # vice principal, else the principal
            vices = school._staff_holding("vice_principal")
            in_charge = vices.filtered(lambda s: "professional" in s.duty_area_ids.mapped("code"))
            return (in_charge[:1] or vices[:1]).user_id or principal, empty, Delegation
        if role == "principal":
            delegation = Delegation._active_for(principal, "principal", today) if principal else Delegation
            return principal, delegation.delegate_id, delegation
        return empty, empty, Delegation

    def _required_steps(self):
        """The required levels for this dossier, in template order: each as a
        dict of values for an approval row. The owner never approves their own
        record: a level that resolves to them is passed on to the next one."""
        self.ensure_one()
        steps, seen = [], set()
        for template_step in self.type_id.approval_template_id.step_ids:
            expected, acting, delegation = self._resolve_role(template_step.role)
            if not expected:
                if template_step.required:
                    raise user_error(_lt(
                        "Nobody holds the position needed to approve %(ref)s (%(role)s): "
                        "ask the school administrator.",
                        ref=self.name,
                        role=dict(template_step._fields["role"]._description_selection(self.env))[
                            template_step.role],
                    ))
                continue
            if expected == self.owner_id or expected.id in seen:
                continue
            if acting == self.owner_id:
                acting, delegation = self.env["res.users"], self.env["hscm.delegation"]
            seen.add(expected.id)
            steps.append({
                "role": template_step.role,
                "required": template_step.required,
                "expected_user_id": expected.id,
                "acting_user_id": acting.id or False,
                "delegation_id": delegation.id or False,
            })
        if not steps:
            raise user_error(_lt("No approver can be found for %(ref)s.", ref=self.name))
        return steps

    def action_propose_chain(self):
        """Fill the proposed chain from the organisation, for the submitter to
        review (reorder or add signers where the type allows)."""
        self.check_access("write")
        for dossier in self:
            if dossier.state not in ("draft", "rejected"):
                raise user_error(_lt("The approval chain of %(ref)s is fixed once submitted.", ref=dossier.name))
            proposed = dossier.approval_ids.filtered(lambda s: s.state == "proposed")
            extra = proposed.filtered(lambda s: s.role == "extra")
            (proposed - extra).with_context(hscm_internal=INTERNAL).sudo().unlink()  # regenerated below
            rows = [dict(vals, sequence=(index + 1) * 10, state="proposed", dossier_id=dossier.id)
                    for index, vals in enumerate(dossier._required_steps())]
            self.env["hscm.dossier.approval"].with_context(hscm_internal=INTERNAL).sudo().create(rows)  # system rows
        return True

    def _chain_rows(self):
        """The rows of the chain to submit: the proposed chain (or the
        default one), checked to keep every required level in order."""
        self.ensure_one()
        policy = self._policy()
        required = self._required_steps()
        proposed = self.approval_ids.filtered(lambda s: s.state == "proposed").sorted("sequence")
        extra = proposed.filtered(lambda s: s.role == "extra")
        if extra and not policy.allow_extra_signers:
            raise user_error(_lt("Records of type %(type)s take no extra signers.", type=self.type_id.name))
        if self.owner_id in extra.expected_user_id:
            raise user_error(_lt("You cannot sign your own record."))
        kept = proposed - extra
        order = [step.expected_user_id.id for step in kept]
        required_users = [vals["expected_user_id"] for vals in required]
        if kept and sorted(order) != sorted(required_users):
            raise user_error(_lt("A required approval level is missing from the chain: it cannot be skipped."))
        if kept and order != required_users and not policy.allow_reorder_signers:
            raise user_error(_lt("The signing order of %(type)s is fixed.", type=self.type_id.name))
        by_user = {vals["expected_user_id"]: vals for vals in required}
        rows = []
        if kept:
            for step in proposed:
                vals = by_user.get(step.expected_user_id.id) if step.role != "extra" else {
                    "role": "extra", "required": False, "expected_user_id": step.expected_user_id.id,
                    "acting_user_id": False, "delegation_id": False,
                }
                rows.append(dict(vals, sequence=step.sequence))
        else:
            rows = [dict(vals, sequence=(index + 1) * 10) for index, vals in enumerate(required)]
            rows += [{"role": "extra", "required": False, "expected_user_id": s.expected_user_id.id,
                      "acting_user_id": False, "delegation_id": False, "sequence": 1000 + s.sequence}
                     for s in extra]
        return rows

    def _build_chain(self, rows, version_number):
        self.ensure_one()
        Approval = self.env["hscm.dossier.approval"].with_context(hscm_internal=INTERNAL).sudo()  # system rows
        self.approval_ids.filtered(lambda s: s.state == "proposed").with_context(
            hscm_internal=INTERNAL).sudo().unlink()  # replaced by the submitted chain
        Approval.create([dict(vals, dossier_id=self.id, state="waiting", version_number=version_number)
                         for vals in rows])

    def _current_steps(self):
        self.ensure_one()
        number = len(self.version_ids)
        return self.approval_ids.filtered(lambda s: s.version_number == number).sorted("sequence")

    def _activate_next_step(self):
        """Open the next waiting step and give its decider (only them) an activity."""
        self.ensure_one()
        return self._activate_next_steps()[self.id]

    def _activate_next_steps(self):
        """Open the next waiting step of each dossier and give its decider
        (only them) an activity; returns ``{dossier id: opened step}`` (an
        empty recordset when the chain is done).

        The activities are created in one batch. Each decider is told once
        per call: of their one new activity as Odoo does, or, when a batch
        gives them several, by one message listing them all."""
        Step = self.env["hscm.dossier.approval"]
        opened, vals_list = {}, []
        activity_type = self.env.ref("hscm_odoo.mail_act_hscm_approval").sudo()  # its summary; portal staff decide
        model_id = self.env["ir.model"]._get_id(self._name)
        today = fields.Date.context_today(self)
        for dossier in self:
            step = dossier._current_steps().filtered(lambda s: s.state == "waiting")[:1]
            opened[dossier.id] = step
            if not step:
                continue
            decider = step.acting_user_id or step.expected_user_id
            deadline = today
            if dossier.deadline:
                deadline = max(deadline, school_calendar.local_date(dossier.deadline))
            note = self.env._("Approve or reject %(ref)s: %(title)s", ref=dossier.name, title=dossier.title)
            if step.delegation_id:
                approver = step.sudo().expected_user_id.name  # a name for the note; staff may not read users
                note += " " + self.env._("(acting for %(approver)s)", approver=approver)
            vals_list.append({
                "activity_type_id": activity_type.id, "summary": activity_type.summary, "automated": True,
                "note": note, "date_deadline": deadline, "res_model_id": model_id, "res_id": dossier.id,
                "user_id": decider.id,
            })
        steps = Step.union(*opened.values())
        steps.sudo().with_context(hscm_internal=INTERNAL).write({"state": "pending"})  # system rows
        if vals_list:
            # Sudoed: the activity is the approver's, not the owner's to create;
            # deciders are told below, once each
            activities = self.env["mail.activity"].sudo().with_context(  # see the comment above
                mail_activity_quick_update=True).create(vals_list)
            self._notify_deciders(activities)
        return opened

    def _close_activities(self, feedback=None):
        activities = self.env["mail.activity"].sudo().search([  # our own activity type only
            ("res_model", "=", self._name), ("res_id", "in", self.ids),
            ("activity_type_id", "=", self.env.ref("hscm_odoo.mail_act_hscm_approval").id),
        ])
        if not feedback:
            activities.unlink()
        elif len(activities) <= 1:
            activities.action_feedback(feedback=feedback)
        else:
            # A batch: the same "done" note on each record's chatter, logged in
            # one insert (mail's _action_done renders and posts one by one).
            # Sudoed as above: the approver closes the activities assigned to them.
            dossiers = self.sudo().browse(activities.mapped("res_id"))  # see the comment above
            note = Markup("<p>%s</p>") % self.env._(
                "%(activity)s done: %(feedback)s",
                activity=activities[:1].activity_type_id.name, feedback=feedback)
            dossiers._message_log_batch({dossier.id: note for dossier in dossiers},
                                        author_id=self.env.user.partner_id.id)
            kept = activities.filtered("activity_type_id.keep_done")
            kept.action_archive()
            (activities - kept).unlink()

    def _notify_deciders(self, activities):
        """Tell each decider of their new approval activities: one activity,
        as Odoo does (mail.activity ``action_notify``); several from one
        batch, one message that lists them, instead of one e-mail each."""
        for user, assigned in activities.grouped("user_id").items():
            if len(assigned) == 1:
                assigned.action_notify()
                continue
            # Sudoed: a system notification to the decider, posted as the approver
            dossiers = self.browse(assigned.mapped("res_id")).sudo().with_context(  # see the comment above
                lang=user.lang or self.env.lang)
            env = dossiers.env
            items = Markup("").join(
                Markup("<li>%s: %s</li>") % (dossier.name, dossier.title) for dossier in dossiers)
            dossiers[:1].message_notify(
                partner_ids=user.partner_id.ids,
                subject=env._("%(count)s professional records to approve", count=len(dossiers)),
                body=Markup("<p>%s</p><ul>%s</ul>") % (
                    env._("These professional records wait for your decision:"), items),
                email_layout_xmlid="mail.mail_notification_light",
            )

    def _cannot_decide_reason(self, user):
        """Why ``user`` may not decide now (a translated string), or None."""
        self.ensure_one()
        if self.state != "submitted":
            return self.env._("Only a submitted record can be approved or rejected.")
        if user == self.owner_id:
            return self.env._("Nobody approves their own record.")
        step = self._current_steps().filtered(lambda s: s.state == "pending")[:1]
        if not step:
            return self.env._("No step waits for a decision.")
        if user not in step._deciders():
            approver = step.sudo().display_name  # only a name: portal staff may not read other users
            return self.env._("This step waits for %(approver)s.", approver=approver)
        return None

    def _lock_for_decision(self):
        """Lock the rows, then read them again. Two approvers at once, or a
        double click: the second finds the row locked, or changed since its
        transaction began (every decision writes ``last_decision_on``), and is
        told to reload; it never decides on a stale state."""
        try:
            self.env.cr.execute(
                SQL("SELECT id FROM hscm_dossier WHERE id IN %s ORDER BY id FOR UPDATE NOWAIT", tuple(self.ids)),
                log_exceptions=False,
            )
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure):
            raise user_error(_lt("Someone else is deciding on this record right now: "
                                 "reload it and try again.")) from None
        self.invalidate_recordset()
        self.env["hscm.dossier.approval"].invalidate_model()

    def _check_can_decide(self):
        self.check_access("read")
        for dossier in self:
            reason = dossier._cannot_decide_reason(self.env.user)
            if reason:
                raise UserError(f"{dossier.name}: {reason}")

    def action_approve(self, comment=None, passphrase=None, password=None):
        """Approve the current step of each dossier and sign its PDF with the
        approver's certificate (FR-29). ``passphrase``: the PKCS#12
        passphrase or token PIN, asked once for the whole batch and never
        stored; ``password``: the approver's account password, asked again
        before signing unless Odoo's identity check was passed in the last
        ten minutes."""
        if not self:
            return True
        self.check_access("read")
        self._lock_for_decision()
        self._check_can_decide()
        self._do_approve(comment=comment, signer=self._batch_signer(passphrase=passphrase, password=password))
        return True

    def _pending_steps(self):
        """``{dossier id: its step waiting for a decision}``."""
        return {dossier.id: dossier._current_steps().filtered(lambda s: s.state == "pending")[:1]
                for dossier in self}

    def _do_approve(self, comment=None, signer=None):
        """Approve the pending step of every dossier of the batch: sign (a
        few files in memory at a time; a batch in the signing process while
        this worker goes on) and the bookkeeping in batches: the steps in one
        write, the activities closed and opened together, one audit insert,
        one verification trigger. A dossier whose last step this is
        and whose policy asks for it is then sealed by its school."""
        now = fields.Datetime.now()
        seal_signers = self._seal_signers()  # refuses before anything is signed when a seal is missing
        steps = self._pending_steps()
        # a batch is signed by the signing process while the steps and activities are written
        with self._signing(steps, signer=signer) as finish_signing:
            decided = self.env["hscm.dossier.approval"].union(*steps.values())
            decided.sudo().with_context(hscm_internal=INTERNAL).write({  # system rows, deciders checked
                "state": "approved", "decided_by_id": self.env.uid, "decided_on": now, "comment": comment or False,
            })
            self._close_activities(feedback=comment or self.env._("Approved"))
            next_steps = self._activate_next_steps()
            signatures = finish_signing()
        finals = self.filtered(lambda d: not next_steps[d.id])
        seals = finals._apply_seals(seal_signers, now)
        # Sudoed: the approver decides; the record is not theirs to write.
        (self - finals).sudo()._write_internal({"last_decision_on": now})  # guarded by _check_can_decide
        entries = []
        for dossier in self:
            step = steps[dossier.id]
            final = dossier in finals
            if final:
                values = {"last_decision_on": now, "state": "approved", "approved_on": now}
                if dossier.type_id.forward_to_superior:
                    values["forwarded_to_id"] = dossier.school_id.reports_to_id.id
                dossier.sudo()._write_internal(values)  # as above
                dossier.sudo().message_post(  # posted as the approver, with the system's rights
                    body=self.env._("Approved by %(name)s.", name=self.env.user.name),
                    partner_ids=dossier.sudo().owner_id.partner_id.ids,  # approvers may not read users
                    subtype_xmlid="mail.mt_comment",
                )
            if dossier.id in signatures:
                entries.append(("sign", dossier, signatures[dossier.id]))
            entries.append(("approve", dossier, {
                "step": step.sequence, "role": step.role,
                "acting": step.sudo().acting_user_id.login or None,  # portal approvers may not read users
                "final": final, "comment": comment or None,
            }))
            if dossier.id in seals:
                entries.append(("sign", dossier, seals[dossier.id]))
        self.env["hscm.audit.log"]._log_many(entries)

    def action_reject(self, reason):
        """Reject with a written reason (FR-28): back to the owner."""
        if not (reason or "").strip():
            raise user_error(_lt("A rejection must say what is wrong."))
        self.check_access("read")
        self._lock_for_decision()
        self._check_can_decide()
        self._do_reject(reason.strip())
        return True

    def _do_reject(self, reason):
        now = fields.Datetime.now()
        for dossier in self:
            steps = dossier._current_steps()
            step = steps.filtered(lambda s: s.state == "pending")[:1]
            step.sudo().with_context(hscm_internal=INTERNAL).write({  # system row, decider checked
                "state": "rejected", "decided_by_id": self.env.uid, "decided_on": now, "comment": reason,
            })
            steps.filtered(lambda s: s.state == "waiting").sudo().with_context(  # system rows
                hscm_internal=INTERNAL).write({"state": "cancelled"})
            version = dossier.version_ids.sorted("number")[-1:]
            version.with_context(hscm_internal=INTERNAL).sudo().write({  # system record
                "rejection_reason": reason, "rejected_by_id": self.env.uid, "rejected_on": now,
            })
            dossier._close_activities()
            dossier.sudo()._write_internal({"state": "rejected", "last_decision_on": now})  # guarded above
            dossier.sudo().message_post(  # notify the owner, with the system's rights
                body=Markup("%s<br/>%s") % (
                    self.env._("Rejected by %(name)s. What to correct:", name=self.env.user.name), reason),
                partner_ids=dossier.sudo().owner_id.partner_id.ids,  # approvers may not read users
                subtype_xmlid="mail.mt_comment",
            )
            self.env["hscm.audit.log"]._log("reject", dossier, {"step": step.sequence, "reason": reason})

    def action_cancel(self):
        """The owner withdraws a record nobody has approved yet."""
        self.check_access("read")
        for dossier in self:
            if dossier.owner_id != self.env.user:
                raise user_error(_lt("Only the owner of %(ref)s withdraws it.", ref=dossier.name))
            if dossier.state not in ("draft", "submitted", "rejected") or dossier._current_steps().filtered(
                    lambda s: s.state == "approved"):
                raise user_error(_lt("%(ref)s cannot be withdrawn any more.", ref=dossier.name))
        self._lock_for_decision()
        for dossier in self:
            dossier._current_steps().filtered(lambda s: s.state in ("waiting", "pending")).with_context(
                hscm_internal=INTERNAL).sudo().write({"state": "cancelled"})  # system rows
            dossier._close_activities()
            dossier.sudo()._write_internal({"state": "cancelled"})  # the owner, checked above
            self.env["hscm.audit.log"]._log("cancel", dossier, {})
        return True

    def action_open_reject_wizard(self):
        self._check_can_decide()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reject"),
            "res_model": "hscm.dossier.reject.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids},
        }

    # ------------------------------------------------------------------
    # Files out
    # ------------------------------------------------------------------
    def action_download(self):
        self.ensure_one()
        self.check_access("read")
        return {"type": "ir.actions.act_url", "url": f"/hscm/dossier/{self.id}/file", "target": "self"}

    def action_printout(self):
        self.ensure_one()
        self.check_access("read")
        return {"type": "ir.actions.act_url", "url": f"/hscm/dossier/{self.id}/printout.pdf", "target": "self"}

    def action_export_register(self):
        """The register of the selected records as an Excel file."""
        domain = json.dumps([["id", "in", self.ids]])
        return {"type": "ir.actions.act_url", "target": "self",
                "url": f"/hscm/export/register.xlsx?{urllib.parse.urlencode({'domain': domain})}"}

    def _register_rows(self, batch=5000):
        """The rows of the register (Excel export) of these records, in id
        order, as tuples: reference, title, type, owner, school, department,
        subject, week, state, submitted on, deadline, late, approved on,
        SHA-256. ``self`` must have been found with the user's rights; the
        names are read in one query per ``batch`` records (50,000 rows in a
        second or so, where the ORM takes ten)."""
        lang = self.env.lang or "en_US"
        ids = self.ids
        for start in range(0, len(ids), batch):
            self.env.cr.execute(SQL("""
                SELECT d.name, d.title, COALESCE(t.name->>%(lang)s, t.name->>'en_US'), p.name, s.name, dep.name,
                       COALESCE(subj.name->>%(lang)s, subj.name->>'en_US'), d.week_number, d.state,
                       d.submitted_on, d.deadline, COALESCE(d.is_late, FALSE), d.approved_on, d.file_sha256
                  FROM hscm_dossier d
                  JOIN hscm_dossier_type t ON t.id = d.type_id
                  JOIN res_users u ON u.id = d.owner_id
                  JOIN res_partner p ON p.id = u.partner_id
                  LEFT JOIN hscm_school s ON s.id = d.school_id
                  LEFT JOIN hscm_school_department dep ON dep.id = d.school_department_id
                  LEFT JOIN hscm_subject subj ON subj.id = d.subject_id
                 WHERE d.id = ANY(%(ids)s)
                 ORDER BY d.id
            """, lang=lang, ids=ids[start:start + batch]))
            yield from self.env.cr.fetchall()

    def _log_download(self, version=None):
        """Every download by an inspector (office, Sở) is traced (FR-39)."""
        user = self.env.user
        inspector = any(user.has_group(g) for g in (
            "hscm_odoo.group_office_inspector", "hscm_odoo.group_city_specialist", "hscm_odoo.group_city_leader"))
        if inspector or user != self.owner_id:
            self.env["hscm.audit.log"]._log("download", self, {
                "version": version.number if version else None, "inspector": inspector})
