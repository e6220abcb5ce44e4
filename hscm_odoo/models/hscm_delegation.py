from odoo import api, fields, models
from odoo.exceptions import ValidationError


class HscmDelegation(models.Model):
    """A written delegation of approval for a period (FR-30): a department
    head authorises a deputy to check and approve the department's teacher
    plans, or a principal authorises a vice principal."""

    _name = "hscm.delegation"
    _description = "Delegation of approval"
    _inherit = ["mail.thread"]
    _order = "date_from desc, id desc"

    kind = fields.Selection(
        [("department", "Department head → deputy"), ("principal", "Principal → vice principal")],
        required=True,
        default="department",
        tracking=True,
    )
    delegator_id = fields.Many2one(
        "res.users", string="Delegated by", required=True, index=True, default=lambda self: self.env.user,
        ondelete="restrict", tracking=True,
    )
    delegate_id = fields.Many2one("res.users", string="Acting for them", required=True, index=True,
                                  ondelete="restrict", tracking=True)
    school_id = fields.Many2one("hscm.school", required=True, index=True, ondelete="cascade")
    school_department_id = fields.Many2one(
        "hscm.school.department", string="Department", index=True, ondelete="cascade",
        domain="[('school_id', '=', school_id)]",
    )
    date_from = fields.Date(string="From", required=True, default=fields.Date.context_today, tracking=True)
    date_to = fields.Date(string="To", required=True, tracking=True)
    note = fields.Char(string="Reference", help="e.g. the decision or the line of the school's assignment table.")
    active = fields.Boolean(default=True, tracking=True)

    _sql_constraints = [
        ("dates_order", "CHECK(date_to >= date_from)", "A delegation must end on or after its first day."),
    ]

    @api.depends("delegator_id", "delegate_id", "date_from", "date_to")
    def _compute_display_name(self):
        for delegation in self:
            delegation.display_name = self.env._(
                "%(delegate)s for %(delegator)s (%(start)s – %(end)s)",
                delegate=delegation.delegate_id.name,
                delegator=delegation.delegator_id.name,
                start=delegation.date_from and delegation.date_from.strftime("%d/%m/%Y"),
                end=delegation.date_to and delegation.date_to.strftime("%d/%m/%Y"),
            )

    @api.constrains("kind", "delegator_id", "delegate_id", "school_id", "school_department_id")
    def _check_people(self):
        for delegation in self:
            if delegation.delegator_id == delegation.delegate_id:
                raise ValidationError(self.env._("Nobody delegates to themself."))
            if delegation.kind == "department":
                department = delegation.school_department_id
                if not department:
                    raise ValidationError(self.env._("A department delegation names its department."))
                if department.sudo().head_id.user_id != delegation.delegator_id:  # reading the head only
                    raise ValidationError(self.env._("Only the head of %(dept)s delegates its approvals.",
                                                     dept=department.name))
                if delegation.delegate_id not in department.sudo().deputy_ids.user_id:  # reading deputies only
                    raise ValidationError(self.env._("The delegate must be a deputy head of %(dept)s.",
                                                     dept=department.name))
            else:
                school = delegation.school_id.sudo()  # membership check only
                principal = delegation.delegator_id in school._staff_holding("principal").user_id
                vice = delegation.delegate_id in school._staff_holding("vice_principal").user_id
                if not principal or not vice:
                    raise ValidationError(self.env._(
                        "A principal delegates to a vice principal of the same school."))

    @api.model
    def _active_for(self, delegator, kind, on_date, department=None):
        """The delegation in force on ``on_date`` for ``delegator``, if any."""
        domain = [
            ("delegator_id", "=", delegator.id),
            ("kind", "=", kind),
            ("date_from", "<=", on_date),
            ("date_to", ">=", on_date),
        ]
        if department:
            domain.append(("school_department_id", "=", department.id))
        return self.sudo().search(domain, limit=1, order="date_from desc, id desc")  # lookup only

    @api.model_create_multi
    def create(self, vals_list):
        delegations = super().create(vals_list)
        for delegation in delegations.sudo():  # logins for the trail; portal users may not read users
            self.env["hscm.audit.log"]._log("delegation_create", delegation, {
                "delegator": delegation.delegator_id.login, "delegate": delegation.delegate_id.login,
                "from": str(delegation.date_from), "to": str(delegation.date_to),
            })
        return delegations

    def write(self, vals):
        result = super().write(vals)
        for delegation in self:
            self.env["hscm.audit.log"]._log("delegation_change", delegation, {
                key: str(value) for key, value in vals.items()
            })
        return result
