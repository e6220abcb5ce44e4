from odoo import fields, models


class HscmProgressCountsMixin(models.AbstractModel):
    """How many owed items stand in each status, and how long files wait:
    the measures of the pre-aggregated progress tables."""

    _name = "hscm.progress.counts.mixin"
    _description = "Progress counts"

    expected = fields.Integer(string="Items", help="Items owed or not yet due.")
    owed = fields.Integer(help="Items whose deadline has passed or that were handed in.")
    on_time = fields.Integer(string="Approved on time")
    late = fields.Integer(string="Approved late")
    pending = fields.Integer(string="Pending approval")
    rejected = fields.Integer()
    missing = fields.Integer()
    not_due = fields.Integer(string="Not due yet")
    waiting = fields.Integer(string="Files waiting", help="Items holding a file that waits for approval.")
    oldest_waiting_since = fields.Datetime(aggregator="min")
    waiting_since_sum = fields.Float(
        help="Sum of the waiting files' submission times (seconds since 1970), for the average wait.")
