from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT


PASSWORD = "hscm-test-password"


class HscmCase:
    """A small city the tests own, independent of the demo data.

    Sở A: office D (district) over THCS S1, office W (ward) over THCS S2,
    THPT S3 straight under the Sở. Sở B: THCS S4 with its own office.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        env = cls.env
        Authority = env["hscm.authority"]
        cls.sgd_a = Authority.create({"name": "Sở A", "code": "T-SGD-A", "kind": "department"})
        cls.sgd_b = Authority.create({"name": "Sở B", "code": "T-SGD-B", "kind": "department"})
        cls.office_d = Authority.create(
            {"name": "Phòng GDĐT D", "code": "T-PGD-D", "kind": "district_office", "parent_id": cls.sgd_a.id}
        )
        cls.office_w = Authority.create(
            {"name": "Phòng VHXH W", "code": "T-VHXH-W", "kind": "ward_office", "parent_id": cls.sgd_a.id}
        )
        cls.office_b = Authority.create(
            {"name": "Phòng GDĐT B", "code": "T-PGD-B", "kind": "district_office", "parent_id": cls.sgd_b.id}
        )
        School = env["hscm.school"]
        cls.s1 = School.create({"name": "THCS S1", "code": "T-S1", "level": "thcs", "office_id": cls.office_d.id})
        cls.s2 = School.create({"name": "THCS S2", "code": "T-S2", "level": "thcs", "office_id": cls.office_w.id})
        cls.s3 = School.create({"name": "THPT S3", "code": "T-S3", "level": "thpt", "authority_id": cls.sgd_a.id})
        cls.s4 = School.create({"name": "THCS S4", "code": "T-S4", "level": "thcs", "office_id": cls.office_b.id})

        cls.math = env.ref("hscm_odoo.subject_toan")
        cls.literature = env.ref("hscm_odoo.subject_ngu_van")
        cls.pos = {
            code: env.ref(f"hscm_odoo.position_{code}")
            for code in (
                "principal", "vice_principal", "department_head", "department_deputy",
                "group_leader", "teacher", "school_admin",
            )
        }

        def department(school, name):
            return env["hscm.school.department"].create({"name": name, "school_id": school.id})

        cls.k1 = department(cls.s1, "Tổ KHTN")
        cls.k2 = department(cls.s1, "Tổ KHXH")
        cls.g1 = env["hscm.subject.group"].create(
            {"name": "Nhóm Toán", "department_id": cls.k1.id, "subject_ids": [Command.set(cls.math.ids)]}
        )
        cls.k_s2 = department(cls.s2, "Tổ KHTN")
        cls.k_s3 = department(cls.s3, "Tổ Toán")
        cls.k_s4 = department(cls.s4, "Tổ KHTN")

        cls.staff = {}

        def person(key, school, positions, dept=None, group=None, subjects=()):
            user = new_test_user(
                env, login=f"t.{key}", name=f"Test {key}", groups="base.group_portal", password=PASSWORD
            )
            cls.staff[key] = env["hscm.staff"].create(
                {
                    "name": f"Test {key}",
                    "user_id": user.id,
                    "school_id": school.id,
                    "school_department_id": dept.id if dept else False,
                    "subject_group_id": group.id if group else False,
                    "position_ids": [Command.set([cls.pos[p].id for p in positions])],
                    "subject_ids": [Command.set([s.id for s in subjects])],
                }
            )
            return user

        cls.teacher = person("teacher", cls.s1, ["teacher"], cls.k1, cls.g1, [cls.math])
        cls.teacher_k2 = person("teacher_k2", cls.s1, ["teacher"], cls.k2, None, [cls.literature])
        cls.head = person("head", cls.s1, ["department_head", "teacher"], cls.k1, cls.g1, [cls.math])
        cls.deputy = person("deputy", cls.s1, ["department_deputy", "teacher"], cls.k1, cls.g1, [cls.math])
        cls.group_leader = person("leader", cls.s1, ["group_leader", "teacher"], cls.k1, cls.g1, [cls.math])
        cls.vp = person("vp", cls.s1, ["vice_principal"])
        cls.staff["vp"].duty_area_ids = [Command.set(env.ref("hscm_odoo.duty_area_professional").ids)]
        cls.principal = person("principal", cls.s1, ["principal"])
        cls.school_admin = person("admin", cls.s1, ["school_admin"])
        cls.teacher2 = person("teacher2", cls.s2, ["teacher"], cls.k_s2, None, [cls.math])
        cls.vp2 = person("vp2", cls.s2, ["vice_principal"])
        cls.head2 = person("head2", cls.s2, ["department_head", "teacher"], cls.k_s2, None, [cls.math])
        cls.teacher3 = person("teacher3", cls.s3, ["teacher"], cls.k_s3, None, [cls.math])
        cls.teacher4 = person("teacher4", cls.s4, ["teacher"], cls.k_s4, None, [cls.math])
        cls.k1.write({"head_id": cls.staff["head"].id, "deputy_ids": [Command.set(cls.staff["deputy"].ids)]})
        cls.g1.leader_id = cls.staff["leader"]
        cls.k_s2.head_id = cls.staff["head2"]

        def office_account(key, authority, group, subjects=()):
            return new_test_user(
                env,
                login=f"t.{key}",
                name=f"Test {key}",
                groups=group,
                password=PASSWORD,
                hscm_authority_id=authority.id,
                hscm_subject_ids=[Command.set([s.id for s in subjects])],
            )

        cls.district = office_account("district", cls.office_d, "hscm_odoo.group_office_inspector")
        cls.ward = office_account("ward", cls.office_w, "hscm_odoo.group_office_inspector")
        cls.city = office_account("city", cls.sgd_a, "hscm_odoo.group_city_leader")
        cls.city_b = office_account("city_b", cls.sgd_b, "hscm_odoo.group_city_leader")
        cls.specialist = office_account(
            "specialist", cls.sgd_a, "hscm_odoo.group_city_specialist", [cls.math]
        )

        lesson_plan = env.ref("hscm_odoo.dossier_type_lesson_plan")
        cls.lesson_plan = lesson_plan

        def dossier(owner, subject, title):
            return env["hscm.dossier"].create(
                {"title": title, "type_id": lesson_plan.id, "owner_id": owner.id, "subject_id": subject.id}
            )

        cls.d_teacher = dossier(cls.teacher, cls.math, "S1 KHTN Toán")
        cls.d_teacher_k2 = dossier(cls.teacher_k2, cls.literature, "S1 KHXH Văn")
        cls.d_teacher2 = dossier(cls.teacher2, cls.math, "S2 Toán")
        cls.d_teacher3 = dossier(cls.teacher3, cls.math, "S3 THPT Toán")
        cls.d_teacher4 = dossier(cls.teacher4, cls.math, "S4 Sở B Toán")
        cls.all_dossiers = (
            cls.d_teacher | cls.d_teacher_k2 | cls.d_teacher2 | cls.d_teacher3 | cls.d_teacher4
        )


def _warm_cryptography_datetime():
    """cryptography looks ``datetime.datetime`` up once and keeps it: if that
    first happens under freezegun, it keeps freezegun's class and refuses
    real datetimes from then on. Look it up now, at import, unfrozen."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "warm-up")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.not_valid_before_utc


