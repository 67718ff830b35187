import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every media test stores into its own temporary MEDIA_ROOT, never into the repository."""
    root = tmp_path / "media-root"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def stored_files(root) -> list:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
