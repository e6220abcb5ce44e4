import base64

from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request


class DossierFileController(http.Controller):
    """Downloads of dossier files, traced in the audit trail (FR-39).

    The record is read with the user's own rights: a record outside their
    scope answers 404, as if it did not exist.
    """

    @http.route(["/hscm/dossier/<int:dossier_id>/file",
                 "/hscm/dossier/<int:dossier_id>/version/<int:number>/file"],
                type="http", auth="user", methods=["GET"])
    def dossier_file(self, dossier_id, number=None, **kwargs):
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
        mimetype = "application/pdf" if content[:5] == b"%PDF-" else "application/octet-stream"
        return request.make_response(content, headers=[
            ("Content-Type", mimetype),
            ("Content-Length", str(len(content))),
            ("Content-Disposition", http.content_disposition(name or f"{dossier.name}.pdf")),
            ("X-Content-Type-Options", "nosniff"),
        ])
