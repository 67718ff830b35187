"""Import jobs: the request checks the file and queues an ImportJob; the task worker
(cards/tasks.py, `manage.py db_worker`) writes it in batches and reports progress on the job,
which the job page polls.

A job whose worker died is found by sweep_stale_jobs (on the job page, when the user starts
another import, and whenever the worker starts a job): it is marked failed and what it had
written is removed.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cards.anki.importer import import_package
from cards.anki.package import PackageError, open_package
from cards.importers.errors import ImportFileError
from cards.importers.load import ImportAborted, ImportResult, parse_deck_file, save_deck
from cards.models import Card, Deck, ImportJob, ReviewLog
from cards.services import media_transfer, uploads
from cards.services.data_import import free_deck_name, import_user_data
from cards.services.deletion import delete_cards, delete_deck, delete_in_batches
from cards.services.media import copy_media, rewrite_media_urls
from cards.services.note_bulk import copy_notes
from cards.services.user_data import TransferError, parse_user_data

logger = logging.getLogger(__name__)
Status = ImportJob.Status


class JobBusy(Exception):
    """The user already has an import queued or running (one at a time)."""

    def __init__(self, job: ImportJob | None):
        self.job = job
        super().__init__("you already have an import running; wait until it has finished")


class JobStopped(Exception):
    """The job was failed from outside (stale sweep) while its worker was still writing."""


def start_deck_import(
    user, *, data: bytes, filename: str, deck: Deck | None, name: str, total: int
) -> ImportJob:
    """Queue the import of a deck file that the request has already parsed and checked: into
    `deck`, else into a deck of the user's named `name` (made if missing)."""
    options = {"deck_id": deck.pk if deck else None, "name": name}
    return _start(user, ImportJob.Kind.DECK_FILE, filename, data, total, options)


def start_user_data_import(user, *, data: bytes, filename: str, total: int) -> ImportJob:
    """Queue the import of an "all my data" file that the request has already checked."""
    return _start(user, ImportJob.Kind.USER_DATA, filename, data, total, {})


def start_apkg_import(user, *, upload, public: bool = False, site: bool = False) -> ImportJob:
    """Queue the import of an Anki package (the form checked its size and that it is a zip;
    the worker reads the rest). The upload waits as a private file (services/uploads.py)."""
    sweep_stale_jobs(user=user)
    active = ImportJob.objects.filter(user=user, status__in=ImportJob.ACTIVE).first()
    if active is not None:  # before copying a big file for nothing (_start checks again)
        raise JobBusy(active)
    name = uploads.save(upload)
    options = {"upload": name, "public": public, "site": site}
    try:
        return _start(user, ImportJob.Kind.APKG, upload.name, b"", 0, options, swept=True)
    except BaseException:
        uploads.discard(name)
        raise


def _start(
    user, kind, filename: str, data: bytes, total: int, options: dict, swept: bool = False
) -> ImportJob:
    """Create and queue a job; JobBusy if the user already has one queued or running."""
    if not swept:
        sweep_stale_jobs(user=user)
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                user=user, kind=kind, filename=filename[:255], data=data, total=total,
                options=options,
            )  # fmt: skip
    except IntegrityError:
        active = ImportJob.objects.filter(user=user, status__in=ImportJob.ACTIVE).first()
        raise JobBusy(active) from None
    enqueue(job)
    return job


def enqueue(job: ImportJob) -> None:
    from cards.tasks import run_import_job

    # The queue is a table of the same database, so the task commits with the job's row.
    run_import_job.enqueue(job.pk)


