"""One test per kind of bad package: each is refused with a message naming what and where,
and leaves no extracted file behind.

The bad packages are real Anki packages (tests/anki/builders.py) taken apart and altered.
"""

import hashlib
import json
import sqlite3
import tempfile
import zipfile

import pytest
import zstandard

pytest.importorskip("anki", reason="the packages are made by the `anki` package (dev extra)")

from anki import import_export_pb2  # noqa: E402

from cards.anki.package import PackageError, open_package  # noqa: E402
from cards.importers.errors import ImportFileError  # noqa: E402
from cards.services.media import MediaError, check_image  # noqa: E402

from .builders import IMAGE_NAME, SOUND_NAME, build_packages  # noqa: E402


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return build_packages(tmp_path_factory.mktemp("anki-good"))[1]


@pytest.fixture(autouse=True)
def private_tmp(tmp_path, monkeypatch):
    """Extraction happens in a folder of this test's own, so leftovers can be seen."""
    folder = tmp_path / "extract"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == [], "a refused package left files behind"


def unzstd(data: bytes) -> bytes:
    """Anki's frames do not declare their size: decode as a stream."""
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path, files: dict[str, bytes], method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def refused(path, *fragments) -> str:
    with pytest.raises(PackageError) as caught:
        open_package(path, "bad.apkg").close()
    message = str(caught.value)
    assert message.startswith("bad.apkg"), message
    for fragment in fragments:
        assert fragment in message, message
    assert isinstance(caught.value, ImportFileError)
    return message


def with_collection(made, tmp_path, alter):
    """The legacy package with its collection.anki21 changed by `alter(sqlite connection)`."""
    files = members(made["apkg-legacy"])
    db_path = tmp_path / "col.db"
    db_path.write_bytes(files["collection.anki21"])
    db = sqlite3.connect(db_path)
    alter(db)
    db.commit()
    db.close()
    files["collection.anki21"] = db_path.read_bytes()
    return write_zip(tmp_path / "altered.apkg", files)


def latest_media(made, tmp_path, change):
    """The latest-format package with its protobuf media map changed by `change(entries)`."""
    files = members(made["apkg-latest"])
    raw = unzstd(files["media"])
    entries = import_export_pb2.MediaEntries.FromString(raw)
    change(entries, files)
    files["media"] = zstandard.ZstdCompressor().compress(entries.SerializeToString())
    return write_zip(tmp_path / "media.apkg", files)


def test_not_a_zip(tmp_path):
    path = tmp_path / "notes.apkg"
    path.write_text("front,back\nhola,hello\n")
    refused(path, "not a zip file")


def test_a_zip_without_a_collection(tmp_path):
    path = write_zip(tmp_path / "photos.apkg", {"readme.txt": b"hi", "cat.png": b"x"})
    refused(path, "no collection.anki2 in the zip", "readme.txt")


def test_a_zip_bomb_by_ratio(tmp_path):
    path = write_zip(tmp_path / "bomb.apkg", {"collection.anki21": bytes(40 * 1024 * 1024)},
                     zipfile.ZIP_DEFLATED)  # fmt: skip
    refused(path, "collection.anki21", "expands more than 200 times", "zip bomb")


def test_a_zstd_bomb_in_the_latest_format(made, tmp_path):
    files = members(made["apkg-latest"])
    files["collection.anki21b"] = zstandard.ZstdCompressor().compress(bytes(64 * 1024 * 1024))
    refused(write_zip(tmp_path / "zbomb.apkg", files), "collection.anki21b", "zip bomb")


def test_the_unpacked_total_is_capped_whatever_the_zip_declares(made, tmp_path, settings):
    # Each file is small and compresses poorly; together they pass the budget.
    files = members(made["apkg-legacy"])
    settings.ANKI_MAX_UNPACKED_BYTES = len(files["collection.anki21"]) + 3000
    noise = [hashlib.sha512(str(i).encode()).digest() * 16 for i in range(4)]  # 1 KB each
    media = {str(i): noise[i] for i in range(4)}
    files.update(media)
    files["media"] = json.dumps({str(i): f"n{i}.bin" for i in range(4)}).encode()
    refused(write_zip(tmp_path / "big.apkg", files), "ANKI_MAX_UNPACKED_BYTES")


def test_a_package_over_the_upload_limit(made, settings):
    settings.APKG_MAX_BYTES = 1000
    refused(made["apkg-latest"], "the limit is 1000")


def test_not_sqlite(made, tmp_path):
    files = members(made["apkg-legacy"])
    files["collection.anki21"] = b"this is not a database" * 100
    refused(write_zip(tmp_path / "text.apkg", files), "collection.anki21", "not an SQLite")


def test_sqlite_without_the_tables(made, tmp_path):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("create table other (x)").connection.commit()
    files = members(made["apkg-legacy"])
    files["collection.anki21"] = empty.read_bytes()
    refused(write_zip(tmp_path / "other.apkg", files), "no col table")


def test_a_table_without_a_column(made, tmp_path):
    path = with_collection(made, tmp_path, lambda db: db.execute("alter table cards drop odid"))
    refused(path, "the cards table lacks the column(s) odid")


def test_a_view_instead_of_a_table_is_not_run(made, tmp_path):
    def swap(db):
        db.execute("alter table notes rename to notes_real")
        db.execute("create view notes as select * from notes_real")

    refused(with_collection(made, tmp_path, swap), "no notes table")


def test_a_value_of_the_wrong_type(made, tmp_path):
    path = with_collection(
        made,
        tmp_path,
        lambda db: db.execute(
            "update revlog set ease = 'x' where rowid in (select min(rowid) from revlog)"
        ),  # fmt: skip
    )
    refused(path, "revlog row", "ease holds text, not integer")


