from odoo import api, fields, models
from odoo.exceptions import UserError


class HscmUnlockRequest(models.Model):
    """A request to reopen a locked period for one school for a while:
    request with a reason → the principal approves → unlocked until a time
    → locked again (FR-20)."""

    _name = "hscm.unlock.request"
    _description = "Unlock request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    lock_id = fields.Many2one("hscm.period.lock", required=True, index=True, ondelete="cascade")
    school_id = fields.Many2one("hscm.school", required=True, index=True, ondelete="cascade")
    requested_by_id = fields.Many2one("res.users", required=True, default=lambda self: self.env.user,
                                      readonly=True, ondelete="restrict")
    reason = fields.Text(required=True)
    hours = fields.Integer(string="Unlock for (hours)", default=24, required=True)
    state = fields.Selection(
        [("requested", "Requested"), ("approved", "Unlocked"), ("refused", "Refused"), ("expired", "Locked again")],
        default="requested", required=True, tracking=True, index=True,
    )
    decided_by_id = fields.Many2one("res.users", readonly=True, ondelete="restrict")
    unlock_until = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("hours_range", "CHECK(hours BETWEEN 1 AND 168)", "An unlock lasts from 1 hour to 7 days."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not (vals.get("reason") or "").strip():
                raise UserError(self.env._("An unlock request needs a reason."))
        requests = super().create(vals_list)
        for req in requests:
            self.env["hscm.audit.log"]._log("unlock_request", req, {"lock": req.lock_id.id, "reason": req.reason})
        return requests

    def _check_principal(self):
        for req in self:
            principals = req.school_id.sudo()._staff_holding("principal").user_id  # membership check only
            if self.env.user not in principals:
                raise UserError(self.env._("Only the principal of %(school)s decides on unlocking.",
                                           school=req.school_id.name))
            if req.state != "requested":
                raise UserError(self.env._("This request was already decided."))

    def action_approve(self):
        self._check_principal()
        now = fields.Datetime.now()
        for req in self:
            until = fields.Datetime.add(now, hours=req.hours)
            # Sudoed: the principal decides, but requests are not theirs to write.
            req.sudo().write({"state": "approved", "decided_by_id": self.env.uid, "unlock_until": until})  # guarded
            self.env["hscm.audit.log"]._log("unlock_approve", req, {"until": str(until)})
        return True

    def action_refuse(self):
        self._check_principal()
        for req in self:
            req.sudo().write({"state": "refused", "decided_by_id": self.env.uid})  # guarded above
            self.env["hscm.audit.log"]._log("unlock_refuse", req, {})
        return True

    @api.model
    def _cron_relock(self):
        expired = self.sudo().search([("state", "=", "approved"), ("unlock_until", "<=", fields.Datetime.now())])  # cron
        for req in expired:
            req.state = "expired"
            self.env["hscm.audit.log"]._log("relock", req, {"lock": req.lock_id.id})
        return True
