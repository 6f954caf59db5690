"""Bytes to text: declared charset, BOM, <meta charset>, then detection; control characters removed."""
from __future__ import annotations

import codecs
import re
import unicodedata

import charset_normalizer

META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
# C0/C1 controls other than tab, newline and carriage return carry no text and break XML/HTML tools.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class DecodeError(ValueError):
    """The bytes are not text in the required or any detectable encoding."""


def _try(data: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        codecs.lookup(encoding)
        return data.decode(encoding)
    except (LookupError, ValueError):  # unknown codec, undecodable bytes, a NUL in the name
        return None


def clean_text(text: str) -> str:
    """Normalise newlines and Unicode (NFC) and drop control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", CONTROL.sub("", text))


def decode_utf8(data: bytes, *, what: str = "input") -> str:
    """Decode strict UTF-8 (BOM allowed) or raise DecodeError naming the first bad byte."""
    try:
        return clean_text(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DecodeError(
            f"{what} is not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            "cannot be decoded; save it as UTF-8 or give its encoding"
        ) from None


def decode_web(data: bytes, *, declared: str | None = None) -> tuple[str, str]:
    """Decode a fetched page or feed; return (text, encoding used)."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            text = _try(data, enc)
            if text is not None:
                return clean_text(text), enc
    candidates = [declared]
    meta = META_CHARSET.search(data[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii", "ignore"))
    candidates.append("utf-8")
    for enc in candidates:
        text = _try(data, enc)
        if text is not None:
            return clean_text(text), enc.lower()  # type: ignore[union-attr]
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise DecodeError("the page is not text in any encoding that could be detected")
    return clean_text(str(best)), best.encoding
