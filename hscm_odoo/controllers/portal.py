"""The staff portal: teachers and approvers do their weekly routine in a few
taps (issue "Staff portal").

Every route reads its records with the user's own rights — a record outside
their scope answers 404 — changes go through the model's ``action_*``
methods (the same checks as the back office and JSON-RPC), only POST
changes anything (with Odoo's CSRF token), and only the named form fields
are read.
"""

import base64
import datetime as dt

from odoo import Command, fields, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

from ..models.hscm_dossier_signing import ROLE_TITLES
from ..tools import school_calendar
from ..tools import submission_status as status_tools
from ..tools.printout import PrintMarks, week_printout

STATE_BADGES = {
    "draft": "text-bg-secondary",
    "submitted": "text-bg-info",
    "approved": "text-bg-success",
    "rejected": "text-bg-danger",
    "cancelled": "text-bg-light",
}
MAX_UPLOAD = 64 * 1024 * 1024
STATUS_CLASSES = {
    status_tools.APPROVED_ON_TIME: "text-bg-success",
    status_tools.APPROVED_LATE: "text-bg-warning",
    status_tools.PENDING: "text-bg-info",
    status_tools.REJECTED: "text-bg-danger",
    status_tools.MISSING: "text-bg-dark",
    status_tools.NOT_DUE: "text-bg-light",
}


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class HscmPortal(CustomerPortal):

    # ------------------------------------------------------------------
    # Home tiles
    # ------------------------------------------------------------------
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        Dossier = request.env["hscm.dossier"]
        readable = Dossier.has_access("read")
        if "hscm_count" in counters:
            values["hscm_count"] = Dossier.search_count(self._mine_domain()) if readable else 0
        if "hscm_approval_count" in counters:
            values["hscm_approval_count"] = Dossier.search_count(self._queue_domain()) if readable else 0
        return values

    def _mine_domain(self):
        return [("owner_id", "=", request.env.uid)]

    def _queue_domain(self):
        return [("state", "=", "submitted"), ("current_approver_ids", "in", [request.env.uid])]

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _dossier_or_404(self, dossier_id):
        """The dossier, read with the user's rights; 404 outside their scope."""
        dossier = request.env["hscm.dossier"].browse(dossier_id)
        try:
            dossier.check_access("read")
            dossier.name  # noqa: B018 - raises MissingError for a deleted record
        except (AccessError, MissingError):
            raise request.not_found() from None
        return dossier

    def _staff(self):
        return request.env.user.hscm_staff_ids.filtered("active")[:1]

    def _current_week(self, school):
        if not school:
            return 0
        info = school.sudo().get_teaching_week(fields.Datetime.now())  # the school's calendar
        return info.get("week") or 0

    def _values(self, **values):
        base = self._prepare_portal_layout_values()
        base.update(state_badges=STATE_BADGES, role_titles=ROLE_TITLES, page_name="hscm", **values)
        return base

    def _status_labels(self):
        _ = request.env._
        return {
            status_tools.APPROVED_ON_TIME: _("Approved on time"),
            status_tools.APPROVED_LATE: _("Approved late"),
            status_tools.PENDING: _("Waiting for approval"),
            status_tools.REJECTED: _("Rejected"),
            status_tools.MISSING: _("Missing"),
            status_tools.NOT_DUE: _("Not due yet"),
        }

    def _states(self):
        Dossier = request.env["hscm.dossier"]
        return dict(Dossier._fields["state"]._description_selection(request.env))

    def _error_values(self, error):
        """``(errors by field, general error)`` for a refused action."""
        message = error.args[0] if error.args else str(error)
        field = getattr(error, "hscm_field", None)
        return ({field: message}, None) if field else ({}, message)

    # ------------------------------------------------------------------
    # My dossiers
    # ------------------------------------------------------------------
    @http.route("/my/hscm", type="http", auth="user", methods=["GET"], website=True)
    def my_dossiers(self, week=None, owner=None, **kwargs):
        Dossier = request.env["hscm.dossier"]
        # another teacher's records (from the progress grid): only those the user may read are found
        domain = [("owner_id", "=", _int(owner))] if _int(owner) else self._mine_domain()
        if week:
            domain += [("week_number", "=", _int(week))]
        dossiers = Dossier.search(domain, order="week_number desc, id desc", limit=300)
        groups = {}
        for dossier in dossiers:
            groups.setdefault(dossier.week_number or 0, []).append(dossier)
        staff = self._staff()
        current = self._current_week(staff.school_id)
        owed = []
        if staff and current and not _int(owner):
            weeks = [w for w in (current, current + 1) if w <= 35]
            cells = request.env["hscm.progress"]._grid(staff, weeks).get(staff.id, {})
            owed = [(w, cells[w]) for w in weeks if w in cells]
        other_owed = [(type_, self._period_label(period), due.strftime("%d/%m/%Y %H:%M"), cell)
                      for type_, period, due, cell in request.env["hscm.progress"]._owed_records_of(staff)
                      ] if staff and not _int(owner) else []
        return request.render("hscm_odoo.portal_my_dossiers", self._values(
            groups=sorted(groups.items(), key=lambda item: -item[0]), states=self._states(),
            current_week=current, week=_int(week), owed=owed, other_owed=other_owed,
            status_classes=STATUS_CLASSES, status_labels=self._status_labels(),
            queue_count=Dossier.search_count(self._queue_domain()),
        ))

    def _period_label(self, period):
        _ = request.env._
        if period.week:
            return _("week %(week)s", week=period.week)
        if period.month:
            return _("month %(month)s", month=period.month.strftime("%m/%Y"))
        if period.semester:
            return _("semester %(semester)s", semester=period.semester)
        return _("school year")

    # ------------------------------------------------------------------
    # Submit
    # ------------------------------------------------------------------
    def _form_options(self, staff):
        school = staff.school_id.sudo()  # the user's own school: its level, classes and types
        types = request.env["hscm.dossier.type"].search([]).filtered(lambda t: t._applies_to(school)) \
            if school else request.env["hscm.dossier.type"]
        return {
            "types": types,
            "subjects": staff.subject_ids,
            "classes": staff.class_ids or request.env["hscm.school.class"].search([("school_id", "=", school.id)]),
        }

    @http.route("/my/hscm/new", type="http", auth="user", methods=["GET"], website=True)
    def new_dossier(self, **kwargs):
        staff = self._staff()
        if not staff:
            raise request.not_found()
        current = self._current_week(staff.school_id)
        lesson_plan = request.env.ref("hscm_odoo.dossier_type_lesson_plan", raise_if_not_found=False)
        form = {"week_number": current + 1 if current else "", "type_id": lesson_plan.id if lesson_plan else 0}
        return request.render("hscm_odoo.portal_dossier_form", self._values(
            form=form, errors={}, error=None, current_week=current, **self._form_options(staff)))

    @http.route("/my/hscm/new", type="http", auth="user", methods=["POST"], website=True)
    def create_dossier(self, **post):
        staff = self._staff()
        if not staff:
            raise request.not_found()
        form = {name: post.get(name, "") for name in (
            "type_id", "title", "subject_id", "lesson_number", "week_number", "change_note")}
        form["class_ids"] = [_int(c) for c in request.httprequest.form.getlist("class_ids") if _int(c)]
        upload = request.httprequest.files.get("file")
        data = upload.read(MAX_UPLOAD + 1) if upload else b""
        errors, error = {}, None
        if len(data) > MAX_UPLOAD:
            errors["file"] = request.env._("The file is too large.")
        else:
            values = {
                "type_id": _int(form["type_id"]),
                "title": (form["title"] or "").strip() or (upload.filename if upload else ""),
                "subject_id": _int(form["subject_id"]) or False,
                "lesson_number": _int(form["lesson_number"]),
                "week_number": _int(form["week_number"]),
                "class_ids": [Command.set(form["class_ids"])],
            }
            try:
                dossier = request.env["hscm.dossier"]._create_with_file(
                    values, data, upload.filename if upload else "")
                if post.get("submit"):
                    dossier.action_submit()
                    return request.redirect(f"/my/hscm/dossier/{dossier.id}?done=submitted")
                return request.redirect(f"/my/hscm/dossier/{dossier.id}")
            except (UserError, ValueError) as exc:
                request.env.cr.rollback()  # nothing half-saved
                errors, error = self._error_values(exc)
        return request.render("hscm_odoo.portal_dossier_form", self._values(
            form=form, errors=errors, error=error, current_week=self._current_week(staff.school_id),
            **self._form_options(staff)))

    # ------------------------------------------------------------------
    # One dossier
    # ------------------------------------------------------------------
    def _render_dossier(self, dossier, errors=None, error=None, message=None):
        steps = dossier._current_steps() if dossier.version_ids else dossier.approval_ids.filtered(
            lambda s: s.state == "proposed").sorted("sequence")
        policy = dossier._policy()
        signers = []
        if dossier.can_submit and policy.allow_extra_signers:
            # Sudoed: the names of the school's leaders and department managers, to choose an extra signer
            school = dossier.school_id.sudo()  # names of the school's leaders only
            for code in ("principal", "vice_principal", "department_head", "department_deputy", "group_leader"):
                signers += [(s.user_id.id, s.name) for s in school._staff_holding(code)
                            if s.user_id and s.user_id != dossier.owner_id]
        return request.render("hscm_odoo.portal_dossier", self._values(
            policy=policy, extra_signers=sorted(set(signers), key=lambda pair: pair[1]),
            dossier=dossier, steps=steps.sudo(),  # names of the signers of a dossier the user may read
            versions=dossier.version_ids.sorted("number", reverse=True), states=self._states(),
            errors=errors or {}, error=error, message=message,
            credential=request.env["hscm.signing.credential"]._for_user(request.env.user),
            can_approve=dossier.can_approve, can_submit=dossier.can_submit,
        ))

    @http.route("/my/hscm/dossier/<int:dossier_id>", type="http", auth="user", methods=["GET"], website=True)
    def dossier_page(self, dossier_id, **kwargs):
        dossier = self._dossier_or_404(dossier_id)
        if dossier.can_submit and not dossier.approval_ids.filtered(lambda s: s.state == "proposed"):
            try:
                dossier.action_propose_chain()  # show the signers before submitting
            except UserError as exc:
                request.env.cr.rollback()
                return self._render_dossier(self._dossier_or_404(dossier_id), error=exc.args[0])
        return self._render_dossier(dossier, message=kwargs.get("done"))

    @http.route("/my/hscm/dossier/<int:dossier_id>/chain", type="http", auth="user", methods=["POST"], website=True)
    def dossier_chain(self, dossier_id, **post):
        """Reorder the proposed signers, or add or remove an extra one, where
        the type allows (the model checks it, and again at submission)."""
        dossier = self._dossier_or_404(dossier_id)
        proposed = dossier.approval_ids.filtered(lambda s: s.state == "proposed").sorted("sequence")
        action, _sep, argument = (post.get("action") or "").partition(":")
        try:
            if action == "up":
                step = proposed.filtered(lambda s: s.id == _int(argument))
                index = list(proposed).index(step) if step else 0
                if index:
                    above = proposed[index - 1]
                    sequences = (above.sequence, step.sequence)
                    step.write({"sequence": sequences[0]})
                    above.write({"sequence": sequences[1] if sequences[1] != sequences[0] else sequences[0] + 1})
            elif action == "remove":
                proposed.filtered(lambda s: s.id == _int(argument) and s.role == "extra").unlink()
            elif action == "add" and _int(post.get("user_id")):
                request.env["hscm.dossier.approval"].create({
                    "dossier_id": dossier.id, "role": "extra", "expected_user_id": _int(post.get("user_id")),
                    "sequence": (proposed[-1:].sequence or 0) + 10})
        except UserError as exc:
            request.env.cr.rollback()
            return self._render_dossier(self._dossier_or_404(dossier_id), error=exc.args[0])
        return request.redirect(f"/my/hscm/dossier/{dossier.id}")

    @http.route("/my/hscm/dossier/<int:dossier_id>/submit", type="http", auth="user", methods=["POST"], website=True)
    def dossier_submit(self, dossier_id, **post):
        dossier = self._dossier_or_404(dossier_id)
        upload = request.httprequest.files.get("file")
        try:
            if upload and upload.filename:
                data = upload.read(MAX_UPLOAD + 1)
                dossier.write({"file": base64.b64encode(data), "file_name": upload.filename})
            if post.get("change_note"):
                dossier.write({"change_note": post["change_note"]})
            dossier.action_submit()
        except UserError as exc:
            request.env.cr.rollback()
            errors, error = self._error_values(exc)
            return self._render_dossier(self._dossier_or_404(dossier_id), errors=errors, error=error)
        return request.redirect(f"/my/hscm/dossier/{dossier.id}?done=submitted")

    @http.route("/my/hscm/dossier/<int:dossier_id>/approve", type="http", auth="user", methods=["POST"], website=True)
    def dossier_approve(self, dossier_id, **post):
        dossier = self._dossier_or_404(dossier_id)
        try:
            dossier.action_approve(comment=post.get("comment") or None, passphrase=post.get("passphrase") or None,
                                   password=post.get("password") or None)
        except UserError as exc:
            request.env.cr.rollback()
            return self._render_dossier(self._dossier_or_404(dossier_id), error=exc.args[0])
        return request.redirect("/my/hscm/approvals?done=approved")

    @http.route("/my/hscm/dossier/<int:dossier_id>/reject", type="http", auth="user", methods=["POST"], website=True)
    def dossier_reject(self, dossier_id, **post):
        dossier = self._dossier_or_404(dossier_id)
        try:
            dossier.action_reject(post.get("reason") or "")
        except UserError as exc:
            request.env.cr.rollback()
            return self._render_dossier(self._dossier_or_404(dossier_id), errors={"reason": exc.args[0]})
        return request.redirect("/my/hscm/approvals?done=rejected")

    @http.route("/my/hscm/dossier/<int:dossier_id>/verification", type="http", auth="user", methods=["GET"], website=True)
    def dossier_verification(self, dossier_id, **kwargs):
        dossier = self._dossier_or_404(dossier_id)
        report = dossier.verify_signatures()
        return request.render("hscm_odoo.portal_dossier_verification", self._values(
            dossier=dossier, report=report))

    # ------------------------------------------------------------------
    # Approvals
    # ------------------------------------------------------------------
    @http.route("/my/hscm/approvals", type="http", auth="user", methods=["GET"], website=True)
    def approval_queue(self, done=None, **kwargs):
        dossiers = request.env["hscm.dossier"].search(self._queue_domain(), order="deadline asc, submitted_on asc, id")
        return request.render("hscm_odoo.portal_approvals", self._values(
            dossiers=dossiers, done=done, error=None,
            credential=request.env["hscm.signing.credential"]._for_user(request.env.user)))

    @http.route("/my/hscm/approvals/approve", type="http", auth="user", methods=["POST"], website=True)
    def approve_selected(self, **post):
        ids = [_int(i) for i in request.httprequest.form.getlist("dossier_ids") if _int(i)]
        dossiers = request.env["hscm.dossier"].browse(ids)
        try:
            dossiers.check_access("read")
            if not dossiers:
                raise UserError(request.env._("Select the records to approve."))
            dossiers.action_approve(passphrase=post.get("passphrase") or None, password=post.get("password") or None)
        except (AccessError, MissingError):
            raise request.not_found() from None
        except UserError as exc:
            request.env.cr.rollback()
            queue = request.env["hscm.dossier"].search(self._queue_domain(), order="deadline asc, submitted_on asc, id")
            return request.render("hscm_odoo.portal_approvals", self._values(
                dossiers=queue, done=None, error=exc.args[0], selected=ids,
                credential=request.env["hscm.signing.credential"]._for_user(request.env.user)))
        return request.redirect("/my/hscm/approvals?done=approved")

    # ------------------------------------------------------------------
    # My week: this week's approved plans, and one PDF to print
    # ------------------------------------------------------------------
    def _week_plans(self, week):
        return request.env["hscm.dossier"].search(
            self._mine_domain() + [("state", "=", "approved"), ("week_number", "=", week),
                                   ("file_kind", "=", "pdf")], order="lesson_number, id")

    @http.route("/my/hscm/week", type="http", auth="user", methods=["GET"], website=True)
    def my_week(self, week=None, **kwargs):
        current = self._current_week(self._staff().school_id)
        week = _int(week) or current
        return request.render("hscm_odoo.portal_my_week", self._values(
            week=week, current_week=current, plans=self._week_plans(week)))

    @http.route("/my/hscm/week/<int:week>/print.pdf", type="http", auth="user", methods=["GET"], website=True)
    def my_week_pdf(self, week, **kwargs):
        plans = self._week_plans(week)
        if not plans:
            raise request.not_found()
        now = fields.Datetime.now().replace(tzinfo=dt.timezone.utc).astimezone(school_calendar.VN_TZ)
        files = []
        for plan in plans:
            owner = plan.school_id.sudo().name  # the school keeping the record, for the printout marks
            files.append((plan._file_bytes(), PrintMarks(
                reference=plan.name, system=f"Hồ sơ chuyên môn điện tử — {owner}",
                printed_by=request.env.user.name, printed_at=f"{now:%H:%M %d/%m/%Y}",
                verify_url=plan._verify_url() if plan.sudo().verify_token else "")))  # token is on the stamp
            plan._log_download()
        content = week_printout(files)
        return request.make_response(content, headers=[
            ("Content-Type", "application/pdf"), ("Content-Length", str(len(content))),
            ("Content-Disposition", http.content_disposition(f"ke-hoach-bai-day-tuan-{week}.pdf")),
        ])

    # ------------------------------------------------------------------
    # Delegations
    # ------------------------------------------------------------------
    @http.route("/my/hscm/delegations", type="http", auth="user", methods=["GET"], website=True)
    def delegations(self, **kwargs):
        return self._render_delegations()

    def _render_delegations(self, errors=None, form=None):
        staff = self._staff()
        Delegation = request.env["hscm.delegation"]
        mine = Delegation.search(["|", ("delegator_id", "=", request.env.uid),
                                  ("delegate_id", "=", request.env.uid)])
        headed = request.env["hscm.school.department"].search([("head_id", "=", staff.id)]) if staff else []
        # Sudoed: the names of the deputies a head may choose (portal users cannot read accounts)
        departments = [(d, [(s.user_id.id, s.name) for s in d.sudo().deputy_ids if s.user_id]) for d in headed]  # deputies' names
        return request.render("hscm_odoo.portal_delegations", self._values(
            delegations=mine.sudo(),  # names of the two people of the user's own delegations
            departments=departments, errors=errors or {}, form=form or {},
            today=fields.Date.context_today(Delegation)))

    @http.route("/my/hscm/delegations", type="http", auth="user", methods=["POST"], website=True)
    def create_delegation(self, **post):
        staff = self._staff()
        department = request.env["hscm.school.department"].browse(_int(post.get("department_id")))
        form = {name: post.get(name, "") for name in ("department_id", "delegate_id", "date_from", "date_to")}
        try:
            department.check_access("read")
            request.env["hscm.delegation"].create({
                "kind": "department", "school_id": staff.school_id.id, "school_department_id": department.id,
                "delegate_id": _int(post.get("delegate_id")),
                "date_from": post.get("date_from"), "date_to": post.get("date_to"),
            })
        except (AccessError, MissingError):
            raise request.not_found() from None
        except (UserError, ValueError) as exc:
            request.env.cr.rollback()
            return self._render_delegations(errors={"general": exc.args[0] if exc.args else str(exc)}, form=form)
        return request.redirect("/my/hscm/delegations")
