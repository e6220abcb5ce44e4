from odoo import api, fields, models
from odoo.exceptions import UserError

from .hscm_dossier import INTERNAL


class HscmDossierVersion(models.Model):
    """One submitted file of a dossier, kept for good with its hash, size and
    what became of it (FR-28: the reasons of a rejection stay with the
    version they were given for). Only the system writes versions."""

    _name = "hscm.dossier.version"
    _description = "Dossier version"
    _order = "dossier_id, number desc"

    dossier_id = fields.Many2one("hscm.dossier", required=True, index=True, ondelete="restrict", readonly=True)
    number = fields.Integer(required=True, readonly=True)
    file = fields.Binary(attachment=True, readonly=True)
    file_name = fields.Char(readonly=True)
    file_sha256 = fields.Char(string="SHA-256", readonly=True)
    file_size = fields.Integer(string="Size (bytes)", readonly=True)
    file_pages = fields.Integer(string="Pages", readonly=True)
    change_note = fields.Text(string="What changed", readonly=True)
    submitted_on = fields.Datetime(readonly=True)
    submitted_by_id = fields.Many2one("res.users", readonly=True, ondelete="restrict")
    rejection_reason = fields.Text(readonly=True)
    rejected_by_id = fields.Many2one("res.users", readonly=True, ondelete="restrict")
    rejected_on = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("number_uniq", "unique(dossier_id, number)", "A dossier numbers its versions once."),
    ]

    @api.depends("number", "dossier_id")
    def _compute_display_name(self):
        for version in self:
            version.display_name = self.env._("%(ref)s, version %(number)s",
                                              ref=version.dossier_id.name, number=version.number)

    def _check_internal(self):
        if self.env.context.get("hscm_internal") is not INTERNAL:
            raise UserError(self.env._("Submitted versions of a record cannot be changed."))

    @api.model_create_multi
    def create(self, vals_list):
        self._check_internal()
        return super().create(vals_list)

    def write(self, vals):
        self._check_internal()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("Submitted versions of a record are never deleted."))
