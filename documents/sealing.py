"""PAdES seals with pyHanko: a visible stamp in the box the template left empty, B-B, B-T or B-LT.

The level follows the settings and the key: B-B without a timestamp authority; B-T with one
(`seal_tsa_url`); B-LT when, in addition, the seal's chain names CRL or OCSP responders: the
revocation data is fetched at signing time and put into the document security store, so a
validator needs no network later. A timestamp or revocation fetch that fails, or a token that
does not sign, raises SealUnavailable and returns nothing: no half-sealed document leaves here.

The event loop never signs: each seal runs in one of the Sealer's worker threads, on pyHanko's
async API in that thread's own loop (its HTTP clients are aiohttp's). The key is loaded once
(documents.keys), the stamp's font subset once (documents.stamp).
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import math
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, ValidationError
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from documents import keys, stamp
from vibue.core.errors import SealUnavailable
from vibue.core.settings import Settings
from vibue.issued.ports import Level, SealedDocument

log = logging.getLogger(__name__)

FIELD_NAME = "Dienstsiegel"
# What a failed seal can be besides a bug: the network, the timestamp authority, a responder, the token.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    TimestampRequestError,
    aiohttp.ClientError,
    TimeoutError,
    OSError,
    SigningError,
    PathBuildingError,
    PathValidationError,
    ValidationError,
)
try:  # python-pkcs11 is there with pyHanko's pkcs11 extra (requirements.txt); a token error is one too
    from pkcs11.exceptions import PKCS11Error

    _UNAVAILABLE += (PKCS11Error,)
except ImportError:  # pragma: no cover
    pass


def _inside(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """The box in whole points (pyHanko's field type), rounded inwards so the stamp stays inside."""
    x1, y1, x2, y2 = box
    return math.ceil(x1), math.ceil(y1), math.floor(x2), math.floor(y2)


class Sealer:
    """Seals PDFs with the office's key; one per process, made at start (`open` or `start`)."""

    def __init__(
        self,
        key: keys.SealKey,
        *,
        tsa_url: str = "",
        timeout: float = 10.0,
        workers: int = 2,
        timezone: str = "Europe/Berlin",
    ) -> None:
        self.key = key
        self.timeout = timeout
        self.zone = ZoneInfo(timezone)
        # One timestamper for every seal: it keeps the size of a token for pyHanko's estimate.
        self.timestamper = HTTPTimeStamper(tsa_url, timeout=timeout) if tsa_url else None
        self.style = stamp.style()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vibue-seal")

    @classmethod
    def open(cls, settings: Settings) -> Sealer:
        """Load the key as the settings say (blocking; a SettingsError is a start error)."""
        return cls(
            keys.load(settings),
            tsa_url=settings.seal_tsa_url,
            timeout=settings.seal_timeout_seconds,
            workers=max(1, settings.seal_workers),  # threads; the processes are workers.py's
            timezone=settings.timezone,
        )

    @classmethod
    async def start(cls, settings: Settings) -> Sealer:
        """`open` off the event loop (the first start generates the development PKI's keys)."""
        return await asyncio.to_thread(cls.open, settings)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.key.close()

    @property
    def level(self) -> Level:
        if self.timestamper is None:
            return "B-B"
        return "B-LT" if self.key.revocation_urls else "B-T"

    def root_certificate(self) -> bytes | None:
        """The development root CA (PEM) for the verification page; None with a real key."""
        return self.key.development_root

    async def seal(
        self,
        pdf: bytes,
        *,
        page: int,
        box: tuple[float, float, float, float],
        clerk_name: str,
        office: str,
        when: datetime,
    ) -> SealedDocument:
        """The PDF sealed, with a stamp (office, clerk, time) in `box` on `page` (0-based)."""
        loop = asyncio.get_running_loop()
        work = functools.partial(
            self.seal_blocking, pdf, page=page, box=box, clerk_name=clerk_name, office=office, when=when
        )
        return await loop.run_in_executor(self.pool, work)

    def seal_blocking(
        self,
        pdf: bytes,
        *,
        page: int,
        box: tuple[float, float, float, float],
        clerk_name: str,
        office: str,
        when: datetime,
    ) -> SealedDocument:
        """`seal` in the calling thread (a worker's; also what the benchmark compares)."""
        level = self.level
        try:
            sealed = asyncio.run(
                self._sign(pdf, page=page, box=box, clerk_name=clerk_name, office=office, when=when, level=level)
            )
        except _UNAVAILABLE as exc:
            log.warning("seal failed at %s: %s: %s", level, type(exc).__name__, exc)
            raise SealUnavailable() from exc
        return SealedDocument(pdf=sealed, level=level)

    async def _sign(
        self,
        pdf: bytes,
        *,
        page: int,
        box: tuple[float, float, float, float],
        clerk_name: str,
        office: str,
        when: datetime,
        level: Level,
    ) -> bytes:
        backend: AIOHttpFetcherBackend | None = None
        context: ValidationContext | None = None
        if level == "B-LT":
            backend = AIOHttpFetcherBackend(per_request_timeout=self.timeout)
            context = ValidationContext(
                trust_roots=list(self.key.trust_roots),
                other_certs=list(self.key.ca_certs),
                allow_fetching=True,
                # A missing answer is a failed seal, not a B-LT document without its revocation data.
                revocation_mode="hard-fail",
                fetcher_backend=backend,
            )
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            name=office,
            embed_validation_info=context is not None,
            validation_context=context,
            use_pades_lta=False,
        )
        signer = signers.PdfSigner(
            meta,
            signer=self.key.signer,
            timestamper=self.timestamper,
            stamp_style=self.style,
            new_field_spec=fields.SigFieldSpec(FIELD_NAME, on_page=page, box=_inside(box)),
        )
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
            output = await signer.async_sign_pdf(
                writer, appearance_text_params=stamp.params(office, clerk_name, when.astimezone(self.zone))
            )
            return bytes(output.getbuffer())
        finally:
            if backend is not None:
                await backend.close()  # type: ignore[no-untyped-call]
