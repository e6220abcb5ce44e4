from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import school_calendar


class HscmSchoolYear(models.Model):
    """A school year (*năm học*) and its frame of teaching weeks.

    Set by the Sở for all its schools (or for every Sở when left empty);
    each school only chooses the week from which use is compulsory.
    """

    _name = "hscm.school.year"
    _description = "School year"
    _order = "date_start desc"

    name = fields.Char(required=True, help="e.g. 2026-2027")
    authority_id = fields.Many2one(
        "hscm.authority",
        string="Department of Education",
        domain=[("kind", "=", "department")],
        index=True,
        ondelete="cascade",
        help="Leave empty for a calendar shared by every Sở in the database.",
    )
    date_start = fields.Date(string="First teaching day", required=True, help="First teaching day; week 1 is the week that contains it.")
    date_end = fields.Date(string="Last day", required=True, help="Last day of the school year.")
    week_count = fields.Integer(string="Number of teaching weeks", default=school_calendar.TEACHING_WEEKS, required=True)
    first_semester_weeks = fields.Integer(string="Weeks in the first semester", default=18, required=True)
    break_ids = fields.One2many("hscm.school.year.break", "school_year_id", string="Holidays and breaks")
    week_table = fields.Html(string="Week table", compute="_compute_week_table", sanitize=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("dates_order", "CHECK(date_end > date_start)", "The school year must end after it starts."),
        ("week_count_positive", "CHECK(week_count > 0)", "A school year needs teaching weeks."),
    ]

    def _teaching_weeks(self):
        self.ensure_one()
        return school_calendar.teaching_weeks(
            self.date_start,
            [(b.date_from, b.date_to) for b in self.break_ids],
            count=self.week_count,
            last_day=self.date_end,
        )

    @api.constrains("date_start", "date_end", "week_count", "break_ids")
    def _check_weeks_fit(self):
        for year in self:
            try:
                year._teaching_weeks()
            except ValueError:
                raise ValidationError(
                    self.env._(
                        "%(count)s teaching weeks do not fit in %(name)s between its start, "
                        "its end and its breaks.",
                        count=year.week_count,
                        name=year.name,
                    )
                ) from None

    @api.constrains("date_start", "date_end", "authority_id")
    def _check_no_overlap(self):
        for year in self:
            overlapping = self.search_count(
                [
                    ("id", "!=", year.id),
                    ("authority_id", "=", year.authority_id.id),
                    ("date_start", "<=", year.date_end),
                    ("date_end", ">=", year.date_start),
                ]
            )
            if overlapping:
                raise ValidationError(
                    self.env._("The school year %(name)s overlaps another one.", name=year.name)
                )

    @api.depends("date_start", "date_end", "week_count", "break_ids.date_from", "break_ids.date_to")
    def _compute_week_table(self):
        for year in self:
            try:
                weeks = year._teaching_weeks() if year.date_start and year.date_end else []
            except ValueError:
                weeks = []
            rows = Markup("").join(
                Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>")
                % (week.number, week.start.strftime("%d/%m/%Y"), week.end.strftime("%d/%m/%Y"))
                for week in weeks
            )
            year.week_table = Markup(
                '<table class="table table-sm"><thead><tr><th>%s</th><th>%s</th><th>%s</th>'
                "</tr></thead><tbody>%s</tbody></table>"
            ) % (escape(self.env._("Week")), escape(self.env._("From")), escape(self.env._("To")), rows)

    @api.model
    def _find_for(self, authority, day):
        """The school year of ``authority`` (a Sở) that contains ``day``;
        a Sở's own calendar wins over a shared one."""
        years = self.search(
            [
                ("authority_id", "in", [authority.id, False]),
                ("date_start", "<=", day),
                ("date_end", ">=", day),
            ]
        )
        return years.sorted(lambda y: not y.authority_id)[:1]
