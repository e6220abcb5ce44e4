"""RFC 3161 timestamping for B-T signatures (no Odoo import)."""

from pyhanko.sign.timestamps import HTTPTimeStamper


def http_timestamper(url: str | None, timeout: float):
    """A timestamper for the TSA at ``url`` (None when no TSA is configured:
    signatures are then PAdES B-B)."""
    return HTTPTimeStamper(url, timeout=max(1.0, float(timeout))) if url else None
