"""Exports with images: the deck CSV and the "all my data" JSON as a zip that holds the file and
`media/<sha256>.<ext>` for every image of the decks, and the import of such a zip.

The text inside stays exactly the CSV or JSON the plain export gives (its cards name images by
their URL, /decks/<id>/media/<sha256>.<ext>), so a zip is only a wrapper: the seed export and
the plain files are unchanged. Importing re-checks every image through the upload's checks
(services/media.py), stores it for the new deck and points the cards' URLs at it — the hash
may change, as re-encoding is not byte-stable for JPEG and WebP.
"""

import io
import zipfile
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from cards.markdown import MEDIA_URL_RE
from cards.models import Card, Deck, MediaFile, Note
from cards.services.media import (
    CheckedImage,
    MediaError,
    _store,
    check_image,
    media_url,
    used_bytes,
)
from cards.services.user_data import TransferError

DATA_NAME = "data.json"
CSV_NAME = "deck.csv"
MAX_MEMBERS = 5000
TEXT_FIELDS = ["question", "answer", "question_html", "answer_html", "imported_question",
               "imported_answer"]  # fmt: skip


# --- Export ---------------------------------------------------------------------------------


def deck_has_media(deck: Deck) -> bool:
    return MediaFile.objects.filter(deck=deck).exists()


def user_has_media(user) -> bool:
    return MediaFile.objects.filter(deck__owner=user).exists()


def build_zip(text_name: str, chunks: Iterable[str], media: Iterable[MediaFile]) -> bytes:
    """The export's text under `text_name`, then each distinct image once. Images are stored
    as they are (already compressed); the text is deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(text_name, "w") as handle:
            for chunk in chunks:
                handle.write(chunk.encode())
        seen = set()
        for item in media:
            name = f"media/{item.sha256}.{item.extension}"
            if name in seen:
                continue
            seen.add(name)
            try:
                with default_storage.open(item.file.name, "rb") as stored:
                    archive.writestr(name, stored.read(), compress_type=zipfile.ZIP_STORED)
            except FileNotFoundError:
                continue  # a lost file: the export still carries everything else
    return out.getvalue()


def deck_zip(deck: Deck, csv_name: str, csv_chunks: Iterable[str]) -> bytes:
    return build_zip(csv_name, csv_chunks, MediaFile.objects.filter(deck=deck).order_by("pk"))


def user_zip(user, json_chunks: Iterable[str]) -> bytes:
    media = MediaFile.objects.filter(deck__owner=user).order_by("pk")
    return build_zip(DATA_NAME, json_chunks, media)


# --- Import ---------------------------------------------------------------------------------


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def unpack(data: bytes, text_name: str, max_text: int):
    """(text, its name, images): the zip's text file (`text_name`, or for CSV_NAME any .csv at
    the top) and its images, each checked and re-encoded as an upload is, keyed
    by the name the cards use ("<sha256>.<ext>"). TransferError names the first problem; the
    sizes are read from the directory and enforced while reading (a zip bomb stops there)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise TransferError(f"the zip file cannot be read ({exc})") from None
    if len(members) > MAX_MEMBERS:
        raise TransferError(f"the zip holds {len(members)} files; at most {MAX_MEMBERS}")
    text, found, images = None, text_name, {}
    for info in members:
        name = info.filename
        is_csv = text_name == CSV_NAME and name.lower().endswith(".csv") and "/" not in name
        if text is None and (name == text_name or is_csv):
            text, found = _read(archive, info, max_text), name
        elif name.startswith("media/") and not info.is_dir():
            key = name.removeprefix("media/")
            raw = _read(archive, info, settings.MEDIA_MAX_BYTES)
            try:
                images[key] = check_image(raw, key)
            except MediaError as exc:
                raise TransferError(f"media/{exc}; no image of the zip was kept") from None
    if text is None:
        raise TransferError(f"the zip has no {'.csv file' if text_name == CSV_NAME else text_name}")
    return text, found, images


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise TransferError(
            f"{info.filename} is {filesizeformat(info.file_size)} unpacked; "
            f"at most {filesizeformat(limit)}"
        )
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
        raise TransferError(f"{info.filename} cannot be unpacked ({exc})") from None
    if len(data) > limit:
        raise TransferError(f"{info.filename} is larger unpacked than the zip says")
    return data


