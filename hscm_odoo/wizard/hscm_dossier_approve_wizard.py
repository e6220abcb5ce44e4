from odoo import api, fields, models


class HscmDossierApproveWizard(models.TransientModel):
    """Approve one or several dossiers: asks once for the passphrase (or PIN)
    of the approver's certificate and for their password, like Odoo's own
    identity check. Both are wiped from the wizard as soon as it ran."""

    _name = "hscm.dossier.approve.wizard"
    _description = "Approve and sign professional records"

    dossier_ids = fields.Many2many("hscm.dossier", string="Records")
    comment = fields.Text()
    needs_signature = fields.Boolean(compute="_compute_needs_signature")
    credential_name = fields.Char(compute="_compute_needs_signature", string="Certificate")
    passphrase = fields.Char(string="Passphrase or PIN", help="Of your certificate file or token; never stored.")
    password = fields.Char(help="Your account password, asked again before signing.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        values["dossier_ids"] = [(6, 0, self.env.context.get("active_ids", []))]
        return values

    @api.depends("dossier_ids")
    def _compute_needs_signature(self):
        credential = self.env["hscm.signing.credential"]._for_user(self.env.user)
        for wizard in self:
            wizard.needs_signature = any(d._needs_signature(credential) for d in wizard.dossier_ids)
            wizard.credential_name = credential.name or False

    def action_approve(self):
        self.ensure_one()
        passphrase, password = self.passphrase, self.password
        self.write({"passphrase": False, "password": False})
        self.dossier_ids.action_approve(comment=self.comment, passphrase=passphrase, password=password)
        return {"type": "ir.actions.act_window_close"}
