"""Images on cards: an upload is checked and re-encoded with Pillow, then stored once under its
content hash through Django's storage API (default_storage: the filesystem unless STORAGES
names another backend, e.g. django-storages' S3).

Why re-encode: the bytes served are then Pillow's own output, so nothing the uploader hid in
the file (EXIF with GPS positions, comments, an HTML or script tail that a browser might sniff)
survives. Why refuse rather than repair a mislabelled file: the editor writes the URL with the
detected format's extension, so the only thing a wrong extension can mean is a file that is not
what its owner thinks it is (a renamed HEIC, an HTML page called .png) — saying so is clearer
than serving something else under their name.

Every refusal raises MediaError with a message naming the file and the reason, before anything
is stored: no row and no file is left behind.
"""

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from cards.models import Deck, MediaFile
from cards.models.notes import media_path

# Pillow format -> (the extension the file is stored and served under, its Content-Type).
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}
# Extensions a file's name may have for each format.
NAME_EXTENSIONS = {"JPEG": {"jpg", "jpeg"}, "PNG": {"png"}, "GIF": {"gif"}, "WEBP": {"webp"}}
EXTENSIONS = {ext for ext, _ in FORMATS.values()}


# Raw bytes that make a browser (or a careless proxy) take a file for a page: an image that
# also carries them is a polyglot, refused even though re-encoding would drop the tail.
_ACTIVE_MARKERS = re.compile(rb"<(?:script|html|svg|iframe|body|!doctype|\?xml)\b", re.IGNORECASE)


class MediaError(Exception):
    """A refused upload; str() is the message for the user."""


@dataclass(frozen=True)
class CheckedImage:
    data: bytes  # the re-encoded image, as stored
    format: str
    extension: str
    content_type: str
    width: int
    height: int
    sha256: str


def media_url(media: MediaFile) -> str:
    return reverse("media_serve", args=[media.deck_id, f"{media.sha256}.{media.extension}"])


def rewrite_media_urls(text, old_deck_id: int, new_deck_id: int):
    """Point a copied card's images at the copy's deck (its own MediaFile rows). Anything
    but text (a card's position, its flags) comes back as it was."""
    if not isinstance(text, str):
        return text
    old, new = f"/decks/{old_deck_id}/media/", f"/decks/{new_deck_id}/media/"
    return text.replace(old, new) if old in text else text


# --- Checking -------------------------------------------------------------------------------


