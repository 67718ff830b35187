"""Anki packages from the web and the command line: the upload page, its refusals, the job,
the private upload file and its removal, the stale sweep's undo, the .apkg download, and who
may reach what. Packages are made by the real Anki backend (tests/anki/builders.py); tasks run
at once here (tests/conftest.py)."""

import io
import os
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cards.anki.importer import import_package
from cards.anki.package import open_package
from cards.models import Card, Deck, ImportJob, Note, ReviewLog
from cards.services import imports, uploads
from tests.anki.builders import DECK, build_collection, export_apkg, import_into_anki

URL = reverse("apkg_import")


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> bytes:
    """The builders' collection (every note type, reviews, marks, an image and a sound) as
    an Anki 2.1.50+ deck package."""
    tmp = tmp_path_factory.mktemp("apkg")
    col = build_collection(tmp)
    try:
        return export_apkg(col, tmp / "spanish.apkg", legacy=False).read_bytes()
    finally:
        col.close()


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    """Each test's own folder of waiting uploads, so that it sees only its own."""
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"


def upload(data: bytes, name="spanish.apkg"):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def waiting_uploads() -> list[str]:
    return sorted(p.name for p in Path(settings.IMPORT_UPLOAD_DIR).glob("upload-*"))


def snapshot():
    return (list(Deck.objects.values_list("pk", flat=True)), Card.objects.count(),
            ReviewLog.objects.count(), ImportJob.objects.count())  # fmt: skip


def test_an_owner_imports_a_package_into_private_decks(owner_client, owner, package):
    response = owner_client.post(URL, {"file": upload(package)})
    job = ImportJob.objects.get(user=owner)
    assert response["Location"] == job.get_absolute_url()
    assert (job.kind, job.status, job.filename, job.data) == ("apkg", "done", "spanish.apkg", b"")
    decks = Deck.objects.filter(owner=owner)
    assert DECK in {d.name for d in decks} and not any(d.is_public for d in decks)
    assert ReviewLog.objects.filter(user=owner).exists()
    # The progress counted the package's cards, then its reviews, to the end.
    cards = Card.objects.filter(deck__owner=owner).count()
    assert job.done == job.total > cards + ReviewLog.objects.filter(user=owner).count() - 5
    # The page shows the importer's summary, line by line; the sound is listed as skipped.
    page = owner_client.get(job.get_absolute_url()).content.decode()
    first, second = job.message.splitlines()[:2]
    assert f"{escape(first)}<br>{escape(second)}" in page
    assert "hola.mp3" in job.message and "hola.mp3" in page
    assert waiting_uploads() == []  # the upload was removed with the job's end


def test_staff_may_import_site_and_public_decks_owners_may_not(client, staff, owner, package):
    client.force_login(owner)
    client.post(URL, {"file": upload(package), "site": "on", "public": "on"})
    assert not Deck.objects.filter(owner=None).exists()
    assert not Deck.objects.filter(is_public=True).exists()
    client.force_login(staff)
    form = client.get(URL).context["form"]
    assert {"public", "site"} <= set(form.fields)
    client.post(URL, {"file": upload(package), "site": "on", "public": "on"})
    site = Deck.objects.filter(owner=None)
    assert DECK in {d.name for d in site} and all(d.is_public for d in site)
    # The reviews are the importing staff member's own.
    assert ReviewLog.objects.filter(user=staff, deck__in=site).exists()


@override_settings(APKG_MAX_BYTES=1000)
def test_a_package_over_the_size_limit_is_refused_naming_the_setting(owner_client, package):
    before = snapshot()
    response = owner_client.post(URL, {"file": upload(package)})
    error = response.context["form"].errors["file"][0]
    assert error.startswith("spanish.apkg is ") and "up to 1000\xa0bytes" in error
    assert "(APKG_MAX_BYTES)" in error
    assert snapshot() == before and waiting_uploads() == []


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("notes.apkg", b"just some text", "notes.apkg is not an Anki package: it is not a zip"),
        ("notes.csv", b"question,answer\n", "notes.csv is not an Anki package: the name should"),
    ],
)
def test_a_file_that_is_no_package_is_refused_at_once(owner_client, name, data, expected):
    before = snapshot()
    response = owner_client.post(URL, {"file": upload(data, name)})
    assert response.status_code == 200
    assert response.context["form"].errors["file"][0].startswith(expected)
    assert snapshot() == before and waiting_uploads() == []


