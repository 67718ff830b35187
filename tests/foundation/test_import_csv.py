import pytest
from django.core.management import CommandError, call_command

from cards.models import Card, Deck


def test_it_imports_a_csv_deck_named_after_the_file(db, tmp_path, owner):
    path = tmp_path / "Capitals.csv"
    path.write_text(
        'question,answer,id,tags\nFrance?,Paris,fr,geo\n"Multi\nline?","Yes, it is",x,\n'
    )

    call_command("import_deck", str(path), "--owner", "alice")

    deck = Deck.objects.get(owner=owner)
    assert deck.name == "Capitals" and not deck.is_public
    assert list(deck.cards.values_list("question", "answer", "external_id", "tags")) == [
        ("France?", "Paris", "fr", "geo"),
        ("Multi\nline?", "Yes, it is", "x", ""),
    ]


@pytest.mark.parametrize(
    ("text", "row", "fragment"),
    [
        ("front,back\nFrance?,Paris\n", 1, "missing: question, answer"),
        ("question,answer\nFrance?,Paris,extra\n", 2, "expected 2 fields, found 3"),
        ("question,answer\n,Paris\n", 2, "the question is empty"),
        ("question,answer,id\nA?,a,1\nB?,b,1\n", 3, "id '1' already used on row 2"),
        ("question,answer,colour\nA?,a,red\n", 1, "unknown column 'colour'"),
        ('question,answer\n"A?,a\n', 2, "malformed CSV"),
        ("question,answer\n", 2, "no cards"),
    ],
)
def test_it_refuses_bad_rows_naming_the_row(db, tmp_path, text, row, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(text)

    with pytest.raises(CommandError) as excinfo:
        call_command("import_deck", str(path))

    assert f"row {row}:" in str(excinfo.value)
    assert fragment in str(excinfo.value)
    assert Card.objects.count() == 0
