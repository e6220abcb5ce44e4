from odoo import fields, models


class HscmDossierRejectWizard(models.TransientModel):
    """Asks for the reason of a rejection (FR-28), then calls the model."""

    _name = "hscm.dossier.reject.wizard"
    _description = "Reject a professional record"

    reason = fields.Text(required=True, help="What is wrong and what to correct.")

    def action_reject(self):
        dossiers = self.env["hscm.dossier"].browse(self.env.context.get("active_ids", []))
        dossiers.action_reject(self.reason)
        return {"type": "ir.actions.act_window_close"}
