"""Personal information: encryption at rest, keyed lookup hashes and masking (PIPL)."""

import base64
import hashlib
import hmac
import re
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _key_material() -> bytes:
    configured = settings.FIELD_ENCRYPTION_KEY
    if not configured:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set.")
    return configured.encode()


@cache
def _fernet() -> Fernet:
    derived = hashlib.sha256(b"encrypt:" + _key_material()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


@cache
def _hash_key() -> bytes:
    return hashlib.sha256(b"lookup:" + _key_material()).digest()


def normalise_national_id(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def lookup_hash(value: str) -> str:
    """A keyed hash for exact-match search without storing the clear value."""
    value = normalise_national_id(value)
    if not value:
        return ""
    return hmac.new(_hash_key(), value.encode(), hashlib.sha256).hexdigest()


def last4(value: str) -> str:
    """The last four characters of an ID number, the part the mask leaves visible."""
    value = normalise_national_id(value)
    return value[-4:] if len(value) > 8 else ""


def mask_national_id(value: str) -> str:
    value = normalise_national_id(value)
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


# Whole digit runs only: not part of a longer number, nor either side of a decimal point (a Celery
# duration such as "succeeded in 0.029112345678905254s" has 18 digits after its point). Letters next
# to the digits do not stop the mask ("手机13812345678" is a phone): better a masked id than a leak.
_ALONE_BEFORE = r"(?<!\d)(?<!\d\.)"
_ALONE_AFTER = r"(?!\d)(?!\.\d)"
_ID_PATTERN = re.compile(_ALONE_BEFORE + r"(\d{6})(\d{8})(\d{3}[\dXx])" + _ALONE_AFTER)
_PHONE_PATTERN = re.compile(_ALONE_BEFORE + r"(1[3-9]\d)(\d{4})(\d{4})" + _ALONE_AFTER)


def scrub(text: str) -> str:
    """Mask anything in free text that looks like a mainland ID or mobile number."""
    text = _ID_PATTERN.sub(lambda m: m.group(1)[:4] + "*" * 10 + m.group(3), text)
    return _PHONE_PATTERN.sub(lambda m: m.group(1) + "****" + m.group(3), text)