def test_a_bad_package_fails_its_job_with_a_clear_message(owner_client, owner):
    """A zip, but no collection in it: the worker names the package and writes nothing."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("readme.txt", "hello")
    response = owner_client.post(URL, {"file": upload(data.getvalue(), "broken.apkg")})
    job = ImportJob.objects.get(user=owner)
    assert job.status == "failed"
    assert job.message.startswith("broken.apkg") and job.message.endswith("; nothing was imported.")
    assert not Deck.objects.exists() and waiting_uploads() == []
    page = owner_client.get(response["Location"]).content.decode()
    assert 'role="alert"' in page and "broken.apkg" in page


def test_one_import_at_a_time_and_no_upload_left_behind(owner_client, owner, package):
    running = ImportJob.objects.create(user=owner, kind="apkg", status="running")
    before = snapshot()
    response = owner_client.post(URL, {"file": upload(package)})
    assert response.status_code == 200
    assert "You already have an import running" in response.content.decode()
    assert f'href="{running.get_absolute_url()}"' in response.content.decode()
    assert snapshot() == before and waiting_uploads() == []


def test_the_job_page_counts_cards_and_reviews_once_the_package_is_read(owner_client, owner):
    job = ImportJob.objects.create(user=owner, kind="apkg", status="running", filename="a.apkg")
    assert "Reading the file…" in owner_client.get(job.get_absolute_url()).content.decode()
    ImportJob.objects.filter(pk=job.pk).update(total=2000, done=500)
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "500 of 2000 cards and reviews written (25%)" in page
    assert 'aria-label="Cards and reviews written"' in page


def test_another_users_job_page_is_a_404(owner_client, owner, other, package):
    owner_client.post(URL, {"file": upload(package)})
    job = ImportJob.objects.get(user=owner)
    assert owner_client.get(job.get_absolute_url()).status_code == 200
    owner_client.force_login(other)
    assert owner_client.get(job.get_absolute_url()).status_code == 404


def test_a_big_body_is_allowed_on_the_package_upload_only(owner_client):
    """The request size limit (cards.middleware) is APKG_MAX_BYTES on this one page."""
    big = settings.REQUEST_MAX_BYTES + 1
    assert owner_client.post(reverse("deck_import"), CONTENT_LENGTH=big).status_code == 413
    assert owner_client.get(URL, CONTENT_LENGTH=big).status_code == 200
    response = owner_client.post(URL, CONTENT_LENGTH=settings.APKG_MAX_BYTES + 2 * 1024 * 1024)
    assert response.status_code == 413
    assert "Files up to 300.0\xa0MB can be uploaded" in response.content.decode()


# --- the upload file: removed when the job ends or is swept ---------------------------------


def _aged(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_uploads_nobody_waits_for_are_swept(owner):
    folder = uploads.folder()
    orphan, young = uploads.save(upload(b"x")), uploads.save(upload(b"y"))
    waiting = uploads.save(upload(b"z"))
    ImportJob.objects.create(user=owner, kind="apkg", options={"upload": waiting})
    for name in (orphan, waiting):
        _aged(folder / name, settings.IMPORT_JOB_STALE_SECONDS + 5)
    imports.sweep_stale_jobs()
    assert waiting_uploads() == sorted([young, waiting])
    with pytest.raises(ValueError, match="not an upload name"):
        uploads.path_of("../db.sqlite3")


def test_a_queued_job_swept_as_stale_loses_its_upload(owner):
    name = uploads.save(upload(b"x"))
    job = ImportJob.objects.create(user=owner, kind="apkg", options={"upload": name})
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(days=1))
    assert imports.sweep_stale_jobs(user=owner) == 1
    job.refresh_from_db()
    assert job.status == "failed" and "No task worker took this import up" in job.message
    assert waiting_uploads() == []


def test_the_sweep_undoes_an_import_whose_worker_died(owner, package, tmp_path):
    """What a worker killed mid-import leaves (here a whole import, written by the importer)
    is removed by the sweep: the decks it made, and its cards and reviews in decks that were
    there before; the user's own deck and cards stay."""
    kept = Deck.objects.create(owner=owner, name="Lang::French")  # a deck the package has
    mine = Card.objects.create(deck=kept, question="Mine", answer="Keep me")
    other = Deck.objects.create(owner=owner, name="Unrelated")
    path = tmp_path / "spanish.apkg"
    path.write_bytes(package)
    name = uploads.save(upload(package))
    with open_package(path, path.name) as collection:
        options = {"upload": name, "site": False, "public": False}
        job = ImportJob.objects.create(user=owner, kind="apkg", status="running", options=options)
        names = sorted({d.name for d in collection.decks.values() if not d.is_filtered})
        options = {**job.options, "deck_names": names, **imports._last_ids()}
        import_package(collection, owner)
    assert Card.objects.filter(deck=kept).count() > 1
    ImportJob.objects.filter(pk=job.pk).update(
        options=options, updated_at=timezone.now() - timedelta(days=1)
    )
    assert imports.sweep_stale_jobs() == 1
    job.refresh_from_db()
    assert job.status == "failed" and "decks it had made" in job.message
    assert set(Deck.objects.filter(owner=owner)) == {kept, other}
    assert list(Card.objects.filter(deck__owner=owner)) == [mine]
    assert not ReviewLog.objects.filter(user=owner).exists()
    assert not Note.objects.filter(deck__owner=owner).exclude(cards=mine).exists()
    assert waiting_uploads() == []


