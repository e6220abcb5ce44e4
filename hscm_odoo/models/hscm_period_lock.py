from odoo import api, fields, models
from odoo.exceptions import ValidationError


class HscmPeriodLock(models.Model):
    """A locked period (FR-20): no submission, change or resubmission for
    the teaching weeks it covers, for the given types, in its scope (one
    school, or every school of a Sở). A school asks for a time-limited unlock
    with a reason; its principal grants it; the lock returns by itself."""

    _name = "hscm.period.lock"
    _description = "Locked period"
    _inherit = ["mail.thread"]
    _order = "school_year_id desc, week_from desc"

    name = fields.Char(required=True, tracking=True)
    authority_id = fields.Many2one(
        "hscm.authority", string="Department of Education", domain=[("kind", "=", "department")],
        index=True, ondelete="cascade",
    )
    school_id = fields.Many2one("hscm.school", index=True, ondelete="cascade")
    school_year_id = fields.Many2one("hscm.school.year", required=True, index=True, ondelete="cascade")
    week_from = fields.Integer(required=True, default=1, tracking=True)
    week_to = fields.Integer(required=True, default=1, tracking=True)
    type_ids = fields.Many2many("hscm.dossier.type", string="Types", help="Empty: every type.")
    unlock_request_ids = fields.One2many("hscm.unlock.request", "lock_id", string="Unlock requests")
    active = fields.Boolean(default=True, tracking=True)

    _sql_constraints = [
        ("weeks_order", "CHECK(week_to >= week_from AND week_from >= 1)", "The weeks of a lock are out of order."),
    ]

    @api.constrains("authority_id", "school_id")
    def _check_scope(self):
        for lock in self:
            if bool(lock.authority_id) == bool(lock.school_id):
                raise ValidationError(self.env._("A lock applies either to a Sở or to one school."))

    @api.model_create_multi
    def create(self, vals_list):
        locks = super().create(vals_list)
        for lock in locks:
            self.env["hscm.audit.log"]._log("lock", lock, {"weeks": [lock.week_from, lock.week_to]})
        return locks

    def _covers(self, dossier):
        self.ensure_one()
        in_scope = self.school_id == dossier.school_id or (
            not self.school_id and self.authority_id == dossier.authority_id
        )
        return (
            in_scope
            and self.school_year_id == dossier.school_year_id
            and self.week_from <= (dossier.week_number or 0) <= self.week_to
            and (not self.type_ids or dossier.type_id in self.type_ids)
        )

    @api.model
    def _blocking_lock(self, dossier, now=None):
        """The lock that stops changes to ``dossier`` now, if any."""
        if not dossier.school_year_id or not dossier.week_number:
            return self.browse()
        now = now or fields.Datetime.now()
        # Sudoed: locks of the Sở are not readable by teachers, yet bind them.
        locks = self.sudo().search([  # lookup only
            ("school_year_id", "=", dossier.school_year_id.id),
            ("week_from", "<=", dossier.week_number),
            ("week_to", ">=", dossier.week_number),
            "|", ("school_id", "=", dossier.school_id.id), ("authority_id", "=", dossier.authority_id.id),
        ])
        for lock in locks.filtered(lambda lk: lk._covers(dossier)):
            if not lock.unlock_request_ids.filtered(
                lambda r: r.state == "approved" and r.school_id == dossier.school_id and r.unlock_until > now
            ):
                return lock
        return self.browse()
