import datetime as dt

from odoo import api, fields, models
from odoo.tools.translate import LazyTranslate

from .hscm_dossier import INTERNAL, read_binary, store_binary, user_error

_lt = LazyTranslate(__name__)

LIFETIME = dt.timedelta(minutes=10)


class HscmSigningRequest(models.Model):
    """A signature prepared on the server for the approver's own device
    (deferred signing): the prepared document and what the device must
    sign, kept until the value comes back or ten minutes pass."""

    _name = "hscm.signing.request"
    _description = "Signature waiting for the signer's device"
    _order = "id desc"

    dossier_id = fields.Many2one("hscm.dossier", required=True, index=True, ondelete="cascade", readonly=True)
    approval_id = fields.Many2one("hscm.dossier.approval", required=True, ondelete="cascade", readonly=True)
    user_id = fields.Many2one("res.users", required=True, index=True, ondelete="cascade", readonly=True)
    credential_id = fields.Many2one("hscm.signing.credential", required=True, ondelete="cascade", readonly=True)
    file_sha256 = fields.Char(readonly=True, help="The dossier's file the signature was prepared for.")
    state_file = fields.Binary(attachment=True, readonly=True)
    expires_on = fields.Datetime(readonly=True, index=True)
    used = fields.Boolean(readonly=True)

    @api.model
    def _open(self, dossier, step, credential, prepared):
        request = self.sudo().with_context(hscm_internal=INTERNAL).create([{  # the system's bookkeeping
            "dossier_id": dossier.id, "approval_id": step.id, "user_id": self.env.uid,
            "credential_id": credential.id, "file_sha256": dossier.file_sha256,
            "expires_on": fields.Datetime.now() + LIFETIME,
        }])
        store_binary(request, "state_file", prepared.state, "application/json")
        return request

    @api.model
    def _take(self, request_id, dossier):
        """The unused, unexpired request of this user for ``dossier``'s current
        step and current file; marked used (one signature per request)."""
        request = self.sudo().browse(int(request_id)).exists()  # checked field by field below
        step = dossier._current_steps().filtered(lambda s: s.state == "pending")[:1]
        if (not request or request.user_id != self.env.user or request.dossier_id != dossier
                or request.approval_id != step or request.used):
            raise user_error(_lt("This prepared signature is not yours to use, or was used already."))
        if request.expires_on < fields.Datetime.now() or request.file_sha256 != dossier.sudo().file_sha256:  # hash only, of the dossier being signed
            raise user_error(_lt("The prepared signature is no longer valid: prepare it again."))
        request.with_context(hscm_internal=INTERNAL).write({"used": True})
        return request

    def _state_bytes(self):
        self.ensure_one()
        return read_binary(self.sudo(), "state_file")  # the system's own record

    @api.autovacuum
    def _gc_expired(self):
        self.sudo().search([("expires_on", "<", fields.Datetime.now() - dt.timedelta(days=1))]).unlink()  # expired requests only: housekeeping
