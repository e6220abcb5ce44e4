"""RFC 3161 timestamping for B-T signatures (no Odoo import)."""

from pyhanko.sign.timestamps import HTTPTimeStamper

from .pades import PadesError


class TimestampError(PadesError):
    """The timestamp authority could not be reached, or refused or botched
    the request: a B-T signature needs its token, so nothing is signed."""

    code = "timestamp_unreachable"


class _HTTPTimeStamper(HTTPTimeStamper):
    """pyHanko's HTTP timestamper whose failures are :class:`TimestampError`:
    pyHanko raises ``TimestampRequestError``, an ``OSError`` like the network
    errors, which callers would otherwise take for a local disk's."""

    async def async_timestamp(self, message_digest, md_algorithm):
        try:
            return await super().async_timestamp(message_digest, md_algorithm)
        except OSError as error:
            raise TimestampError(f"The timestamp authority failed: {error}") from error


def http_timestamper(url: str | None, timeout: float):
    """A timestamper for the TSA at ``url`` (None when no TSA is configured:
    signatures are then PAdES B-B)."""
    return _HTTPTimeStamper(url, timeout=max(1.0, float(timeout))) if url else None
