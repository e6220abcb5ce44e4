import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import SQL

from ..tools import audit_chain

_logger = logging.getLogger(__name__)

EVENTS = [
    ("submit", "Submitted"),
    ("resubmit", "Resubmitted"),
    ("approve", "Approved a step"),
    ("reject", "Rejected"),
    ("cancel", "Cancelled"),
    ("file_change", "File changed"),
    ("download", "Downloaded"),
    ("delegation_create", "Delegation created"),
    ("delegation_change", "Delegation changed"),
    ("lock", "Period locked"),
    ("unlock_request", "Unlock requested"),
    ("unlock_approve", "Unlock approved"),
    ("unlock_refuse", "Unlock refused"),
    ("relock", "Period relocked"),
    ("refused_upload", "Upload refused"),
    ("sign", "Signed"),
    ("certificate_issue", "Certificate issued"),
    ("certificate_revoke", "Certificate revoked"),
    ("verify", "Signatures verified"),
    ("import", "Imported from Excel"),
    ("export", "Exported to Excel"),
    ("reminder", "Reminders sent"),
    ("violation_issue", "Violation record issued"),
    ("violation_cancel", "Violation record cancelled"),
]


class HscmAuditLog(models.Model):
    """Append-only audit trail with a SHA-256 chain (FR-39, FR-41).

    Entries are only ever added through :meth:`_log`, which takes the chain
    head row lock (``hscm.audit.head``) so concurrent writers queue up and
    the chain never forks. Nothing can write or delete an entry through the
    ORM; a change made behind its back (SQL) is found by :meth:`_verify`.
    """

    _name = "hscm.audit.log"
    _description = "Audit trail entry"
    _order = "sequence desc"
    _log_access = False

    sequence = fields.Integer(required=True, readonly=True, index=True)
    at = fields.Datetime(string="When", required=True, readonly=True)
    event = fields.Selection(EVENTS, required=True, readonly=True, index=True)
    user_id = fields.Many2one("res.users", string="Who", readonly=True, index=True, ondelete="restrict")
    login = fields.Char(readonly=True)
    ip_address = fields.Char(string="From address", readonly=True)
    res_model = fields.Char(string="Model", readonly=True, index=True)
    res_id = fields.Integer(string="Record", readonly=True, index=True)
    res_name = fields.Char(string="Record name", readonly=True)
    details = fields.Text(readonly=True)
    previous_digest = fields.Char(readonly=True)
    digest = fields.Char(readonly=True)

    _sql_constraints = [
        ("sequence_uniq", "unique(sequence)", "Audit entries are numbered once."),
    ]

    @api.model
    def _log(self, event, record, details=None):
        """Append one entry for ``record`` (any recordset of one, or False)."""
        return self._log_many([(event, record, details)])

    @api.model
    def _log_many(self, entries):
        """Append one entry per ``(event, record, details)``, in order, under
        one lock of the chain head: a batch of decisions gets its entries in
        one insert, each still chained to the one before it."""
        if not entries:
            return self
        user = self.env.user
        address = None
        if request:
            address = request.httprequest.remote_addr
        at = fields.Datetime.to_string(fields.Datetime.now())
        vals_list = [{
            "at": at,
            "event": event,
            "user_id": user.id,
            "login": user.login,
            "ip_address": address,
            "res_model": record._name if record else None,
            "res_id": record.id if record else None,
            "res_name": record.sudo().display_name if record else None,  # a label for the trail
            "details": audit_chain.canonical(details or {}).decode(),
        } for event, record, details in entries]
        head = self.env["hscm.audit.head"]._lock()
        sequence, previous = head.sequence, head.digest
        for values in vals_list:
            sequence += 1
            digest = audit_chain.digest(previous, dict(values, sequence=sequence))
            values.update(sequence=sequence, previous_digest=previous, digest=digest)
            previous = digest
        # Sudoed: users never get create rights on the trail; this method is
        # the only writer and records who acted in user_id/login.
        created = super(HscmAuditLog, self.sudo()).create(vals_list)  # see the comment above
        head._advance(sequence, previous)
        return created

    @api.model_create_multi
    def create(self, vals_list):
        raise UserError(self.env._("Audit entries are only added by the system."))

    def write(self, vals):
        raise UserError(self.env._("The audit trail cannot be changed."))

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("The audit trail cannot be deleted."))

    @api.model
    def _verify(self, batch=5000):
        """Walk the whole chain; return ``(ok, first_bad_sequence, reason)``."""
        head = self.env["hscm.audit.head"]._get()
        last = {"sequence": 0, "digest": audit_chain.GENESIS}

        def rows():
            while True:
                self.env.cr.execute(SQL(
                    "SELECT sequence, previous_digest, digest, at, event, user_id, login, ip_address,"
                    " res_model, res_id, res_name, details FROM hscm_audit_log"
                    " WHERE sequence > %s ORDER BY sequence LIMIT %s", last["sequence"], batch))
                fetched = self.env.cr.fetchall()
                if not fetched:
                    return
                for sequence, previous, stored, at, event, user_id, login, ip, model, res_id, name, details in fetched:
                    last.update(sequence=sequence, digest=stored)
                    yield sequence, previous, stored, {
                        "sequence": sequence, "at": fields.Datetime.to_string(at), "event": event,
                        "user_id": user_id, "login": login, "ip_address": ip, "res_model": model,
                        "res_id": res_id, "res_name": name, "details": details,
                    }

        ok, bad, reason = audit_chain.verify(rows())
        if ok and (last["sequence"], last["digest"]) != (head.sequence, head.digest):
            return False, last["sequence"] + 1, (
                "the chain does not end at the recorded head (entries removed or added at the end)")
        return ok, bad, reason

    @api.model
    def action_verify_chain(self):
        ok, bad, reason = self._verify()
        if ok:
            message = self.env._("The audit trail is intact (%(count)s entries).",
                                 count=self.env["hscm.audit.head"]._get().sequence)
            kind = "success"
        else:
            message = self.env._("The audit trail is broken at entry %(entry)s: %(reason)s",
                                 entry=bad, reason=reason)
            kind = "danger"
            _logger.error("audit trail broken at entry %s: %s", bad, reason)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": self.env._("Audit trail check"), "message": message, "type": kind,
                       "sticky": not ok},
        }
