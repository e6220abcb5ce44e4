from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .hscm_dossier_policy_mixin import POLICY_FIELDS


class HscmDossierTypeOverride(models.Model):
    """A Sở's or a school's own settings for a dossier type, where the
    documents disagree (weekly deadline day, one lesson or one week per
    file, PDF or Word…). New overrides start from the type's values."""

    _name = "hscm.dossier.type.override"
    _description = "Dossier type settings of a Sở or a school"
    _inherit = ["hscm.dossier.policy.mixin"]
    _order = "type_id, authority_id, school_id"

    type_id = fields.Many2one("hscm.dossier.type", required=True, index=True, ondelete="cascade")
    authority_id = fields.Many2one(
        "hscm.authority", string="Department of Education", domain=[("kind", "=", "department")],
        index=True, ondelete="cascade",
    )
    school_id = fields.Many2one("hscm.school", index=True, ondelete="cascade")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("type_scope_uniq", "unique(type_id, authority_id, school_id)", "These settings already exist."),
    ]

    @api.depends("type_id", "school_id", "authority_id")
    def _compute_display_name(self):
        for override in self:
            scope = override.school_id or override.authority_id
            override.display_name = f"{override.type_id.name} — {scope.name or ''}"

    @api.constrains("authority_id", "school_id", "type_id")
    def _check_scope(self):
        for override in self:
            if bool(override.authority_id) == bool(override.school_id):
                raise ValidationError(self.env._("Settings apply either to a Sở or to one school."))
            if override.school_id and not override.type_id.school_may_override:
                raise ValidationError(
                    self.env._("Schools may not change the settings of %(type)s.", type=override.type_id.name)
                )

    @api.model_create_multi
    def create(self, vals_list):
        types = self.env["hscm.dossier.type"].browse([v["type_id"] for v in vals_list if v.get("type_id")])
        defaults = {t.id: t._policy_values() for t in types}
        for vals in vals_list:
            for name, value in defaults.get(vals.get("type_id"), {}).items():
                vals.setdefault(name, value)
        return super().create(vals_list)

    @api.onchange("type_id")
    def _onchange_type_id(self):
        if self.type_id:
            for name in POLICY_FIELDS:
                self[name] = self.type_id[name]
