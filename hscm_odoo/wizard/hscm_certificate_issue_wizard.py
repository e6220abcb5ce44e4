from odoo import fields, models


class HscmCertificateIssueWizard(models.TransientModel):
    """Issue organisation-CA certificates to staff (or the school seal),
    each as a PKCS#12 archive protected by the passphrase given here, which
    the staff member then uses to sign. The passphrase is wiped at once."""

    _name = "hscm.certificate.issue.wizard"
    _description = "Issue certificates from the organisation CA"

    ca_id = fields.Many2one("hscm.certificate.authority", required=True,
                            default=lambda self: self.env.context.get("active_id"))
    kind = fields.Selection([("person", "Staff certificates"), ("seal", "School seal")], default="person",
                            required=True)
    user_ids = fields.Many2many("res.users", string="Staff")
    school_id = fields.Many2one("hscm.school", help="For a school seal: the school.")
    seal_user_id = fields.Many2one("res.users", string="Seal kept by",
                                   help="For a school seal: the account that signs with it (the principal).")
    passphrase = fields.Char(required=True, help="Protects the new certificate files; tell it to their holders.")

    def action_issue(self):
        self.ensure_one()
        passphrase = self.passphrase
        self.write({"passphrase": False})
        if self.kind == "seal":
            credentials = self.ca_id._issue(self.seal_user_id, passphrase, kind="seal", school=self.school_id)
        else:
            credentials = self.env["hscm.signing.credential"]
            for user in self.user_ids:
                credentials |= self.ca_id._issue(user, passphrase)
        return {
            "type": "ir.actions.act_window",
            "res_model": "hscm.signing.credential",
            "view_mode": "list,form",
            "domain": [("id", "in", credentials.ids)],
            "name": self.env._("Issued certificates"),
        }
