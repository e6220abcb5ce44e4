import datetime as dt

from odoo import http
from odoo.http import request

from ..models.hscm_dossier_signing import ROLE_TITLES
from ..tools import school_calendar


class DossierVerifyController(http.Controller):
    """The public page behind the QR code of a signature stamp.

    Reached by the dossier's unguessable token, never by its id; shows the
    verdict and non-personal facts (type, school, reference, status, the
    file's SHA-256, each signature's title, time and validity) — no names,
    no file.
    """

    @http.route("/hscm/verify/<string:token>", type="http", auth="public", methods=["GET"], sitemap=False)
    def verify(self, token, **kwargs):
        if len(token) < 20:
            raise request.not_found()
        # Sudoed: the token is the capability (as portal access tokens are);
        # only the non-personal facts below leave this method.
        dossier = request.env["hscm.dossier"].sudo().search([("verify_token", "=", token)], limit=1)  # token = capability
        if not dossier:
            raise request.not_found()
        report = dossier.signature_report or {}
        if dossier.signature_verdict == "pending":
            request.env.ref("hscm_odoo.ir_cron_hscm_verify_signatures").sudo()._trigger()  # see above
        signatures = []
        for sig in report.get("signatures", []):
            moment = sig.get("signing_time")
            local = ""
            if moment:
                when = dt.datetime.fromisoformat(moment)
                if when.tzinfo is None:
                    when = when.replace(tzinfo=dt.timezone.utc)
                local = when.astimezone(school_calendar.VN_TZ).strftime("%H:%M %d/%m/%Y")
            signatures.append({
                "title": ROLE_TITLES.get(sig.get("role"), ROLE_TITLES["extra"]),
                "time": local,
                "ok": not sig.get("problems"),
                "internal": bool(sig.get("internal")),
            })
        states = dict(dossier._fields["state"]._description_selection(request.env))
        return request.render("hscm_odoo.verify_page", {
            "verdict": dossier.signature_verdict,
            "reference": dossier.name,
            "type_name": dossier.type_id.name,
            "school_name": dossier.school_id.name,
            "state_label": states.get(dossier.state),
            "file_sha256": dossier.file_sha256,
            "signatures": signatures,
        }, headers={"X-Robots-Tag": "noindex", "Cache-Control": "no-store"})
