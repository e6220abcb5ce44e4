import base64

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.certificates import read_certificate


class HscmTrustRoot(models.Model):
    """A root certificate that signatures must chain to (Decree 23/2025):
    Vietnam's national root CA, the government CA, a licensed public CA, or
    an organisation CA run inside the product (marked as internal)."""

    _name = "hscm.trust.root"
    _description = "Trusted root certificate"
    _order = "kind, name"

    name = fields.Char(required=True)
    kind = fields.Selection([
        ("national", "National root CA"),
        ("government", "Government CA"),
        ("public", "Licensed public CA"),
        ("organisation", "Organisation CA (internal)"),
        ("test", "Test"),
    ], required=True, default="public")
    certificate = fields.Binary(required=True, attachment=False, help="DER or PEM.")
    certificate_file_name = fields.Char()
    sha256 = fields.Char(string="SHA-256 fingerprint", compute="_compute_facts", store=True, index=True)
    subject = fields.Char(compute="_compute_facts", store=True)
    not_after = fields.Datetime(string="Valid until", compute="_compute_facts", store=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [("sha256_uniq", "unique(sha256)", "This certificate is already trusted.")]

    @api.depends("certificate")
    def _compute_facts(self):
        for root in self:
            facts = root._facts()
            root.sha256 = facts.sha256 if facts else False
            root.subject = facts.subject_cn if facts else False
            root.not_after = facts.not_after if facts else False

    def _facts(self):
        self.ensure_one()
        if not self.certificate:
            return None
        try:
            return read_certificate(base64.b64decode(self.certificate))
        except ValueError:
            return None

    @api.constrains("certificate")
    def _check_certificate(self):
        for root in self:
            facts = root._facts()
            if not facts:
                raise ValidationError(self.env._("This file is not an X.509 certificate (DER or PEM)."))
            if not facts.is_ca:
                raise ValidationError(self.env._("%(name)s is not a CA certificate.", name=facts.subject_cn))

    @api.model
    def _trusted_der(self):
        """DER of every active trust root (read by the verification of any
        dossier, whoever asks: the list itself is not confidential)."""
        roots = self.sudo().search([("active", "=", True)])  # public certificates; see docstring
        return [root._facts().der for root in roots if root._facts()]
