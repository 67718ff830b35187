"""Big uploads (Anki packages, up to APKG_MAX_BYTES) wait for the task worker as private files
in settings.IMPORT_UPLOAD_DIR rather than in ImportJob.data: a BinaryField is read whole into
memory by every query that loads the row, and bloats the database (and its backups) with a
file that lives a few minutes. The web and worker processes must share the folder.

A file lives until its job ends: run_job's finish and the stale sweep remove it, and
sweep_orphans removes any file that no active job names (its job row was deleted, or the
request died between saving the file and queueing the job).
"""

import os
import tempfile
import time
from pathlib import Path

from django.conf import settings

PREFIX = "upload-"


def folder() -> Path:
    path = Path(settings.IMPORT_UPLOAD_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def save(upload) -> str:
    """Copy an uploaded file (anything with .chunks()) into a new private file (mode 0600,
    mkstemp's); return its name, which the job keeps in its options."""
    fd, path = tempfile.mkstemp(dir=folder(), prefix=PREFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return Path(path).name


def path_of(name: str) -> Path:
    """The file a job names; a name that is not one of ours (a path, say) is refused."""
    if not name.startswith(PREFIX) or Path(name).name != name:
        raise ValueError(f"not an upload name: {name!r}")
    return folder() / name


def discard(name: str | None) -> None:
    if name:
        path_of(name).unlink(missing_ok=True)


def sweep_orphans(keep: set[str], older_than: float) -> int:
    """Remove the uploads not in `keep` last written more than `older_than` seconds ago (a
    request may be between saving its file and queueing its job). Returns how many."""
    cutoff = time.time() - older_than
    removed = 0
    for path in folder().glob(PREFIX + "*"):
        if path.name in keep:
            continue
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass  # removed meanwhile by its job or another sweep
    return removed
