"""Deck-file imports run as jobs on the task worker: the job page, the batches, undo on
failure, the stale sweep, one job at a time. Tasks run at once here (tests/conftest.py)."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cards.importers.errors import ImportFileError
from cards.importers.load import parse_deck_file, save_deck
from cards.models import Card, Deck, ImportJob
from cards.services import imports

from .conftest import add_cards

URL = reverse("deck_import")


def csv_bytes(count, start=0):
    rows = "".join(f"Question {i},Answer {i},id{i}\n" for i in range(start, start + count))
    return ("question,answer,id\n" + rows).encode()


def post_import(client, name, data, **extra):
    upload = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(URL, {"file": upload, **extra})


def queued_job(user, data=b"question,answer\nq,a\n", **fields):
    """A job as the request leaves it, before any worker took it up."""
    fields = {"total": 1, "options": {"deck_id": None, "name": "deck"}, **fields}
    return ImportJob.objects.create(
        user=user, kind=ImportJob.Kind.DECK_FILE, filename="deck.csv", data=data, **fields
    )


def age(job, seconds):
    ImportJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


@override_settings(IMPORT_BATCH_CARDS=2)
def test_it_writes_in_batches_and_reports_each(owner_client, owner, monkeypatch):
    seen = []
    original = imports._beat

    def spy(job, **fields):
        seen.append(fields.get("done"))
        original(job, **fields)

    monkeypatch.setattr(imports, "_beat", spy)
    response = post_import(owner_client, "five.csv", csv_bytes(5))
    job = ImportJob.objects.get(user=owner)
    assert response["Location"] == job.get_absolute_url() == f"/imports/{job.pk}/"
    assert seen == [None, 2, 4, 5]  # `started` (the deck), then one beat per batch of 2
    assert (job.status, job.done, job.total, job.data) == ("done", 5, 5, b"")
    assert job.deck.cards.count() == 5 and job.started_at <= job.finished_at


def test_the_job_page_shows_progress_and_polls_while_running(owner_client, owner):
    job = queued_job(owner, total=2000, status="running", started_at=timezone.now(), done=500)
    ImportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(seconds=10))
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert '<progress max="2000" value="500"' in page
    assert "500 of 2000 cards written (25%)" in page
    assert "50 cards a second, about 30 s left" in page
    assert f'hx-get="{job.get_absolute_url()}" hx-trigger="every 1s"' in page
    # Without JS, a plain link does what the polling does.
    assert f'<a href="{job.get_absolute_url()}">Reload</a>' in page
    fragment = owner_client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode()
    assert 'id="import-job"' in fragment.content.decode()


def test_a_finished_job_stops_polling_and_links_the_deck(owner_client, owner):
    post_import(owner_client, "two.csv", csv_bytes(2))
    job = ImportJob.objects.get(user=owner)
    page = owner_client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content
    assert b"hx-trigger" not in page
    assert f'href="{job.deck.get_absolute_url()}"'.encode() in page
    assert b"Read 2 cards. two: 2 cards created" in page


def test_another_users_job_is_a_404(other_client, owner):
    job = queued_job(owner)
    assert other_client.get(job.get_absolute_url()).status_code == 404


def test_the_job_page_refuses_post_and_anonymous(client, owner):
    job = queued_job(owner)
    assert client.get(job.get_absolute_url()).status_code == 302
    client.force_login(owner)
    assert client.post(job.get_absolute_url()).status_code == 405


def test_job_page_query_count(owner_client, owner, django_assert_num_queries):
    job = queued_job(owner, status="running", total=20_000, done=10_000)
    # Expect 3: session, user, the job (without its upload).
    with django_assert_num_queries(3):
        owner_client.get(job.get_absolute_url())


def test_one_import_at_a_time(owner_client, owner):
    running = queued_job(owner, status="running")
    response = post_import(owner_client, "more.csv", csv_bytes(3))
    assert response.status_code == 200
    page = response.content.decode()
    assert "You already have an import running" in page
    assert f'href="{running.get_absolute_url()}"' in page
    assert ImportJob.objects.count() == 1 and not Deck.objects.exists()


def test_one_data_import_at_a_time(owner_client, owner):
    running = queued_job(owner, status="running")
    data = json.dumps({
        "format": "studyapp.user-data", "version": 1, "settings": None, "shared_cards": [],
        "decks": [{"name": "D", "description": "", "is_public": False, "cards": []}],
        "memory_states": [], "review_logs": [],
    }).encode()  # fmt: skip
    upload = SimpleUploadedFile("data.json", data, content_type="application/json")
    response = owner_client.post(reverse("data_import"), {"file": upload})
    assert response.status_code == 200
    page = response.content.decode()
    assert "You already have an import running" in page
    assert f'href="{running.get_absolute_url()}"' in page
    assert ImportJob.objects.count() == 1 and not Deck.objects.exists()


def test_a_stale_running_job_is_failed_and_its_new_deck_removed(owner_client, owner):
    # A worker died after writing two batches of a new deck.
    deck = Deck.objects.create(owner=owner, name="half")
    Card.objects.bulk_create(Card(deck=deck, question=f"q{i}", position=i) for i in range(7))
    job = queued_job(owner, status="running", started_at=timezone.now(), deck=deck, done=7,
                     total=20, options={"deck_created": True, "cards_after": 0})  # fmt: skip
    age(job, 3600)
    page = owner_client.get(job.get_absolute_url()).content.decode()
    job.refresh_from_db()
    assert job.status == "failed" and job.data == b""
    assert "The worker stopped reporting progress" in job.message
    assert "the deck it had started was removed" in job.message and job.message in page
    assert not Deck.objects.filter(pk=deck.pk).exists()


def test_a_stale_job_into_an_existing_deck_removes_only_its_new_cards(owner, own_deck):
    last = Card.objects.order_by("-pk").first().pk
    Card.objects.bulk_create(Card(deck=own_deck, question=f"new {i}") for i in range(3))
    job = queued_job(owner, status="running", deck=own_deck,
                     options={"deck_created": False, "cards_after": last})  # fmt: skip
    age(job, 3600)
    assert imports.sweep_stale_jobs() == 1
    job.refresh_from_db()
    assert job.status == "failed" and "the 3 cards it had added were removed" in job.message
    assert own_deck.cards.count() == 4


def test_a_job_no_worker_took_up_is_failed_after_a_while(owner):
    job = queued_job(owner)
    age(job, 3600)
    imports.sweep_stale_jobs(user=owner)
    job.refresh_from_db()
    assert job.status == "failed" and "is `manage.py db_worker` running?" in job.message
    # The worker comes back later: the job is not run after all.
    imports.run_job(job.pk)
    assert ImportJob.objects.get(pk=job.pk).status == "failed" and not Deck.objects.exists()


def test_a_fresh_job_is_not_swept(owner):
    job = queued_job(owner, status="running")
    assert imports.sweep_stale_jobs() == 0
    assert ImportJob.objects.get(pk=job.pk).status == "running"


@override_settings(IMPORT_BATCH_CARDS=2)
def test_a_failure_midway_removes_the_new_deck(owner):
    def fail_at_4(done, total):
        if done == 4:
            raise RuntimeError("disk full")

    parsed = parse_deck_file(csv_bytes(6), "six.csv")
    with pytest.raises(ImportFileError) as error:
        save_deck(parsed, owner=owner, progress=fail_at_4)
    assert str(error.value) == (
        "the import stopped after 4 of 6 cards (disk full); the new deck was removed again"
    )
    assert not Deck.objects.exists() and not Card.objects.exists()


@override_settings(IMPORT_BATCH_CARDS=2)
def test_a_failure_midway_into_an_existing_deck_says_how_far_it_got(owner):
    save_deck(parse_deck_file(csv_bytes(2), "d.csv"), owner=owner)
    deck = Deck.objects.get()
    changed = csv_bytes(2).replace(b"Answer 0", b"New answer").replace(b"id0", b"id0")
    data = changed + b"".join(f"Extra {i},x,e{i}\n".encode() for i in range(4))

    def fail_at_4(done, total):
        if done == 4:
            raise RuntimeError("disk full")

    with pytest.raises(ImportFileError) as error:
        save_deck(parse_deck_file(data, "d.csv"), owner=owner, deck=deck, progress=fail_at_4)
    assert str(error.value) == (
        "the import stopped after 4 of 6 cards (disk full); the 2 cards it had added were "
        "removed again, the 1 cards it had updated keep the file's text"
    )
    assert sorted(deck.cards.values_list("answer", flat=True)) == ["Answer 1", "New answer"]


def test_a_deck_deleted_before_the_worker_ran_fails_the_job(owner, own_deck):
    job = queued_job(owner, options={"deck_id": own_deck.pk, "name": "x"})
    own_deck.delete()
    imports.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message == (
        "deck.csv: the deck to import into was deleted meanwhile; nothing was imported."
    )


@override_settings(IMPORT_BATCH_CARDS=2)
def test_the_command_writes_in_batches_and_prints_progress(owner, tmp_path, capsys):
    path = tmp_path / "five.csv"
    path.write_bytes(csv_bytes(5))
    call_command("import_cards", str(path), user="alice", deck="Five")
    out = capsys.readouterr().out
    assert "saved 2/5" in out and "saved 4/5" in out and "saved 5/5" in out
    assert Deck.objects.get(name="Five").cards.count() == 5


@override_settings(IMPORT_BATCH_CARDS=2)
def test_a_big_deck_is_copied_by_the_worker_in_batches(owner_client, owner, public_deck):
    add_cards(public_deck, 4)  # 5 cards: more than one batch
    response = owner_client.post(reverse("deck_copy", args=[public_deck.pk]))
    job = ImportJob.objects.get(user=owner, kind="deck_copy")
    assert response["Location"] == job.get_absolute_url()
    copy = Deck.objects.get(owner=owner)
    assert (job.status, job.done, job.total, job.deck) == ("done", 5, 5, copy)
    assert copy.name == "Bob's public deck" and copy.cards.count() == 5
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "Copying Bob&#x27;s public deck" in page and "Copied Bob&#x27;s public deck" in page


@override_settings(IMPORT_BATCH_CARDS=2)
def test_a_copy_that_fails_midway_is_removed(owner, public_deck):
    add_cards(public_deck, 4)

    def fail_at_4(done, total):
        if done == 4:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        imports.copy_deck(public_deck, owner, progress=fail_at_4)
    assert not Deck.objects.filter(owner=owner).exists() and Card.objects.count() == 5