_warm_cryptography_datetime()


def make_pdf(label="", pages=1, extra=None):
    """A small valid PDF whose bytes differ with ``label`` (its title)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": f"Kế hoạch bài dạy {label}"})
    if extra == "javascript":
        from pypdf.generic import DictionaryObject, NameObject, TextStringObject

        writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
            NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1);")})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


class HscmFlowCase(HscmCase):
    """Adds a school year for Sở A and a helper to create lesson plans."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.year = cls.env["hscm.school.year"].create({
            "name": "2026-2027",
            "authority_id": cls.sgd_a.id,
            "date_start": "2026-09-07",
            "date_end": "2027-05-31",
            "break_ids": [Command.create({"name": "Tết", "date_from": "2027-02-01", "date_to": "2027-02-13"})],
        })
        # The chain tests approve with the account; test_signatures covers PKI signing.
        cls.env["hscm.dossier.type"].search([]).signature_policy = "account"
        cls.class_8a1 = cls.env["hscm.school.class"].create({"name": "8A1", "grade": 8, "school_id": cls.s1.id})
        cls.class_8a2 = cls.env["hscm.school.class"].create({"name": "8A2", "grade": 8, "school_id": cls.s1.id})

    def new_plan(self, user=None, week=12, lesson=1, label=None, classes=None, **values):
        import base64

        user = user or self.teacher
        label = label or f"{user.login}-{week}-{lesson}"
        vals = {
            "title": f"Bài {lesson}",
            "type_id": self.lesson_plan.id,
            "subject_id": self.math.id,
            "class_ids": [Command.set((classes or self.class_8a1).ids)],
            "lesson_number": lesson,
            "school_year_id": self.year.id,
            "week_number": week,
            "file": base64.b64encode(make_pdf(label)),
            "file_name": f"bai-{lesson}.pdf",
        }
        vals.update(values)
        return self.env["hscm.dossier"].with_user(user).create(vals).with_env(self.env)

    def submit(self, dossiers):
        """Submit as their owner (one owner per call)."""
        dossiers.with_user(dossiers.owner_id).action_submit()
        return dossiers


