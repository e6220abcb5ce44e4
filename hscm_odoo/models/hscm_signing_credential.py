import base64
import hashlib
import hmac

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.translate import LazyTranslate

from ..tools import signing_methods
from ..tools.certificates import names_holder, read_certificate
from ..tools.pades import PadesError

from .hscm_dossier import user_error
from .hscm_dossier_signing import signing_error

_lt = LazyTranslate(__name__)

METHODS = [
    ("pkcs12", "Certificate file (PKCS#12)"),
    ("pkcs11", "USB token or HSM (PKCS#11)"),
    ("csc", "Remote signing service (CSC API)"),
    ("client_token", "Token on my own device"),
]


class HscmSigningCredential(models.Model):
    """How one user signs: a certificate and the method that reaches its
    private key. A PKCS#12 file is stored as uploaded (its key is encrypted
    with the user's passphrase, which is asked at signing time and never
    stored); a token, an HSM or a remote service keeps the key itself."""

    _name = "hscm.signing.credential"
    _description = "Signing certificate of a user"
    _order = "user_id, sequence, id"

    name = fields.Char(compute="_compute_name", store=True)
    user_id = fields.Many2one("res.users", required=True, index=True, ondelete="cascade",
                              default=lambda self: self.env.user)
    sequence = fields.Integer(default=10, help="The first active credential is the one used to sign.")
    method = fields.Selection(METHODS, required=True, default="pkcs12")
    kind = fields.Selection([("person", "Personal"), ("seal", "School seal")], required=True, default="person")
    school_id = fields.Many2one("hscm.school", index=True, ondelete="restrict")
    ca_id = fields.Many2one("hscm.certificate.authority", string="Issued by the organisation CA", readonly=True,
                            index=True, ondelete="restrict")
    certificate = fields.Binary(required=True, attachment=False)
    cert_sha256 = fields.Char(string="Certificate SHA-256", compute="_compute_facts", store=True, index=True)
    subject = fields.Char(compute="_compute_facts", store=True)
    issuer = fields.Char(compute="_compute_facts", store=True)
    serial = fields.Char(compute="_compute_facts", store=True)
    not_before = fields.Datetime(string="Valid from", compute="_compute_facts", store=True)
    not_after = fields.Datetime(string="Valid until", compute="_compute_facts", store=True)
    is_internal = fields.Boolean(string="Internal certificate", compute="_compute_facts", store=True,
                                 help="Issued by an organisation CA run inside the product, not by a licensed CA.")
    # The PKCS#12 archive as uploaded: its key is encrypted with the user's passphrase
    pkcs12_data = fields.Binary(string="PKCS#12 file", attachment=True, groups="base.group_system")
    pkcs11_module = fields.Char(string="PKCS#11 module", help="e.g. /usr/lib/softhsm/libsofthsm2.so")
    pkcs11_token_label = fields.Char(string="Token label")
    pkcs11_key_label = fields.Char(string="Key label")
    pkcs11_cert_label = fields.Char(string="Certificate label")
    csc_url = fields.Char(string="Service address",
                          help="Base URL of the service, before /csc/v1 or /csc/v2, e.g. https://rs.example.vn")
    csc_api_version = fields.Selection([
        ("auto", "Detect from the service"),
        ("v1", "CSC API v1 (1.0.4.0)"),
        ("v2", "CSC API v2 (2.0.0.2)"),
    ], string="API version", default="auto", required=True,
        help="Detect: CSC API v2 when the service's info method says so, else v1. With v2 the service "
             "account and its password are the OAuth 2.0 client id and secret, unless the service asks "
             "for HTTP Basic.")
    csc_username = fields.Char(string="Service account")
    csc_credential_id = fields.Char(string="Credential id")
    revoked_on = fields.Datetime(readonly=True, copy=False)
    revocation_reason = fields.Char(readonly=True, copy=False)
    active = fields.Boolean(default=True)

    @api.depends("certificate")
    def _compute_facts(self):
        for credential in self:
            facts = credential._facts()
            credential.update({
                "cert_sha256": facts.sha256 if facts else False,
                "subject": facts.subject_cn if facts else False,
                "issuer": facts.issuer_cn if facts else False,
                "serial": facts.serial if facts else False,
                "not_before": facts.not_before if facts else False,
                "not_after": facts.not_after if facts else False,
                "is_internal": bool(facts and facts.internal),
            })

    @api.depends("subject", "method")
    def _compute_name(self):
        labels = dict(METHODS)
        for credential in self:
            credential.name = f"{credential.subject or '?'} ({labels.get(credential.method, '')})"

    def _facts(self):
        self.ensure_one()
        try:
            return read_certificate(base64.b64decode(self.certificate)) if self.certificate else None
        except ValueError:
            return None

    @api.constrains("certificate")
    def _check_certificate(self):
        for credential in self:
            if not credential._facts():
                raise ValidationError(self.env._("This file is not an X.509 certificate (DER or PEM)."))

    @api.constrains("certificate", "user_id", "kind")
    def _check_holder(self):
        """A certificate signs for the person it was issued to, and for one
        account only (a wrong-person certificate is refused)."""
        for credential in self:
            facts = credential._facts()
            if not facts:
                continue
            taken = self.sudo().with_context(active_test=False).search_count([  # across accounts, ids only
                ("cert_sha256", "=", facts.sha256), ("user_id", "!=", credential.user_id.id),
                ("revoked_on", "=", False)])
            if taken:
                raise ValidationError(self.env._("This certificate is registered to another account."))
            user = credential.user_id.sudo()  # the holder's name and e-mail, to compare
            if credential.kind == "person" and not names_holder(facts, user.name, (user.email, user.login)):
                raise ValidationError(self.env._("This certificate was issued to %(subject)s, not to %(user)s.",
                                                 subject=facts.subject_cn, user=user.name))

    @api.constrains("method", "pkcs11_module", "pkcs11_token_label", "pkcs11_key_label", "csc_url",
                    "csc_username")
    def _check_method_settings(self):
        for credential in self:
            if credential.method == "pkcs11" and not (credential.pkcs11_module and credential.pkcs11_token_label
                                                      and credential.pkcs11_key_label):
                raise ValidationError(self.env._("A token needs its module, token label and key label."))
            if credential.method == "csc" and not (credential.csc_url and credential.csc_username):
                raise ValidationError(self.env._("Remote signing needs the service address and account."))

    @api.model
    def _for_user(self, user, kind="person"):
        """The credential ``user`` signs with: the first active, unrevoked one."""
        return self.sudo().search([  # read by the signing code for the deciding user only
            ("user_id", "=", user.id), ("kind", "=", kind), ("revoked_on", "=", False)], limit=1)

    @api.model
    def _seal_passphrase(self, school):
        """The passphrase of the PKCS#12 file of ``school``'s seal issued by an
        organisation CA: derived from the database secret, like the CA's own
        key (see docs/signatures.md), so the system applies the seal after
        the last approval without anyone typing it."""
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")  # never leaves the server
        return hmac.new(secret.encode(), f"hscm-seal-{school.id}".encode(), hashlib.sha256).hexdigest()

    @api.model
    def _seal_for(self, school):
        """The school's seal credential that can sign now, or an empty recordset."""
        now = fields.Datetime.now()
        return self.sudo().search([  # the school's seal, read by the approval code only
            ("kind", "=", "seal"), ("school_id", "=", school.id), ("method", "=", "pkcs12"),
            ("revoked_on", "=", False), ("not_before", "<=", now), ("not_after", ">=", now),
        ], limit=1)

    @api.model
    def _seal_method(self, school, dossier_type):
        """``(credential, opened signing method)`` of ``school``'s seal;
        refuses (bilingual) when the school has no seal that opens and signs."""
        seal = self._seal_for(school)
        if seal:
            try:
                method = seal._signing_method(self._seal_passphrase(school))
                if hashlib.sha256(method.certificate()).hexdigest() == seal.cert_sha256:
                    signing_methods.check_certificate(method.certificate())
                    return seal, method
            except PadesError:
                pass
        raise user_error(_lt(
            "Records of type %(type)s are sealed by the school after the last approval, and %(school)s "
            "has no valid seal certificate: ask the school administrator to have one issued.",
            type=dossier_type.name, school=school.name))

    def _signing_method(self, secret):
        """The pure signing method for this credential; ``secret`` is the
        PKCS#12 passphrase, the token PIN or the remote service's password
        and PIN as ``password:pin``. Never stored, never logged."""
        self.ensure_one()
        if self.revoked_on:
            raise UserError(self.env._("This certificate was revoked on %(date)s.", date=self.revoked_on))
        secret = secret or ""
        if self.method == "pkcs12":
            data = base64.b64decode(self.sudo().pkcs12_data or b"")  # the owner's archive, to sign as the owner
            return signing_methods.Pkcs12Method(data, secret.encode())
        if self.method == "pkcs11":
            return signing_methods.Pkcs11Method(self.pkcs11_module, self.pkcs11_token_label, secret,
                                                self.pkcs11_key_label, cert_label=self.pkcs11_cert_label or None)
        if self.method == "csc":
            password, _sep, pin = secret.partition(":")
            timeout = self.env["hscm.dossier"]._network_timeout()
            return signing_methods.CscMethod(self.csc_url, username=self.csc_username, password=password,
                                             credential_id=self.csc_credential_id or None, pin=pin,
                                             timeout=timeout, api_version=self.csc_api_version or "auto")
        raise UserError(self.env._("This certificate signs on your own device: prepare the signature "
                                   "there, then send its value back."))

    @api.model
    def register_pkcs12(self, pkcs12, passphrase):
        """Register the caller's own PKCS#12 file (base64) as their signing
        certificate; the passphrase only proves the file opens and is not
        kept. Returns the new credential's id."""
        try:
            data = base64.b64decode(pkcs12 or "", validate=True)
            certificate = signing_methods.Pkcs12Method(data, (passphrase or "").encode()).certificate()
        except (ValueError, PadesError) as error:
            raise signing_error(error) from None
        credential = self.sudo().create({  # the caller's own credential; the archive field is system-only
            "user_id": self.env.uid, "method": "pkcs12",
            "certificate": base64.b64encode(certificate), "pkcs12_data": base64.b64encode(data),
        })
        self.env["hscm.audit.log"]._log("certificate_issue", credential, {
            "sha256": credential.cert_sha256, "uploaded": True})
        return credential.id

    def action_revoke(self, reason=None):
        """Revoke (leaving staff, lost token): never used again; the CRL of
        an organisation CA lists it from now on."""
        for credential in self:
            credential.sudo().write({  # platform manager or the owner, checked by the record rules
                "revoked_on": fields.Datetime.now(), "revocation_reason": reason or False, "active": False})
            self.env["hscm.audit.log"]._log("certificate_revoke", credential, {
                "sha256": credential.cert_sha256, "reason": reason or None})
        return True
