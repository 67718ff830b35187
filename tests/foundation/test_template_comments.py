"""Django's {# … #} comments end at the line's end: one left open shows its text on the page
(the image upload's comment once did, under the card editor)."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_every_one_line_comment_closes_on_its_line():
    open_comments = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\{#(?!.*#\})", line)
    ]
    assert open_comments == [], "use {% comment %} for comments over several lines"
