import base64
import hashlib
import hmac

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import org_ca


class HscmCertificateAuthority(models.Model):
    """An organisation CA that a Sở or a school runs inside the product, to
    issue staff certificates to those without a public one, and the school's
    seal certificate. Every certificate it issues is marked as internal (a
    certificate policy and the organisational unit say so), and the
    verification report shows that mark.

    The CA key is stored encrypted with a passphrase derived from the
    database secret: it protects the key in exports of this table, not from
    someone who holds the whole database. A school that needs more uses a
    licensed public CA, a token or remote signing instead.
    """

    _name = "hscm.certificate.authority"
    _description = "Organisation certificate authority"
    _order = "name"

    name = fields.Char(required=True, help="Common name of the CA certificate.")
    organisation = fields.Char(required=True)
    authority_id = fields.Many2one("hscm.authority", string="Run by the Sở or office", index=True,
                                   ondelete="restrict")
    school_id = fields.Many2one("hscm.school", string="Run by the school", index=True, ondelete="restrict")
    valid_years = fields.Integer(default=10)
    certificate = fields.Binary(readonly=True, attachment=False, copy=False)
    key_encrypted = fields.Binary(readonly=True, attachment=False, copy=False, groups="base.group_system")
    sha256 = fields.Char(string="SHA-256 fingerprint", readonly=True, copy=False)
    trust_root_id = fields.Many2one("hscm.trust.root", readonly=True, copy=False, ondelete="restrict")
    credential_ids = fields.One2many("hscm.signing.credential", "ca_id", string="Issued certificates")
    certificate_validity_days = fields.Integer(default=730, string="Validity of issued certificates (days)")
    active = fields.Boolean(default=True)

    @api.model_create_multi
    def create(self, vals_list):
        authorities = super().create(vals_list)
        for ca in authorities:
            ca._generate()
        return authorities

    def _key_passphrase(self):
        self.ensure_one()
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")  # never leaves the server
        return hmac.new(secret.encode(), f"hscm-ca-{self.id}".encode(), hashlib.sha256).hexdigest().encode()

    def _generate(self):
        self.ensure_one()
        bundle = org_ca.create_ca(self.name, self.organisation, valid_years=self.valid_years,
                                  key_passphrase=self._key_passphrase())
        root = self.env["hscm.trust.root"].sudo().create({  # the platform manager's CA becomes a trust root
            "name": self.name, "kind": "organisation", "certificate": base64.b64encode(bundle.cert_der),
            "certificate_file_name": f"{self.name}.cer",
        })
        self.sudo().write({  # the key field is the system group's only
            "certificate": base64.b64encode(bundle.cert_der),
            "key_encrypted": base64.b64encode(bundle.key_pem_encrypted),
            "sha256": bundle.sha256,
            "trust_root_id": root.id,
        })

    def _bundle(self):
        self.ensure_one()
        ca = self.sudo()  # the encrypted key, for this CA's own operations
        return org_ca.CaBundle(cert_der=base64.b64decode(ca.certificate),
                               key_pem_encrypted=base64.b64decode(ca.key_encrypted), serial=0)

    def _issue(self, user, p12_passphrase, kind="person", school=None):
        """Issue a certificate for ``user`` (or the seal of ``school``) and
        record it as their PKCS#12 signing credential."""
        self.ensure_one()
        if kind == "seal":
            # the system applies the seal after the last approval, unattended:
            # its file is protected like this CA's key (docs/signatures.md)
            p12_passphrase = self.env["hscm.signing.credential"]._seal_passphrase(school)
        if not p12_passphrase:
            raise UserError(self.env._("Choose a passphrase for the new certificate."))
        staff = user.hscm_staff_ids.filtered("active")[:1]
        issued = org_ca.issue_certificate(
            self._bundle(), self._key_passphrase(),
            common_name=school.name if kind == "seal" else user.name,
            email=None if kind == "seal" else (user.email or None),
            organisation=(school or staff.school_id).name or self.organisation,
            kind=kind, valid_days=self.certificate_validity_days,
            p12_passphrase=p12_passphrase.encode() if isinstance(p12_passphrase, str) else p12_passphrase,
        )
        credential = self.env["hscm.signing.credential"].sudo().create({  # the CA issues for others
            "user_id": user.id,
            "method": "pkcs12",
            "kind": kind,
            "school_id": (school or staff.school_id).id,
            "ca_id": self.id,
            "certificate": base64.b64encode(issued.cert_der),
            "pkcs12_data": base64.b64encode(issued.pkcs12),
        })
        self.env["hscm.audit.log"]._log("certificate_issue", credential, {
            "sha256": issued.sha256, "ca": self.sha256, "kind": kind, "for": user.login})
        return credential

    def action_issue_for_approvers(self, p12_passphrase):
        """Issue a certificate to every approver in this CA's scope (heads,
        deputies, group leaders, vice principals, principals of its schools)
        who has none yet. Returns the new credentials."""
        self.ensure_one()
        schools = self.school_id or self.env["hscm.school"].search([("authority_id", "=", self.authority_id.id)])
        codes = ("principal", "vice_principal", "department_head", "department_deputy", "group_leader")
        users = self.env["res.users"]
        for code in codes:
            for school in schools:
                users |= school._staff_holding(code).user_id
        credentials = self.env["hscm.signing.credential"]
        for user in users.sorted("id"):
            if not self.env["hscm.signing.credential"]._for_user(user):
                credentials |= self._issue(user, p12_passphrase)
        return credentials

    def _crl(self):
        """The CA's current CRL (DER): every certificate it issued that was revoked."""
        self.ensure_one()
        revoked = self.env["hscm.signing.credential"].sudo().with_context(active_test=False).search([  # public facts
            ("ca_id", "=", self.id), ("revoked_on", "!=", False)])  # revocation facts are public
        return org_ca.make_crl(self._bundle(), self._key_passphrase(),
                               [(int(c.serial, 16), c.revoked_on) for c in revoked])
