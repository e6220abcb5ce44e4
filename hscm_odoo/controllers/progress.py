"""Progress of a department (teachers × weeks) in the portal, and Excel
exports of that grid and of the dossier register (FR-49…53).

Records are read with the user's own rights: a head sees their department,
the leadership their school; an outsider gets 404.
"""

import io
import json

from odoo import fields, http
from odoo.exceptions import AccessError, UserError
from odoo.http import request

from ..tools import spreadsheets
from .portal import STATUS_CLASSES, HscmPortal, _int

class HscmProgressPortal(HscmPortal):

    def _departments(self):
        """The departments whose progress the user follows: the ones they
        head or deputise, or every department of their school for the
        leadership."""
        staff = self._staff()
        Department = request.env["hscm.school.department"]
        if not staff:
            return Department
        if staff.is_leader:
            return Department.search([("school_id", "=", staff.school_id.id)])
        return Department.search(["|", ("head_id", "=", staff.id), ("deputy_ids", "in", staff.ids)])

    def _grid_values(self, department_id, week_from, week_to):
        departments = self._departments()
        department = departments.filtered(lambda d: d.id == _int(department_id))[:1] or departments[:1]
        if not department:
            raise request.not_found()
        current = self._current_week(department.school_id)
        week_to = _int(week_to) or min(35, (current or 1) + 1)
        week_from = max(1, _int(week_from) or week_to - 5)
        weeks = list(range(week_from, week_to + 1))
        staff = request.env["hscm.staff"].search([("school_department_id", "=", department.id)], order="name")
        grid = request.env["hscm.progress"]._grid(staff, weeks)
        return {
            "departments": departments, "department": department, "weeks": weeks, "week_from": week_from,
            "week_to": week_to, "current_week": current, "staff": staff, "grid": grid,
            "rollup": request.env["hscm.progress"]._rollup(grid), "status_classes": STATUS_CLASSES,
            "status_labels": self._status_labels(),
            # Sudoed: ids of the teachers' accounts, for the links to their records
            "user_of": {s.id: s.sudo().user_id.id for s in staff},  # account ids only, for links
        }

    @http.route("/my/hscm/progress", type="http", auth="user", methods=["GET"], website=True)
    def progress(self, department_id=None, week_from=None, week_to=None, **kwargs):
        return request.render("hscm_odoo.portal_progress", self._values(
            **self._grid_values(department_id, week_from, week_to)))

    @http.route("/my/hscm/progress.xlsx", type="http", auth="user", methods=["GET"], website=True)
    def progress_xlsx(self, department_id=None, week_from=None, week_to=None, **kwargs):
        values = self._grid_values(department_id, week_from, week_to)
        labels = values["status_labels"]
        headers = [request.env._("Teacher")] + [request.env._("Week %(week)s", week=w) for w in values["weeks"]]

        def rows():
            for member in values["staff"]:
                cells = values["grid"].get(member.id, {})
                yield [member.name] + [labels.get(cells[w].status, "") if w in cells else "" for w in values["weeks"]]

        stream = io.BytesIO()
        spreadsheets.write_rows(stream, values["department"].name, headers, rows())
        request.env["hscm.audit.log"]._log("export", values["department"], {"what": "progress",
                                                                            "weeks": values["weeks"]})
        return self._xlsx(stream.getvalue(), f"tien-do-{values['department'].id}.xlsx")

    @http.route("/my/hscm/progress/report.pdf", type="http", auth="user", methods=["GET"], website=True)
    def progress_report_pdf(self, department_id=None, week=None, month=None, **kwargs):
        """The weekly (or monthly, with ``month=YYYY-MM-01``) progress report
        of a department the user follows, as a PDF (FR-52)."""
        department = self._departments().filtered(lambda d: d.id == _int(department_id))[:1]
        year = department and department.school_id._get_school_year(fields.Datetime.now())
        if not year:
            raise request.not_found()
        try:
            content = request.env["hscm.oversight.report"]._progress_pdf(
                department.school_id.id, year.id, "month" if month else "week", week=_int(week), month=month,
                department_id=department.id)
        except AccessError:
            raise request.not_found() from None
        except UserError as error:
            return request.make_response(error.args[0], headers=[("Content-Type", "text/plain; charset=utf-8")],
                                         status=400)
        return request.make_response(content, headers=[
            ("Content-Type", "application/pdf"), ("Content-Length", str(len(content))),
            ("Content-Disposition", http.content_disposition(f"bao-cao-tien-do-{department.id}.pdf")),
        ])

    @staticmethod
    def _xlsx(content, name):
        return request.make_response(content, headers=[
            ("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("Content-Length", str(len(content))),
            ("Content-Disposition", http.content_disposition(name)),
        ])

    @http.route("/hscm/export/register.xlsx", type="http", auth="user", methods=["GET"])
    def register_xlsx(self, domain=None, **kwargs):
        """The dossier register with the filters of the list (``domain``, as
        JSON), every record the user may read, streamed in batches: memory
        stays flat however many rows."""
        try:
            domain = json.loads(domain) if domain else []
            if not isinstance(domain, list):
                raise ValueError("a domain is a list")
            Dossier = request.env["hscm.dossier"]
            ids = Dossier.search(domain, order="id").ids
        except (ValueError, TypeError, AccessError) as error:
            return request.make_json_response({"error": str(error)}, status=400)
        _ = request.env._
        states = dict(Dossier._fields["state"]._description_selection(request.env))
        headers = [_("Reference"), _("Title"), _("Type"), _("Owner"), _("School"), _("Department"), _("Subject"),
                   _("Week"), _("Status"), _("Submitted on"), _("Deadline"), _("Late"), _("Approved on"),
                   _("SHA-256")]

        def rows():
            # the ids were found with the user's rights (above); their names come in one query per batch
            for (name, title, type_name, owner, school, department, subject, week, state, submitted_on, deadline,
                 late, approved_on, sha256) in Dossier.browse(ids)._register_rows():
                yield [name, title, type_name, owner, school, department or "", subject or "", week or "",
                       states.get(state), submitted_on, deadline, late, approved_on, sha256 or ""]

        stream = io.BytesIO()
        spreadsheets.write_rows(stream, _("Register"), headers, rows())
        request.env["hscm.audit.log"]._log("export", False, {"what": "register", "rows": len(ids)})
        return self._xlsx(stream.getvalue(), f"so-ho-so-{fields.Date.today()}.xlsx")
