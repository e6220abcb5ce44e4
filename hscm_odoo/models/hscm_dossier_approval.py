from odoo import api, fields, models
from odoo.exceptions import UserError

from .hscm_approval_template_step import APPROVER_ROLES
from .hscm_dossier import INTERNAL

STEP_STATES = [
    ("proposed", "Proposed"),
    ("waiting", "Waiting"),
    ("pending", "To decide"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("cancelled", "Cancelled"),
]


class HscmDossierApproval(models.Model):
    """One step of a dossier's approval chain: who is expected, who acts for
    them under a delegation, and what they decided, when, with what comment
    (like OCA ``tier.review``)."""

    _name = "hscm.dossier.approval"
    _description = "Dossier approval step"
    _order = "dossier_id, sequence, id"

    dossier_id = fields.Many2one("hscm.dossier", required=True, index=True, ondelete="cascade")
    version_number = fields.Integer(readonly=True)
    sequence = fields.Integer(default=10)
    role = fields.Selection(APPROVER_ROLES + [("extra", "Signer added by the submitter"),
                                              ("seal", "School seal (after the last approval)")], required=True,
                            default="extra")
    required = fields.Boolean(readonly=True)
    expected_user_id = fields.Many2one("res.users", string="Approver", required=True, index=True,
                                       ondelete="restrict")
    acting_user_id = fields.Many2one("res.users", string="Acting for them", index=True, readonly=True,
                                     ondelete="restrict")
    delegation_id = fields.Many2one("hscm.delegation", readonly=True, ondelete="restrict")
    state = fields.Selection(STEP_STATES, default="proposed", required=True, readonly=True, index=True)
    decided_by_id = fields.Many2one("res.users", string="Decided by", readonly=True, ondelete="restrict")
    decided_on = fields.Datetime(readonly=True)
    comment = fields.Text(readonly=True)
    # The signature made at this step (FR-29): the file right after it is kept for good
    signature_method = fields.Selection([
        ("account", "Approved with the account (no certificate)"),
        ("pkcs12", "Certificate file (PKCS#12)"),
        ("pkcs11", "USB token or HSM (PKCS#11)"),
        ("csc", "Remote signing service (CSC API)"),
        ("client_token", "Token on the signer's device"),
    ], readonly=True)
    signature_field = fields.Char(readonly=True)
    signer_cert_sha256 = fields.Char(string="Signer certificate SHA-256", readonly=True, index=True)
    signer_subject = fields.Char(string="Signer certificate", readonly=True)
    signer_internal = fields.Boolean(string="Internal certificate", readonly=True)
    signed_file = fields.Binary(string="File after this signature", attachment=True, readonly=True)
    signed_sha256 = fields.Char(string="SHA-256 after this signature", readonly=True)
    signed_size = fields.Integer(string="Size after this signature", readonly=True)

    # What a submitter may set on a proposed step; the rest is the system's.
    _owner_fields = {"sequence", "expected_user_id", "role", "dossier_id"}

    @api.depends("expected_user_id", "acting_user_id", "delegation_id")
    def _compute_display_name(self):
        for step in self:
            if step.acting_user_id and step.acting_user_id != step.expected_user_id:
                step.display_name = self.env._("%(delegate)s, acting for %(approver)s",
                                               delegate=step.acting_user_id.name,
                                               approver=step.expected_user_id.name)
            else:
                step.display_name = step.expected_user_id.name or ""

    def _deciders(self):
        """Who may decide this step: the approver, and the delegate acting for them."""
        self.ensure_one()
        return self.expected_user_id | self.acting_user_id

    def _internal(self):
        return self.env.context.get("hscm_internal") is INTERNAL

    @api.model_create_multi
    def create(self, vals_list):
        if not self._internal():
            for vals in vals_list:
                if set(vals) - self._owner_fields:
                    raise UserError(self.env._("Only the order and the signers of a proposed chain can be set."))
        steps = super().create(vals_list)
        if not self._internal():
            steps._check_owner_may_edit()
        return steps

    def write(self, vals):
        if not self._internal():
            if set(vals) - self._owner_fields:
                raise UserError(self.env._("Approval decisions are recorded by the system only."))
            self._check_owner_may_edit()
        return super().write(vals)

    def _check_owner_may_edit(self):
        for step in self:
            dossier = step.dossier_id
            if step.state != "proposed" or dossier.state not in ("draft", "rejected"):
                raise UserError(self.env._("The approval chain of %(ref)s is fixed once submitted.",
                                           ref=dossier.name))
            if step.role == "extra" and not dossier._policy().allow_extra_signers:
                raise UserError(self.env._("Records of type %(type)s take no extra signers.",
                                           type=dossier.type_id.name))

    @api.ondelete(at_uninstall=False)
    def _unlink_only_proposed(self):
        if not self._internal() and any(step.state != "proposed" for step in self):
            raise UserError(self.env._("A step of a submitted chain is never deleted."))
        if not self._internal() and any(step.required for step in self):
            raise UserError(self.env._("A required approval level cannot be removed."))
