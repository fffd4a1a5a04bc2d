"""Photo evidence: what is accepted (really JPEG, PNG or WebP, under the size cap) and its fingerprint."""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
DEFAULT_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class PhotoInfo:
    content_type: str
    extension: str
    width: int
    height: int


def max_bytes() -> int:
    return int(getattr(settings, "DOORSTEP_VISIT_PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES))


def inspect_photo(upload) -> PhotoInfo:
    """Open the upload with Pillow: the bytes decide the type, never the name or the browser's header."""
    limit = max_bytes()
    if upload.size > limit:
        raise ValidationError(
            _("%(name)s is %(size)s; photos may be at most %(max)s.")
            % {"name": upload.name, "size": filesizeformat(upload.size), "max": filesizeformat(limit)},
            code="too_large",
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(
            _("%(name)s is not a JPEG, PNG or WebP photo.") % {"name": upload.name}, code="not_an_image"
        ) from exc
    finally:
        upload.seek(0)
    if image_format not in FORMATS:
        raise ValidationError(
            _("%(name)s is a %(format)s file; only JPEG, PNG or WebP photos are accepted.")
            % {"name": upload.name, "format": image_format},
            code="wrong_type",
        )
    content_type, extension = FORMATS[image_format]
    return PhotoInfo(content_type=content_type, extension=extension, width=width, height=height)


def sha256_of(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()
