"""A SHA-256 hash chain over audit entries (tamper evidence).

Each entry's digest covers the previous entry's digest and the entry's own
fields in a canonical JSON form, so editing, deleting, inserting or
reordering any entry breaks every digest after it. Pure Python: the model
``hscm.audit.log`` stores the fields and calls these functions.
"""

import hashlib
import json

GENESIS = "0" * 64


def canonical(fields):
    """Stable bytes for a dict of JSON-able values (sorted keys, no spaces)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def digest(previous, fields):
    return hashlib.sha256(previous.encode("ascii") + b"\n" + canonical(fields)).hexdigest()


def verify(entries):
    """Check a chain given in order as ``(key, previous, stored_digest, fields)``.

    :return: ``(True, None, "")`` when intact, else ``(False, key, reason)``
        naming the first entry that does not hold.
    """
    expected_previous = GENESIS
    for key, previous, stored, fields in entries:
        if previous != expected_previous:
            return False, key, "previous digest does not match the entry before it (deleted or reordered entry)"
        if digest(previous, fields) != stored:
            return False, key, "the entry's content does not match its digest (edited entry)"
        expected_previous = stored
    return True, None, ""