# ----------------------------------------------------------------------
# PDF reports in tests
# ----------------------------------------------------------------------
class _UnpatchedQtFilter:
    """Drops exactly the warning Debian's wkhtmltopdf (unpatched Qt) prints
    on every report: that it ignores Odoo's header and footer switches (and
    where it keeps its runtime files). Any other wkhtmltopdf message, or
    anything more in the same message, still gets through and fails the run."""

    import re as _re

    PREFIX = "wkhtmltopdf: "
    KNOWN = _re.compile(
        r"The switch --[\w-]+, is not support(?:ed)? using unpatched qt, and will be ignored\."
        r"|QStandardPaths: XDG_RUNTIME_DIR not set, defaulting to '[^']*'"
    )

    def filter(self, record):
        message = record.getMessage()
        if not message.startswith(self.PREFIX):
            return True
        return bool(self.KNOWN.sub("", message[len(self.PREFIX):]).strip())


REPORT_LOGGER = "odoo.addons.base.models.ir_actions_report"


class quiet_unpatched_qt:
    """``with quiet_unpatched_qt(): ...`` around a PDF render."""

    def __enter__(self):
        import logging

        self._filter = _UnpatchedQtFilter()
        logging.getLogger(REPORT_LOGGER).addFilter(self._filter)
        return self

    def __exit__(self, *exc):
        import logging

        logging.getLogger(REPORT_LOGGER).removeFilter(self._filter)
        return False


def pdf_text(data):
    """The text of a PDF (``pdftotext -layout``), pages separated by \\f."""
    import os
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        return subprocess.run(["pdftotext", "-layout", handle.name, "-"], capture_output=True, text=True,
                              check=True, env=dict(os.environ, LANG="C.UTF-8")).stdout


def render_pdf(env, report_ref, res_ids=None, data=None):
    """Render a QWeb report to real PDF bytes (tests otherwise get HTML),
    with the known wkhtmltopdf warning muted."""
    report = env["ir.actions.report"].with_context(force_report_rendering=True)
    with quiet_unpatched_qt():
        content, kind = report._render_qweb_pdf(report_ref, res_ids=res_ids, data=data)
    assert kind == "pdf", kind
    return content