def test_a_damaged_protobuf_setting_in_the_latest_schema(made, tmp_path):
    files = members(made["apkg-latest"])
    db_path = tmp_path / "col18.db"
    db_path.write_bytes(unzstd(files["collection.anki21b"]))
    db = sqlite3.connect(db_path)
    db.create_collation("unicase", lambda a, b: (a.lower() > b.lower()) - (a.lower() < b.lower()))
    db.execute("update notetypes set config = x'ffff' where name = 'Basic'")
    db.commit()
    db.close()
    files["collection.anki21b"] = zstandard.ZstdCompressor().compress(db_path.read_bytes())
    refused(write_zip(tmp_path / "proto.apkg", files), "collection.anki21b: note type 'Basic'",
            "not valid protobuf")  # fmt: skip


def test_malformed_note_types(made, tmp_path):
    path = with_collection(made, tmp_path, lambda db: db.execute("update col set models = '[1'"))
    refused(path, "col.models is not valid JSON")


def test_a_wrong_schema_version(made, tmp_path):
    path = with_collection(made, tmp_path, lambda db: db.execute("update col set ver = 18"))
    refused(path, "collection schema version 18", "collection.anki21 holds version 11")


def test_a_too_new_package_format(made, tmp_path):
    files = members(made["apkg-latest"])
    files["meta"] = import_export_pb2.PackageMetadata(version=4).SerializeToString()
    refused(write_zip(tmp_path / "new.apkg", files), "package format version 4 is newer")


@pytest.mark.parametrize(
    "name", ["../evil.png", "/etc/passwd", "sub/x.png", "a\\b.png", "nul\x00.png", "..", "C:x"]
)
def test_unsafe_media_names_refuse_the_package(made, tmp_path, name):
    files = members(made["apkg-legacy"])
    files["media"] = json.dumps({"0": name}).encode()
    message = refused(write_zip(tmp_path / "evil.apkg", files), "media file name", "refused")
    assert repr(name) in message


def test_unsafe_names_in_the_latest_media_map(made, tmp_path):
    def rename(entries, files):
        entries.entries[0].name = "../../x.png"

    refused(latest_media(made, tmp_path, rename), "'../../x.png'", "path traversal")


def test_a_hundred_thousand_media_entries(made, tmp_path):
    files = members(made["apkg-legacy"])
    files["media"] = json.dumps({str(i): f"{i}.png" for i in range(100_000)}).encode()
    refused(write_zip(tmp_path / "many.apkg", files), "lists 100,000 files", "limit is 50,000")


def test_a_zip_with_too_many_members(made, tmp_path, settings):
    settings.ANKI_MAX_MEDIA_FILES = 10
    files = members(made["apkg-legacy"]) | {str(i): b"x" for i in range(20)}
    refused(write_zip(tmp_path / "members.apkg", files), "limit is 10 media files")


def test_a_media_file_larger_than_declared(made, tmp_path):
    def shrink(entries, files):
        entries.entries[0].size -= 1

    refused(latest_media(made, tmp_path, shrink), "(zip entry 0)", "more than its declared")


def test_a_media_file_smaller_than_declared(made, tmp_path):
    def grow(entries, files):
        entries.entries[0].size += 5

    refused(latest_media(made, tmp_path, grow), "(zip entry 0)", "but the media map declares")


def test_a_media_file_whose_sha1_differs(made, tmp_path):
    def alter(entries, files):
        index = "0"
        data = bytearray(unzstd(files[index]))
        data[-1] ^= 0xFF
        files[index] = zstandard.ZstdCompressor().compress(bytes(data))

    refused(latest_media(made, tmp_path, alter), "does not match the SHA-1")


def test_a_media_file_missing_from_the_zip(made, tmp_path):
    files = members(made["apkg-legacy"])
    index = next(k for k, v in json.loads(files["media"]).items() if v == SOUND_NAME)
    del files[index]
    where = f"bad.apkg: media file '{SOUND_NAME}' (zip entry {index})"
    refused(write_zip(tmp_path / "missing.apkg", files), where, "missing from the zip")


def test_a_damaged_zip_member(made, tmp_path):
    files = members(made["apkg-legacy"])
    path = write_zip(tmp_path / "crc.apkg", files)
    data = bytearray(path.read_bytes())
    start = data.find(files["collection.anki21"][:64])
    data[start + 5000] ^= 0xFF  # inside the stored collection: the CRC no longer matches
    path.write_bytes(bytes(data))
    refused(path, "collection.anki21: damaged in the zip")


def test_a_media_file_that_is_not_what_its_name_says(made, tmp_path):
    """The reader hands the bytes over; the importer's image check refuses them."""
    files = members(made["apkg-legacy"])
    index = next(k for k, v in json.loads(files["media"]).items() if v == IMAGE_NAME)
    files[index] = b"<script>alert(1)</script>" + bytes(100)
    with open_package(write_zip(tmp_path / "fake.apkg", files), "fake.apkg") as package:
        data = package.media_bytes(IMAGE_NAME)
        assert data == files[index]
        with pytest.raises(MediaError, match=IMAGE_NAME):
            check_image(data, IMAGE_NAME)


def test_a_duplicate_media_name(made, tmp_path):
    files = members(made["apkg-legacy"])
    files["media"] = json.dumps({"0": "a.png", "1": "a.png"}).encode()
    refused(write_zip(tmp_path / "dup.apkg", files), "lists 'a.png' twice")


def test_nothing_is_left_behind_by_a_good_package_either(made):
    with open_package(made["colpkg-latest"], "c.colpkg") as package:
        assert package.card_count > 0
    # the autouse fixture checks the private folder is empty afterwards