# --- export ---------------------------------------------------------------------------------


def _imported_deck(owner, package, tmp_path) -> Deck:
    path = tmp_path / "spanish.apkg"
    path.write_bytes(package)
    with open_package(path, path.name) as collection:
        import_package(collection, owner)
    return Deck.objects.get(owner=owner, name=DECK)


def test_the_deck_page_offers_the_anki_export(owner_client, owner, package, tmp_path):
    deck = _imported_deck(owner, package, tmp_path)
    page = owner_client.get(deck.get_absolute_url()).content.decode()
    url = reverse("deck_export_apkg", args=[deck.pk])
    assert page.count(f'<form method="post" action="{url}">') == 2
    assert '<input type="hidden" name="history" value="1">' in page


@pytest.mark.parametrize("history", [False, True])
def test_a_deck_downloads_as_a_package_anki_imports(owner_client, owner, package, tmp_path,
                                                    history):  # fmt: skip
    deck = _imported_deck(owner, package, tmp_path)
    url = reverse("deck_export_apkg", args=[deck.pk])
    response = owner_client.post(url, {"history": "1"} if history else {})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    name = "lang-spanish-verbs" + ("-with-history" if history else "")
    assert response["Content-Disposition"] == f'attachment; filename="{name}.apkg"'
    out = tmp_path / "out.apkg"
    out.write_bytes(b"".join(response.streaming_content))
    col = import_into_anki(out, tmp_path)
    try:
        assert col.card_count() == deck.cards.count()
        reviews = col.db.scalar("select count() from revlog")
        assert (reviews > 0) == history
        if history:
            logs = ReviewLog.objects.filter(user=owner, deck=deck)
            assert reviews == logs.count()
    finally:
        col.close()


def test_another_users_private_deck_is_a_404_a_public_one_downloads(
    owner_client, other, package, tmp_path
):
    private = _imported_deck(other, package, tmp_path)
    url = reverse("deck_export_apkg", args=[private.pk])
    assert owner_client.post(url).status_code == 404
    assert owner_client.post(url, {"history": "1"}).status_code == 404
    assert owner_client.get(url).status_code == 405  # a GET never writes (the export may)
    Deck.objects.filter(pk=private.pk).update(is_public=True)
    assert owner_client.post(url).status_code == 200


# --- the commands ---------------------------------------------------------------------------


def test_the_import_command_prints_progress_and_the_summary(owner, package, tmp_path):
    path = tmp_path / "spanish.apkg"
    path.write_bytes(package)
    out = io.StringIO()
    call_command("import_apkg", str(path), "--user", "alice", stdout=out)
    text = out.getvalue()
    assert text.startswith("spanish.apkg: 7 notes, 12 cards, 16 reviews, 2 media files\n")
    assert "cards and reviews (100%)" in text and "a second" in text
    assert "notes added" in text and "Done in " in text
    assert Deck.objects.filter(owner=owner, name=DECK).exists()
    # Again: updated in place, nothing doubled.
    cards, logs = Card.objects.count(), ReviewLog.objects.count()
    call_command("import_apkg", str(path), "--user", "alice", stdout=io.StringIO())
    assert (Card.objects.count(), ReviewLog.objects.count()) == (cards, logs)


def test_the_import_command_names_a_bad_package(owner, tmp_path):
    path = tmp_path / "bad.apkg"
    path.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match=r"^bad.apkg.*; nothing was imported$"):
        call_command("import_apkg", str(path), "--user", "alice", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--user: no user named 'nobody'"):
        call_command("import_apkg", str(path), "--user", "nobody")
    assert not Deck.objects.exists()


def test_the_export_command_writes_a_package(owner, package, tmp_path):
    deck = _imported_deck(owner, package, tmp_path)
    out = tmp_path / "deck.apkg"
    text = io.StringIO()
    call_command("export_apkg", str(deck.pk), str(out), "--user", "alice", stdout=text)
    assert f"{deck.name}: wrote {out}: " in text.getvalue()
    assert "collection.anki21" in zipfile.ZipFile(out).namelist()
    assert not out.with_name("deck.apkg.part").exists()
