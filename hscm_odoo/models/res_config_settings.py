from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    hscm_tsa_url = fields.Char(
        string="Timestamp authority (TSA)", config_parameter="hscm_odoo.tsa_url",
        help="RFC 3161 address. With a TSA, signatures are PAdES B-T (time proven); without, B-B.")
    hscm_revocation_mode = fields.Selection(
        [("off", "Not checked"), ("soft", "Checked, unknown status tolerated"),
         ("hard", "Checked, must be proven not revoked")],
        string="Revocation checking", config_parameter="hscm_odoo.revocation_mode", default="off")
    hscm_network_timeout = fields.Integer(
        string="Network timeout (seconds)", config_parameter="hscm_odoo.network_timeout", default=10,
        help="For every call to a TSA, OCSP responder, CRL server or remote signing service.")
