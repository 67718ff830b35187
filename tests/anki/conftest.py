# Every Anki test stores images into its own temporary MEDIA_ROOT too (an autouse fixture).
from tests.media.conftest import media_root  # noqa: F401
