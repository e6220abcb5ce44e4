import base64

from odoo import Command, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

# Bodies taken as the file itself (the route's raw format)
RAW_MIMETYPES = {
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/octet-stream",
}


class DossierFileController(http.Controller):
    """Downloads of dossier files, traced in the audit trail (FR-39).

    The record is read with the user's own rights: a record outside their
    scope answers 404, as if it did not exist.
    """

    @http.route(["/hscm/dossier/<int:dossier_id>/file",
                 "/hscm/dossier/<int:dossier_id>/version/<int:number>/file"],
                type="http", auth="user", methods=["GET"])
    def dossier_file(self, dossier_id, number=None, inline=None, **kwargs):
        dossier = request.env["hscm.dossier"].browse(dossier_id)
        try:
            dossier.check_access("read")
            version = dossier.version_ids.filtered(lambda v: v.number == number) if number else None
            if number and not version:
                raise MissingError("no such version")
            record = version or dossier
            data, name = record.with_context(bin_size=False).file, record.file_name
        except (AccessError, MissingError):
            raise request.not_found() from None
        if not data:
            raise request.not_found()
        dossier._log_download(version)
        content = base64.b64decode(data)
        disposition = http.content_disposition(name or f"{dossier.name}.pdf")
        mimetype = "application/pdf" if content[:5] == b"%PDF-" else "application/octet-stream"
        return request.make_response(content, headers=[
            ("Content-Type", mimetype),
            ("Content-Length", str(len(content))),
            ("Content-Disposition", disposition.replace("attachment", "inline", 1) if inline else disposition),
            ("X-Content-Type-Options", "nosniff"),
        ])


class DossierUploadController(http.Controller):
    """Upload of a dossier for integrators and the portal: the file travels
    as raw bytes, not as base64 inside JSON, which spares parsing and
    decoding a third more data per upload. Same model code path and checks as
    ``create`` over JSON-RPC.

    Two body formats: ``multipart/form-data`` (the fields and a ``file``
    part, as a browser form sends them), or the file itself as the body
    (``Content-Type: application/pdf`` or the Word mimetype) with the fields
    in the query string and ``file_name`` among them — no multipart parsing
    of megabytes, for scripts and other systems.

    Cross-site requests are refused without a CSRF token by demanding the
    ``X-HSCM-Upload`` header, which a browser cannot add to a cross-site form
    post without a CORS preflight that Odoo does not grant.
    """

    INT_FIELDS = ("type_id", "subject_id", "school_year_id", "week_number", "lesson_number")

    @http.route("/hscm/api/dossiers", type="http", auth="user", methods=["POST"], csrf=False)
    def upload_dossier(self, **form):
        if request.httprequest.headers.get("X-HSCM-Upload") != "1":
            return self._answer({"error": "missing X-HSCM-Upload header"}, 400)
        httprequest = request.httprequest
        if httprequest.mimetype == "multipart/form-data":
            upload = httprequest.files.get("file")
            data, file_name = (upload.read(), upload.filename) if upload else (b"", "")
        elif httprequest.mimetype in RAW_MIMETYPES:
            data, file_name = httprequest.get_data(cache=False), form.get("file_name") or ""
        else:
            return self._answer({"error": "send multipart/form-data, or the file as the body with "
                                          "Content-Type application/pdf or the Word mimetype"}, 415)
        try:
            values = {"title": form.get("title") or ""}
            for name in self.INT_FIELDS:
                if form.get(name):
                    values[name] = int(form[name])
            if form.get("class_ids"):
                values["class_ids"] = [Command.set([int(x) for x in form["class_ids"].split(",") if x.strip()])]
            if form.get("period_month"):
                values["period_month"] = form["period_month"]
            dossier = request.env["hscm.dossier"]._create_with_file(values, data, file_name)
        except ValueError:
            request.env.cr.rollback()
            return self._answer({"error": "invalid number in the form"}, 400)
        except (AccessError, MissingError) as error:
            request.env.cr.rollback()  # an answer is not a failure: undo what was done
            return self._answer({"error": str(error)}, 403)
        except UserError as error:  # includes ValidationError: the bilingual reason
            request.env.cr.rollback()  # nothing half-saved
            return self._answer({"error": error.args[0]}, 400)
        return self._answer({"id": dossier.id, "name": dossier.name, "sha256": dossier.file_sha256,
                             "pages": dossier.file_pages, "size": dossier.file_size}, 201)

    @staticmethod
    def _answer(payload, status):
        return request.make_json_response(payload, status=status)


class DossierPrintoutController(http.Controller):
    """The paper copy of a record: its file followed by the approval sheet
    (QWeb PDF), every page marked as a copy converted from an electronic
    record (Law 20/2023 art. 12)."""

    @http.route("/hscm/dossier/<int:dossier_id>/printout.pdf", type="http", auth="user", methods=["GET"])
    def printout(self, dossier_id, **kwargs):
        dossier = request.env["hscm.dossier"].browse(dossier_id)
        try:
            dossier.check_access("read")
            content = dossier._printout()
        except (AccessError, MissingError):
            raise request.not_found() from None
        return request.make_response(content, headers=[
            ("Content-Type", "application/pdf"), ("Content-Length", str(len(content))),
            ("Content-Disposition", http.content_disposition(f"{dossier.name.replace('/', '-')}-ban-in.pdf")),
        ])
