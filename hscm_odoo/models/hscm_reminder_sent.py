from odoo import fields, models


class HscmReminderSent(models.Model):
    """Who got their reminder digest on which (Vietnam) day: never two the
    same day, whatever the number of items or of cron runs."""

    _name = "hscm.reminder.sent"
    _description = "Reminder digest sent"
    _order = "day desc, id desc"

    user_id = fields.Many2one("res.users", required=True, index=True, ondelete="cascade")
    day = fields.Date(required=True, index=True)
    lines = fields.Integer(string="Items")

    _sql_constraints = [("one_per_day", "unique(user_id, day)", "One digest per person per day.")]
