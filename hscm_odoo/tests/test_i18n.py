import re

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import TranslationModuleReader


@tagged("post_install", "-at_install")
class TestVietnameseTranslation(TransactionCase):
    """Every user-facing string of the addon has a Vietnamese translation."""

    def test_vi_po_is_complete(self):
        po = polib.pofile(file_path("hscm_odoo/i18n/vi.po"))
        translated = {entry.msgid for entry in po if entry.msgstr and not entry.fuzzy and not entry.obsolete}
        terms = {row[4] for row in TranslationModuleReader(self.env.cr, modules=["hscm_odoo"])}
        terms.discard("")
        missing = sorted(terms - translated)
        self.assertFalse(missing, "strings missing from i18n/vi.po:\n" + "\n".join(missing[:50]))

    def test_placeholders_survive_translation(self):
        placeholder = re.compile(r"%\(\w+\)s|%s|%d")
        po = polib.pofile(file_path("hscm_odoo/i18n/vi.po"))
        wrong = [
            entry.msgid
            for entry in po
            if entry.msgstr and sorted(placeholder.findall(entry.msgid)) != sorted(placeholder.findall(entry.msgstr))
        ]
        self.assertFalse(wrong, f"placeholders differ in: {wrong}")
