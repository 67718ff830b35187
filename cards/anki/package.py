"""Opening an Anki package (.apkg / .colpkg) safely: `open_package(path, filename)`.

Every format Anki 2.1.x writes is read (the `meta` file's version decides, as in Anki's
rslib/src/import_export/package/meta.rs): 1 = collection.anki2 (Anki 2.0, no meta),
2 = collection.anki21 with a JSON media map {"0": "name"}, 3 = zstd-compressed
collection.anki21b with a zstd protobuf media map (name, size, sha1) and zstd media files.
A .colpkg is the same zip holding the whole collection.

The zip is untrusted: sizes are counted as the bytes stream out (never taken from the zip's
headers), per package, per file and against the compression ratio; media names from the map are
checked (no folders, no "..", no NUL); every media file is unpacked once on opening and its
size (and in the latest format its SHA-1) checked, so `media_bytes` can only return what was
verified. Everything lands in a private temporary folder that `close()` removes. Media
names are never used as paths: files are kept under their index in the zip.

Decisions: an unsafe media name refuses the whole package (a package that tries it is not
trusted for the rest); whether a media file is the image its name says is the importer's
check (cards/services/media.check_image), this module checks only sizes and hashes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import zstandard
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from google.protobuf.message import DecodeError

from .collection import AnkiMedia
from .proto import MediaEntries, PackageMetadata
from .reader import CollectionFile, PackageError

__all__ = ["AnkiPackage", "PackageError", "open_package"]

COLLECTION_FILES = {1: "collection.anki2", 2: "collection.anki21", 3: "collection.anki21b"}
LATEST = 3
# A zip or zstd bomb expands far beyond what collections and media do (SQLite pages and
# images compress a few times, rarely 50x): past the floor, more than this many bytes out per
# byte in is refused.
MAX_RATIO = 200
RATIO_FLOOR = 16 * 1024 * 1024
_CHUNK = 1024 * 1024
_ENTRY_BYTES = 512  # a media map entry: a name of at most 255 bytes, a size and a SHA-1


def open_package(path: str | os.PathLike, filename: str) -> AnkiPackage:
    """Read the package at `path`; `filename` (the name it was uploaded as) labels messages.

    Raises PackageError naming the package and the problem; on success the caller must
    `close()` it (or use it as a context manager).
    """
    return AnkiPackage(Path(path), filename)


class AnkiPackage(CollectionFile):
    """An opened package: the collection's content, plus its verified media."""

    def __init__(self, path: Path, filename: str):
        self.package_name = filename
        self._dir = Path(tempfile.mkdtemp(prefix="studyapp-anki-"))
        self._zip = None
        self._unpacked = 0
        self.version = 0  # the meta file's, once read
        try:
            self._open(path)
        except BaseException:
            self.close()
            raise

    def _open(self, path: Path) -> None:
        name = self.package_name
        limit = settings.APKG_MAX_BYTES
        size = path.stat().st_size
        if size > limit:
            raise PackageError(
                f"{name}: the package is {filesizeformat(size)}; the limit is "
                f"{filesizeformat(limit)}"
            )
        max_media = settings.ANKI_MAX_MEDIA_FILES
        try:
            members = _member_count(path)
            if members <= max_media + 4:
                self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as error:
            raise PackageError(
                f"{name}: not a zip file, so not an Anki package (.apkg or .colpkg are zip "
                f"archives; {error})"
            ) from error
        if self._zip is None:
            raise PackageError(
                f"{name}: the package holds {members:,} files; the limit is "
                f"{max_media:,} media files (ANKI_MAX_MEDIA_FILES)"
            )
        self._infos = {info.filename: info for info in self._zip.infolist()}
        self.version = self._version()
        collection = COLLECTION_FILES[self.version]
        if collection not in self._infos:
            held = ", ".join(sorted(self._infos)[:6]) or "nothing"
            raise PackageError(
                f"{name}: no {collection} in the zip, so not an Anki package (it holds: {held})"
            )
        db_path = self._dir / "collection.sqlite"
        with open(db_path, "wb") as out:
            for chunk in self._stream(collection, settings.ANKI_MAX_UNPACKED_BYTES):
                out.write(chunk)
        super().__init__(db_path, collection, f"{name}: {collection}")
        self._media = self._media_entries(max_media)
        self.media = [AnkiMedia(name=m, size=size) for m, (_, size) in self._media.items()]

    # --- the zip ---------------------------------------------------------------------------

    def _version(self) -> int:
        if "meta" not in self._infos:
            return 2 if "collection.anki21" in self._infos else 1
        raw = b"".join(self._stream("meta", 1024))
        try:
            version = PackageMetadata.FromString(raw).version
        except DecodeError as error:
            message = f"{self.package_name}: the meta file is damaged ({error})"
            raise PackageError(message) from error
        if not 1 <= version <= LATEST:
            raise PackageError(
                f"{self.package_name}: package format version {version} is newer than this "
                f"importer reads (1-{LATEST}); export it from Anki with “Support older Anki "
                "versions” ticked"
            )
        return version

    def _stream(
        self, entry: str, limit: int, *, exact: int | None = None, what: str = ""
    ) -> Iterator[bytes]:
        """The entry's bytes (zstd-decoded in the latest format, except `meta`), in chunks,
        stopped as soon as more than `limit` bytes, the package's unpacked budget or the ratio
        limit would come out: the zip's declared sizes are never trusted. `what` names a media
        file in messages."""
        label = f"{self.package_name}: {what or entry}"
        info = self._infos.get(entry)
        if info is None:
            raise PackageError(f"{label} is listed in the media map but missing from the zip")
        budget = settings.ANKI_MAX_UNPACKED_BYTES
        ratio_cap = max(RATIO_FLOOR, info.compress_size * MAX_RATIO)
        count = 0
        try:
            with self._zip.open(info) as raw:
                source = raw
                if self.version == LATEST and entry != "meta":
                    source = zstandard.ZstdDecompressor().stream_reader(
                        raw, closefd=False, read_across_frames=True
                    )
                while chunk := source.read(_CHUNK):
                    count += len(chunk)
                    self._unpacked += len(chunk)
                    if count > limit:
                        raise PackageError(
                            f"{label}: unpacks to more than "
                            + (
                                f"its declared {exact:,} bytes"
                                if exact is not None
                                else filesizeformat(limit)
                            )  # fmt: skip
                        )
                    if self._unpacked > budget:
                        raise PackageError(
                            f"{label}: the package unpacks to more than "
                            f"{filesizeformat(budget)} (ANKI_MAX_UNPACKED_BYTES)"
                        )
                    if count > ratio_cap:
                        raise PackageError(
                            f"{label}: expands more than {MAX_RATIO} times "
                            f"({filesizeformat(info.compress_size)} packed): a zip bomb?"
                        )
                    yield chunk
        except (zipfile.BadZipFile, zstandard.ZstdError, zlib.error, EOFError, OSError,
                RuntimeError, NotImplementedError) as error:  # fmt: skip
            raise PackageError(f"{label}: damaged in the zip ({error})") from error
        if exact is not None and count != exact:
            raise PackageError(f"{label}: {count:,} bytes, but the media map declares {exact:,}")

    # --- media -----------------------------------------------------------------------------

    def _media_entries(self, max_media: int) -> dict[str, tuple[Path, int]]:
        """name -> (the extracted file, its size), each checked against the map."""
        if "media" not in self._infos:  # AnkiDroid once wrote colpkgs without a map
            return {}
        raw = b"".join(self._stream("media", max_media * _ENTRY_BYTES + 4096))
        entries = self._parse_media_map(raw)
        if len(entries) > max_media:
            raise PackageError(
                f"{self.package_name}: the media map lists {len(entries):,} files; the limit "
                f"is {max_media:,} (ANKI_MAX_MEDIA_FILES)"
            )
        folder = self._dir / "media"
        folder.mkdir()
        media = {}
        for index, name, size, sha1 in entries:
            _check_media_name(name, index, self.package_name)
            if name in media:
                raise PackageError(f"{self.package_name}: the media map lists {name!r} twice")
            target = folder / str(index)
            digest = hashlib.sha1()
            written = 0
            with open(target, "wb") as out:
                limit = settings.ANKI_MAX_UNPACKED_BYTES if size is None else size
                what = f"media file {name!r} (zip entry {index})"
                for chunk in self._stream(str(index), limit, exact=size, what=what):
                    out.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
            if sha1 is not None and digest.digest() != sha1:
                raise PackageError(
                    f"{self.package_name}: media file {name!r} (zip entry {index}) does not "
                    "match the SHA-1 in the media map: damaged or altered"
                )
            media[name] = (target, written)
        return media

    def _parse_media_map(self, raw: bytes) -> list[tuple[int, str, int | None, bytes | None]]:
        """(zip index, name, declared size, sha1): legacy JSON {"0": name}, else protobuf."""
        label = f"{self.package_name}: the media map"
        if self.version < LATEST:
            try:
                mapping = json.loads(raw or b"{}")
                if not isinstance(mapping, dict):
                    raise ValueError("not a JSON object")
                entries = [(int(key), name, None, None) for key, name in mapping.items()]
            except ValueError as error:
                raise PackageError(f"{label} is not valid ({error})") from error
            for index, name, _, _ in entries:
                if not isinstance(name, str) or index < 0:
                    raise PackageError(f"{label}: entry {index} is not a file name ({name!r})")
            return entries
        try:
            entries = MediaEntries.FromString(raw).entries
        except DecodeError as error:
            raise PackageError(f"{label} is damaged ({error})") from error
        out = []
        for position, entry in enumerate(entries):
            index = entry.legacy_zip_filename if entry.HasField("legacy_zip_filename") else position
            name = self.text(entry.name, f"the media map's entry {position}")
            if len(entry.sha1) != 20:
                raise PackageError(f"{label}: {name!r} has no valid SHA-1")
            out.append((index, name, entry.size, entry.sha1))
        return out

    def media_bytes(self, name: str) -> bytes:
        """The verified bytes of the media file `name` (KeyError when the package has none)."""
        path, size = self._media[name]
        with open(path, "rb") as handle:
            data = handle.read(size + 1)
        if len(data) != size:  # the private folder was touched: refuse rather than guess
            raise PackageError(f"{self.package_name}: media file {name!r} changed after opening")
        return data

    # --- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the collection and remove every extracted file."""
        if hasattr(self, "_db"):
            super().close()
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> AnkiPackage:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _member_count(path: Path) -> int:
    """The zip's entry count from its end record, read before zipfile loads the directory:
    millions of tiny entries would otherwise cost gigabytes of ZipInfo objects. (zipfile's
    own reader of that record; it has no public one.)"""
    with open(path, "rb") as handle:
        end = zipfile._EndRecData(handle)
    if end is None:
        raise zipfile.BadZipFile("File is not a zip file")
    return end[zipfile._ECD_ENTRIES_TOTAL]


def _check_media_name(name: str, index: int, package: str) -> None:
    """A plain file name: Anki refuses others too (anki_io::filename_is_safe)."""
    problem = None
    if not name or name in (".", ".."):
        problem = "is empty or a folder reference"
    elif "/" in name or "\\" in name:
        problem = "contains a path separator (path traversal or a folder)"
    elif any(ord(c) < 32 for c in name):
        problem = "contains a NUL or control character"
    elif len(name.encode()) > 255:
        problem = "is longer than 255 bytes"
    elif len(name) > 1 and name[1] == ":":
        problem = "is a drive path"
    if problem:
        raise PackageError(
            f"{package}: media file name {name!r} (zip entry {index}) {problem}; the package "
            "was refused"
        )
