"""Roll-ups for the leadership, the offices and the Sở (FR-51…53): schools ×
weeks from the pre-aggregated tables, drilling down to a school's
departments, a department's teachers and the records behind a cell.

Every figure is read with the user's own rights (record rules of
hscm.progress.summary / hscm.progress.school.week and of the dossiers): an
office sees the schools under it, a Sở specialist only their subjects; a
school, department or teacher outside the user's scope answers 404.
"""

from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from odoo.addons.portal.controllers.portal import pager as portal_pager

from .portal import STATUS_CLASSES, HscmPortal, _int

GROUPINGS = ("reports_to", "school", "subject")
RECORDS_LIMIT = 200
ROLLUP_PAGE = 100  # rows of a roll-up page: a city has 1,000 schools


def pct_class(pct):
    """Bootstrap colour of an on-time percentage."""
    if pct is None:
        return "text-bg-light"
    if pct >= 90:
        return "text-bg-success"
    if pct >= 70:
        return "text-bg-warning"
    return "text-bg-danger"


def pct_text(pct):
    return "—" if pct is None else f"{pct:.0f}%"


class HscmOversightPortal(HscmPortal):

    def _check_oversight(self):
        if not request.env["hscm.progress.summary"].has_access("read"):
            raise request.not_found()

    def _oversight_values(self, **values):
        return self._values(pct_class=pct_class, pct_text=pct_text, status_classes=STATUS_CLASSES,
                            status_labels=self._status_labels(), **values)

    @http.route(["/my/hscm/oversight", "/my/hscm/oversight/page/<int:page>"], type="http", auth="user",
                methods=["GET"], website=True)
    def oversight(self, group_by=None, week_from=None, week_to=None, reports_to_id=None, subject_id=None,
                  school_year_id=None, page=None, **kwargs):
        self._check_oversight()
        if group_by not in GROUPINGS:
            group_by = "school" if _int(reports_to_id) or _int(subject_id) else "reports_to"
        page = max(_int(page) or 1, 1)
        view = request.env["hscm.progress"].rollup_view(
            group_by=group_by, week_from=_int(week_from) or None, week_to=_int(week_to) or None,
            school_year_id=_int(school_year_id) or None, subject_id=_int(subject_id) or None,
            reports_to_id=_int(reports_to_id) or None, limit=ROLLUP_PAGE, offset=(page - 1) * ROLLUP_PAGE)
        url_args = {name: value for name, value in (
            ("group_by", group_by), ("week_from", _int(week_from)), ("week_to", _int(week_to)),
            ("reports_to_id", _int(reports_to_id)), ("subject_id", _int(subject_id)),
            ("school_year_id", _int(school_year_id))) if value}
        pager = portal_pager(url="/my/hscm/oversight", url_args=url_args, total=view["row_count"], page=page,
                             step=ROLLUP_PAGE)
        columns = view.get("columns", ())
        for row in view["rows"]:  # cells come as lists (compact over RPC); the page reads them by name
            row["weeks"] = {week: dict(zip(columns, cell)) for week, cell in row["weeks"].items()}
            row["totals"] = dict(zip(columns, row["total"]))
        return request.render("hscm_odoo.portal_oversight", self._oversight_values(
            view=view, group_by=group_by, pager=pager, week_from=_int(week_from) or "", week_to=_int(week_to) or "",
            reports_to_id=_int(reports_to_id), subject_id=_int(subject_id),
            subjects=request.env["hscm.subject"].search([])))

    @http.route("/my/hscm/oversight/school/<int:school_id>", type="http", auth="user", methods=["GET"],
                website=True)
    def oversight_school(self, school_id, week=None, **kwargs):
        self._check_oversight()
        school = request.env["hscm.school"].browse(school_id)
        try:
            week = _int(week) or self._current_week(school) or 1
            view = request.env["hscm.progress"].school_week(school.id, week)
        except (AccessError, MissingError):
            raise request.not_found() from None
        return request.render("hscm_odoo.portal_oversight_school", self._oversight_values(view=view))

    @http.route("/my/hscm/oversight/department/<int:department_id>", type="http", auth="user", methods=["GET"],
                website=True)
    def oversight_department(self, department_id, week_from=None, week_to=None, **kwargs):
        self._check_oversight()
        week_to = _int(week_to) or _int(week_from) or 1
        week_from = _int(week_from) or week_to
        try:
            view = request.env["hscm.progress"].department_grid(department_id, week_from, week_to)
        except (AccessError, MissingError):
            raise request.not_found() from None
        return request.render("hscm_odoo.portal_oversight_department", self._oversight_values(view=view))

    @http.route("/my/hscm/oversight/records", type="http", auth="user", methods=["GET"], website=True)
    def oversight_records(self, staff_id=None, week=None, **kwargs):
        self._check_oversight()
        staff = request.env["hscm.staff"].browse(_int(staff_id))
        try:
            staff.check_access("read")
            name = staff.name
        except (AccessError, MissingError):
            raise request.not_found() from None
        dossiers = request.env["hscm.dossier"].search([
            ("staff_id", "=", staff.id), ("week_number", "=", _int(week)),
            ("type_id", "=", request.env["hscm.progress"]._lesson_plan_type().id),
        ], order="submitted_on desc, id desc", limit=RECORDS_LIMIT)
        return request.render("hscm_odoo.portal_oversight_records", self._oversight_values(
            staff_name=name, week=_int(week), dossiers=dossiers,
            internal=request.env.user._is_internal()))