def run_job(job_id: int) -> None:
    """The task's body: claim the job, run it, record the outcome. Never raises for a bad file."""
    sweep_stale_jobs()
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, updated_at=now
    )
    if not claimed:
        return  # swept as stale before a worker took it up, or already run
    job = ImportJob.objects.get(pk=job_id)
    try:
        message, deck = RUNNERS[job.kind](job)
    except ImportAborted as exc:
        _finish(job, Status.FAILED, f"{job.filename}: {exc}.")
    except PackageError as exc:  # its message names the package already
        _finish(job, Status.FAILED, f"{exc}; nothing was imported.")
    except ImportFileError as exc:
        _finish(job, Status.FAILED, f"{job.filename}: {exc}; nothing was imported.")
    except TransferError as exc:
        _finish(job, Status.FAILED, f"{job.filename}: {exc}. Nothing was imported.")
    except Exception:
        logger.exception("Import job %s failed", job.pk)
        _finish(job, Status.FAILED, "The import failed on an unexpected error; nothing was kept.")
    except BaseException:
        _finish(
            job,
            Status.FAILED,
            "The worker was stopped during the import; the cards it had added were removed again.",
        )
        raise
    else:
        _finish(job, Status.DONE, message, deck=deck)


def _run_deck_file(job: ImportJob):
    options = job.options
    deck = None
    if options.get("deck_id"):
        deck = Deck.objects.filter(pk=options["deck_id"]).first()
        if deck is None:
            raise ImportFileError("the deck to import into was deleted meanwhile")
    owner = deck.owner if deck else job.user
    text, name, images = media_transfer.open_deck_file(bytes(job.data), job.filename)
    parsed = parse_deck_file(text, name, validate=False)  # checked already

    def started(result: ImportResult):
        # What the sweep needs to undo this job if its worker dies: the deck, whether the
        # import made it, and the last card id before it wrote any.
        last = Card.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        job.options = {**options, "deck_created": result.deck_created, "cards_after": last}
        job.deck = result.deck
        _beat(job, deck=result.deck, options=job.options)

    def progress(done: int, total: int):
        _beat(job, done=done, total=total)

    result = save_deck(
        parsed, owner=owner, name=options.get("name"), deck=deck, started=started, progress=progress
    )
    if images:  # a zip with the deck's images (services/media_transfer.py)
        media_transfer.attach_media(job.user, [result.deck], images)
    return f"Read {len(parsed.cards)} cards. {result.summary()}.", result.deck


def start_deck_copy(user, deck: Deck, total: int) -> ImportJob:
    """Queue a copy of `deck` for `user` (the limits are checked by the caller)."""
    options = {"source_id": deck.pk}
    return _start(user, ImportJob.Kind.DECK_COPY, deck.name, b"", total, options)


def copy_deck(deck: Deck, owner, progress=None, started=None, total=None) -> Deck:
    """A private copy of a deck for `owner` (the cards, none of anyone's history), written in
    batches of short transactions; on any failure the partial copy is removed again."""
    copy = Deck.objects.create(
        owner=owner, name=free_deck_name(owner, deck.name, "copy"), description=deck.description
    )
    size, done, last = settings.IMPORT_BATCH_CARDS, 0, 0
    notes: dict[int, int] = {}  # the deck's note id -> its copy's
    total = deck.cards.count() if total is None else total
    try:
        if started:
            started(copy)
        copy_media(deck, copy)  # the copy's own rows, sharing the stored files
        while True:
            batch = list(deck.cards.filter(pk__gt=last).order_by("pk")[:size])
            if batch:
                last = batch[-1].pk
                with transaction.atomic():
                    copies = [Card(deck=copy, **_copied(c, deck.pk, copy.pk)) for c in batch]
                    copy_notes(batch, copies, copy, notes, rewrite=rewrite_media_urls)
                    Card.objects.bulk_create(copies)
                done += len(batch)
                if progress:
                    progress(done, max(total, done))
            if len(batch) < size:
                break
    except BaseException:
        delete_deck(copy)
        raise
    return copy


COPIED_FIELDS = ["question", "answer", "position", "external_id", "tags", "suspended",
                 "question_html", "answer_html",
                 "imported_question", "imported_answer"]  # fmt: skip


def _copied(card: Card, source_id: int, copy_id: int) -> dict:
    """A card's copied fields, its images pointing at the copy's deck."""
    return {f: rewrite_media_urls(getattr(card, f), source_id, copy_id) for f in COPIED_FIELDS}