def check_quota(user, images: dict[str, CheckedImage]) -> None:
    """Refuse, before anything is written, an import whose images would pass the user's quota."""
    known = set(MediaFile.objects.filter(uploaded_by=user).values_list("sha256", flat=True))
    sizes = {img.sha256: len(img.data) for img in images.values() if img.sha256 not in known}
    extra, used, quota = sum(sizes.values()), used_bytes(user), settings.MEDIA_QUOTA_BYTES
    if sizes and used + extra > quota:
        raise TransferError(
            f"its images ({filesizeformat(extra)}) would take your images past your quota "
            f"({filesizeformat(used)} of {filesizeformat(quota)} used)"
        )


def attach_media(user, decks: Iterable[Deck], images: dict[str, CheckedImage]) -> int:
    """Store the zip's images for the imported decks that use them, and rewrite those decks'
    cards to the new URLs. Returns the number of image rows made."""
    made = 0
    for deck in decks:
        rows: dict[str, MediaFile] = {}
        changed = []
        for card in deck.cards.filter(_mentions_media()).order_by("pk"):
            edited = False
            for field in TEXT_FIELDS:
                value = getattr(card, field)
                new = _rewrite(value, deck, user, images, rows)
                if new != value:
                    setattr(card, field, new)
                    edited = True
            if edited:
                changed.append(card)
        notes = _rewrite_notes(deck, user, images, rows)
        with transaction.atomic():
            Card.objects.bulk_update(changed, TEXT_FIELDS, batch_size=500)
            Note.objects.bulk_update(notes, ["fields"], batch_size=500)
        made += sum(1 for row in rows.values() if row is not None)
    return made


def _rewrite_notes(deck: Deck, user, images, rows) -> list[Note]:
    """The deck's notes whose fields name an image of the zip, pointed at the new copy (a
    note's fields are where its cards are regenerated from)."""
    changed = []
    for note in deck.notes.filter(fields__icontains="/media/").order_by("pk"):
        fields = {k: _rewrite(v, deck, user, images, rows) for k, v in note.fields.items()}
        if fields != note.fields:
            note.fields = fields
            changed.append(note)
    return changed


def _mentions_media():
    from django.db.models import Q

    return Q(question__contains="/media/") | Q(answer__contains="/media/")


def _rewrite(text: str, deck: Deck, user, images, rows) -> str:
    if "/media/" not in text:
        return text

    def swap(match) -> str:
        key = f"{match[2]}.{match[3]}"
        if key not in images:
            return match[0]  # not in the zip: left as it was (shows as a broken image)
        if key not in rows:
            rows[key] = _store(deck, user, images[key], key)
        return media_url(rows[key])

    return MEDIA_URL_RE.sub(swap, text)


def new_decks_since(user, last_pk: int) -> Iterator[Deck]:
    """The decks an import made: the user's decks created after `last_pk`."""
    return Deck.objects.filter(owner=user, pk__gt=last_pk).order_by("pk").iterator()


def last_deck_pk() -> int:
    return Deck.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def open_user_data(data: bytes) -> tuple[bytes, dict[str, CheckedImage]]:
    """The JSON of an "all my data" upload, plain or zipped with its images."""
    if not is_zip(data):
        return data, {}
    text, _, images = unpack(data, DATA_NAME, settings.IMPORT_MAX_BYTES * 20)
    return text, images


def open_deck_file(data: bytes, filename: str) -> tuple[bytes, str, dict[str, CheckedImage]]:
    """The CSV (or seed text) of a deck upload and the name to parse it by, plain or zipped
    with its images."""
    if not is_zip(data):
        return data, filename, {}
    return unpack(data, CSV_NAME, settings.IMPORT_MAX_BYTES * 20)
