"""Messages shown in Vietnamese first, then English.

Hostile or wrong input gets a clear message in both languages, whatever the
user's language setting: staff read Vietnamese, integrators and the people
who support them often read English.
"""


def join(vi, en):
    """One message from its two languages (one line when they are equal)."""
    vi, en = (vi or "").strip(), (en or "").strip()
    if not vi or vi == en:
        return en
    if not en:
        return vi
    return f"{vi}\n{en}"


def bilingual(message):
    """``message`` is a lazily translated term (Odoo's ``_lt(...)`` with its
    parameters); anything with a ``_translate(lang)`` method works."""
    return join(message._translate("vi_VN"), message._translate("en_US"))