def _run_deck_copy(job: ImportJob):
    source = Deck.objects.filter(pk=job.options["source_id"]).first()
    if source is None:
        raise ImportFileError("the deck to copy was deleted meanwhile")

    def started(copy: Deck):
        job.options = {**job.options, "deck_created": True, "cards_after": 0}
        _beat(job, deck=copy, options=job.options)

    def progress(done: int, total: int):
        _beat(job, done=done, total=total)

    try:
        copy = copy_deck(source, job.user, started=started, progress=progress)
    except Exception as exc:
        raise ImportAborted(f"the copy failed ({exc}); it was removed again") from exc
    return f"Copied {source.name} to your decks as {copy.name}.", copy


def _run_apkg(job: ImportJob):
    """An Anki package: read by cards/anki/package.py, written by cards/anki/importer.py (which
    removes what it wrote if it fails). The progress bar counts cards, then reviews."""
    options = job.options
    with open_package(uploads.path_of(options["upload"]), job.filename) as collection:
        total = collection.card_count + collection.review_count
        _beat(job, total=total)

        def started(summary):
            # What the sweep needs to remove this job's writes if its worker dies
            # (_undo_apkg): the package's deck names and the last ids before the first batch.
            names = sorted({d.name for d in collection.decks.values() if not d.is_filtered})
            job.options = {**options, "deck_names": names, **_last_ids()}
            _beat(job, options=job.options)

        def progress(done: int, total: int):
            _beat(job, done=done, total=total)

        summary = import_package(
            collection, job.user, public=options["public"], site=options["site"],
            progress=progress, started=started,
        )  # fmt: skip
    deck = summary.decks[0] if len(summary.decks) == 1 else None
    return summary.text(), deck


def _last_ids() -> dict:
    def last(model):
        return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    return {"decks_after": last(Deck), "cards_after": last(Card), "logs_after": last(ReviewLog)}


def _undo_apkg(job: ImportJob) -> str:
    """A package import whose worker died: its importer could not clean up, so remove the
    decks it made (the package's deck names, made after it started) and, in decks that were
    there before, the cards and the Anki reviews it added."""
    options = job.options
    if "deck_names" not in options:
        return "it had not written anything"
    owner = None if options["site"] else job.user
    decks = list(Deck.objects.filter(owner=owner, name__in=options["deck_names"]))
    made = [deck for deck in decks if deck.pk > options["decks_after"]]
    kept = [deck for deck in decks if deck.pk <= options["decks_after"]]
    for deck in made:
        delete_deck(deck)
    logs = ReviewLog.objects.filter(
        user=job.user, deck__in=kept, pk__gt=options["logs_after"], review_token__startswith="anki:"
    )
    delete_in_batches(logs)
    removed = delete_cards(Card.objects.filter(deck__in=kept, pk__gt=options["cards_after"]))
    return (
        f"the {len(made):,} decks it had made and the {removed:,} cards it had added to "
        "existing decks were removed; notes it had updated keep the package's text"
    )


def _run_user_data(job: ImportJob):
    """The "all my data" file, checked again (the account may have changed since the request
    checked it), then written in short transactions; a failure removes what it wrote."""

    def progress(done: int, total: int):
        _beat(job, done=done, total=total)

    text, images = media_transfer.open_user_data(bytes(job.data))
    before = media_transfer.last_deck_pk()
    summary = import_user_data(job.user, parse_user_data(text), progress=progress)
    if images:  # a zip with the decks' images (services/media_transfer.py)
        decks = media_transfer.new_decks_since(job.user, before)
        media_transfer.attach_media(job.user, decks, images)
    return summary.message(), None


RUNNERS = {
    ImportJob.Kind.DECK_FILE: _run_deck_file,
    ImportJob.Kind.DECK_COPY: _run_deck_copy,
    ImportJob.Kind.USER_DATA: _run_user_data,
    ImportJob.Kind.APKG: _run_apkg,
}