def check_image(data: bytes, name: str) -> CheckedImage:
    """Decode the whole image, check it against the limits and re-encode it."""
    label = name or "the file"
    max_bytes = settings.MEDIA_MAX_BYTES
    if not data:
        raise MediaError(f"{label}: the file is empty")
    if len(data) > max_bytes:
        raise MediaError(
            f"{label}: the file is {filesizeformat(len(data))}; images may be at most "
            f"{filesizeformat(max_bytes)}"
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    head = data[:1024].lstrip().lower()
    if extension == "svg" or head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        raise MediaError(
            f"{label}: SVG images are not accepted (they can carry scripts); "
            "upload a PNG export instead"
        )
    if _ACTIVE_MARKERS.search(data):
        raise MediaError(f"{label}: the file holds HTML or script as well as image data")
    image, frames = _decode(data, label)
    # Phones write JPEGs with a second, "multi-picture" image (MPO): a JPEG, its first picture.
    fmt = "JPEG" if image.format == "MPO" else image.format
    if extension not in NAME_EXTENSIONS[fmt]:
        right = FORMATS[fmt][0]
        said = f".{extension}" if extension else "no extension"
        raise MediaError(
            f"{label}: the file is a {fmt} image but its name has {said}; "
            f"rename it to .{right} if it is the image you meant"
        )
    try:
        encoded = _encode(image, frames, fmt)
    except (OSError, ValueError) as exc:
        raise MediaError(f"{label}: the image could not be re-encoded ({exc})") from None
    if len(encoded) > max_bytes:
        raise MediaError(
            f"{label}: re-encoded, the image is {filesizeformat(len(encoded))}; images may "
            f"be at most {filesizeformat(max_bytes)}"
        )
    ext, content_type = FORMATS[fmt]
    return CheckedImage(
        data=encoded,
        format=fmt,
        extension=ext,
        content_type=content_type,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(encoded).hexdigest(),
    )


def _decode(data: bytes, label: str):
    """The image and its frames, each fully decoded. Sizes are checked from the header before
    any pixel is decoded, so a decompression bomb costs nothing; Pillow's own bomb warning is
    an error here, never just a warning."""
    max_side, max_pixels = settings.MEDIA_MAX_SIDE, settings.MEDIA_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            width, height = image.size
            if width > max_side or height > max_side:
                raise MediaError(
                    f"{label}: the image is {width}×{height} pixels; "
                    f"each side may be at most {max_side} pixels"
                )
            if width * height > max_pixels:
                raise MediaError(
                    f"{label}: the image has {width * height:,} pixels; "
                    f"images may have at most {max_pixels:,}"
                )
            n_frames = 1 if image.format == "MPO" else getattr(image, "n_frames", 1)
            if n_frames > settings.MEDIA_MAX_FRAMES or n_frames * width * height > max_pixels:
                raise MediaError(
                    f"{label}: the animation has {n_frames} frames of {width}×{height} pixels; "
                    f"at most {max_pixels:,} pixels in all frames together"
                )
            if n_frames == 1:  # no copy: one decoded image in memory, not two
                image.load()
                frames = [(image, 0)]
            else:
                frames = []
                for frame in ImageSequence.Iterator(image):
                    frame.load()
                    frames.append((frame.copy(), frame.info.get("duration", 100)))
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError(
            f"{label}: the image is too large to decode (a decompression bomb)"
        ) from None
    except UnidentifiedImageError:
        raise MediaError(
            f"{label}: not a JPEG, PNG, GIF or WebP image (or a damaged one)"
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise MediaError(f"{label}: the image could not be decoded ({exc})") from None
    return image, frames


def _encode(image, frames, fmt: str) -> bytes:
    """Pillow's own bytes, without EXIF, ICC, XMP or comments. A JPEG's EXIF orientation is
    applied first, so photos stay upright once it is gone. Animated GIF and WebP keep all
    their frames (and each frame's duration)."""
    out = io.BytesIO()
    if len(frames) > 1:
        images = [_plain_mode(frame, fmt) for frame, _ in frames]
        durations = [duration for _, duration in frames]
        extra = {"lossless": False, "quality": 90} if fmt == "WEBP" else {"optimize": False}
        images[0].save(out, fmt, save_all=True, append_images=images[1:], duration=durations,
                       loop=image.info.get("loop", 0), **extra)  # fmt: skip
        return out.getvalue()
    first = frames[0][0]
    if fmt == "JPEG":
        first = ImageOps.exif_transpose(first)
    first = _plain_mode(first, fmt)
    if fmt == "JPEG":
        first.save(out, "JPEG", quality=90, optimize=True)
    elif fmt == "PNG":
        first.save(out, "PNG", optimize=True)
    elif fmt == "GIF":
        first.save(out, "GIF")
    else:
        first.save(out, "WEBP", quality=90)
    return out.getvalue()


def _plain_mode(frame, fmt: str):
    # No metadata travels to the encoder; a palette's transparent index is pixels, not metadata.
    keep = {"transparency": frame.info["transparency"]} if "transparency" in frame.info else {}
    frame.info = keep
    if fmt == "JPEG":
        return frame if frame.mode in ("L", "RGB") else frame.convert("RGB")
    if fmt == "GIF":
        return frame if frame.mode in ("P", "L") else frame.convert("RGBA")
    return frame if frame.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else frame.convert("RGBA")


# --- Storing --------------------------------------------------------------------------------


def used_bytes(user) -> int:
    """What the user's uploads take, each distinct image once (the same picture in two of
    their decks is one stored file)."""
    sizes = (
        MediaFile.objects.filter(uploaded_by=user)
        .order_by()
        .values("sha256")
        .annotate(one=Max("size"))  # every row of one hash has the same size
        .values_list("one", flat=True)
    )
    return sum(sizes)


def save_media(deck: Deck, user, data: bytes, name: str) -> tuple[MediaFile, bool]:
    """Check, store and record an upload for `deck`. Returns (row, created); the same image
    uploaded to the deck again returns the existing row. Raises MediaError."""
    checked = check_image(data, name)
    existing = MediaFile.objects.filter(deck=deck, sha256=checked.sha256).first()
    if existing is not None:
        return existing, False
    quota = settings.MEDIA_QUOTA_BYTES
    already = used_bytes(user) if user is not None else 0
    counted = MediaFile.objects.filter(uploaded_by=user, sha256=checked.sha256).exists()
    if user is not None and not counted and already + len(checked.data) > quota:
        raise MediaError(
            f"{name or 'the file'}: your images already take {filesizeformat(already)} of your "
            f"{filesizeformat(quota)}; this one ({filesizeformat(len(checked.data))}) would go "
            "over it. Images go when the decks holding them are deleted; the site's staff can "
            "remove single ones"
        )
    return _store(deck, user, checked, name), True


def _store(deck: Deck, user, checked: CheckedImage, name: str) -> MediaFile:
    media = MediaFile(
        deck=deck,
        uploaded_by=user,
        sha256=checked.sha256,
        extension=checked.extension,
        content_type=checked.content_type,
        size=len(checked.data),
        width=checked.width,
        height=checked.height,
        original_name=(name or "")[:255],
    )
    path = media_path(media, name)
    # Content-addressed: a file already there under this name holds these very bytes.
    written = not default_storage.exists(path)
    if written:
        saved = default_storage.save(path, io.BytesIO(checked.data))
        if saved != path:  # another request stored it meanwhile: keep theirs
            default_storage.delete(saved)
    media.file.name = path
    try:
        with transaction.atomic():
            media.save()
    except IntegrityError:
        # The same image uploaded to this deck by a concurrent request: theirs stands.
        other = MediaFile.objects.filter(deck=deck, sha256=checked.sha256).first()
        if other is None:
            _delete_file_if_unused(path)
            raise
        return other
    return media


def copy_media(source: Deck, target: Deck) -> int:
    """The source deck's images for its copy: rows of the copy pointing at the same stored
    files (nothing is stored twice). Charged to nobody's quota: the copier uploaded nothing."""
    rows = [
        MediaFile(
            deck=target,
            uploaded_by=None,
            file=m.file.name,
            sha256=m.sha256,
            extension=m.extension,
            content_type=m.content_type,
            size=m.size,
            width=m.width,
            height=m.height,
            original_name=m.original_name,
        )  # fmt: skip
        for m in MediaFile.objects.filter(deck=source).order_by("pk")
    ]
    MediaFile.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _delete_file_if_unused(path: str) -> None:
    if not MediaFile.objects.filter(file=path).exists():
        default_storage.delete(path)


@receiver(post_delete, sender=MediaFile, dispatch_uid="studyapp_media_file_cleanup")
def _delete_stored_file(sender, instance: MediaFile, using, **kwargs):
    """A stored file goes once no row references it any more (deck copies share files),
    checked after the deleting transaction commits, so a rollback never loses an image."""
    path = instance.file.name
    if path:
        transaction.on_commit(lambda: _delete_file_if_unused(path), using=using)