def _beat(job: ImportJob, **fields) -> None:
    """Report progress; raise JobStopped if the job was failed from outside meanwhile."""
    fields["updated_at"] = timezone.now()
    if not ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(**fields):
        raise JobStopped("the import was stopped (its worker had not reported for a while)")


def _finish(job: ImportJob, status: str, message: str, deck: Deck | None = None) -> None:
    now = timezone.now()
    fields = {
        "status": status,
        "message": message,
        "finished_at": now,
        "updated_at": now,
        "data": b"",
    }
    if deck is not None:
        fields["deck"] = deck
    # Only a job still running: one the sweep already failed keeps the sweep's message.
    ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(**fields)
    uploads.discard(job.options.get("upload"))


def is_stale(job: ImportJob, now=None) -> bool:
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.IMPORT_JOB_STALE_SECONDS)
    return job.is_active and job.updated_at < cutoff


def sweep_stale_jobs(user=None) -> int:
    """Fail the active jobs that have not reported for IMPORT_JOB_STALE_SECONDS and remove
    what they wrote. Returns how many were swept."""
    cutoff = timezone.now() - timedelta(seconds=settings.IMPORT_JOB_STALE_SECONDS)
    stale = ImportJob.objects.filter(status__in=ImportJob.ACTIVE, updated_at__lt=cutoff)
    if user is not None:
        stale = stale.filter(user=user)
    swept = sum(fail_stale_job(job) for job in stale.defer("data"))
    active = ImportJob.objects.filter(status__in=ImportJob.ACTIVE, kind=ImportJob.Kind.APKG)
    keep = {o.get("upload") for o in active.values_list("options", flat=True)}
    uploads.sweep_orphans(keep, older_than=settings.IMPORT_JOB_STALE_SECONDS)
    return swept


def fail_stale_job(job: ImportJob) -> bool:
    minutes = max(1, settings.IMPORT_JOB_STALE_SECONDS // 60)
    if job.status == Status.QUEUED:
        message = (
            f"No task worker took this import up within {minutes} minutes, so it was "
            "given up (is `manage.py db_worker` running?). Nothing was imported."
        )
    else:
        message = (
            f"The worker stopped reporting progress for {minutes} minutes (it may have "
            "been restarted), so the import was given up; "
        )
    now = timezone.now()
    failed = ImportJob.objects.filter(pk=job.pk, status=job.status).update(
        status=Status.FAILED, finished_at=now, updated_at=now, data=b"", message=message
    )
    if failed:
        uploads.discard(job.options.get("upload"))
    if not failed or job.status == Status.QUEUED:
        return bool(failed)
    message += _undo(job) + "."
    ImportJob.objects.filter(pk=job.pk).update(message=message)
    return True


def _undo(job: ImportJob) -> str:
    if job.kind == ImportJob.Kind.APKG:
        return _undo_apkg(job)
    deck = job.deck_id and Deck.objects.filter(pk=job.deck_id).first()
    if not deck or "cards_after" not in job.options:
        return "it had not written anything"
    if job.options.get("deck_created"):
        delete_deck(deck)
        return "the deck it had started was removed"
    removed = delete_cards(deck.cards.filter(pk__gt=job.options["cards_after"]))
    return (
        f"the {removed:,} cards it had added were removed; cards it had updated keep the "
        "file's text"
    )


def progress_figures(job: ImportJob, now=None) -> dict:
    """Percent done, cards per second and seconds left, for the job page (None if unknown)."""
    now = now or timezone.now()
    percent = round(100 * job.done / job.total) if job.total else 0
    rate = seconds_left = None
    if job.started_at and job.done:
        elapsed = ((job.finished_at or job.updated_at) - job.started_at).total_seconds()
        rate = job.done / elapsed if elapsed > 0 else None
        if rate and job.is_active:
            seconds_left = max(0, round((job.total - job.done) / rate))
    return {"percent": percent, "rate": rate, "seconds_left": seconds_left}
