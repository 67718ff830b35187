from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from cards.models import Card, Deck, ImportJob

URL = reverse("deck_import")
GOOD_CSV = b"question,answer,id,tags\nWhat is 2+2?,4,c1,maths\nCapital of France?,Paris,c2,\n"


def upload(name, data):
    return SimpleUploadedFile(name, data, content_type="text/plain")


def snapshot():
    return list(Card.objects.order_by("pk").values_list("deck_id", "question", "answer")), list(
        Deck.objects.order_by("pk").values_list("name", flat=True)
    )


def test_it_imports_the_seed_export_as_a_new_deck(owner_client, owner, seed_path):
    response = owner_client.post(URL, {"file": upload(seed_path.name, seed_path.read_bytes())})
    deck = Deck.objects.get(owner=owner)
    job = ImportJob.objects.get(user=owner)
    # The request only checks the file; the task worker (here run at once) writes it.
    assert response["Location"] == job.get_absolute_url()
    assert (job.status, job.done, job.total, job.deck, job.data) == ("done", 42, 42, deck, b"")
    assert (deck.name, deck.is_public) == ("Generative AI Flashcards", False)
    assert deck.cards.count() == 42 and deck.cards.needing_answer().count() == 18
    page = owner_client.get(response["Location"]).content.decode()
    assert "Read 42 cards. Generative AI Flashcards: 42 cards created" in page
    assert f'href="{deck.get_absolute_url()}"' in page


def test_it_imports_a_csv_and_updates_it_in_place(owner_client, owner):
    owner_client.post(URL, {"file": upload("maths.csv", GOOD_CSV)})
    deck = Deck.objects.get(owner=owner, name="maths")
    deck.cards.filter(external_id="c1").update(answer="four")
    again = GOOD_CSV.replace(b"Paris", b'"Paris, France"').replace(b"?,4,", b"?,,")
    response = owner_client.post(URL, {"file": upload("other-name.csv", again), "deck": deck.pk})
    assert ImportJob.objects.get(deck=deck, filename="other-name.csv").status == "done"
    assert dict(deck.cards.values_list("external_id", "answer")) == {
        "c1": "four", "c2": "Paris, France"
    }  # fmt: skip
    page = owner_client.get(response["Location"]).content.decode()
    assert "0 cards created, 1 updated, 1 unchanged; kept 1 answers" in page


def test_a_malformed_csv_names_the_row_and_changes_nothing(owner_client, own_deck):
    before = snapshot()
    bad = GOOD_CSV + b"Too,many,fields,here,now\n"
    response = owner_client.post(URL, {"file": upload("bad.csv", bad), "deck": own_deck.pk})
    assert response.status_code == 200
    error = response.context["form"].errors["file"][0]
    assert error == "bad.csv: row 4: expected 4 fields, found 5; nothing was imported."
    assert error in response.content.decode().replace("&#x27;", "'")
    assert snapshot() == before


def test_a_malformed_seed_export_names_the_line_and_changes_nothing(
    owner_client, own_deck, seed_path
):
    before = snapshot()
    lines = seed_path.read_text().split("\n")
    lines[3] = "X"  # the first card's "Q" line
    data = "\n".join(lines).encode()
    response = owner_client.post(URL, {"file": upload("seed.txt", data)})
    error = response.context["form"].errors["file"][0]
    assert error.startswith("seed.txt: line ") and error.endswith("; nothing was imported.")
    assert snapshot() == before


def test_a_binary_file_is_refused_with_its_line(owner_client):
    response = owner_client.post(URL, {"file": upload("x.csv", b"question,answer\n\x00\x01")})
    assert "line 2" in response.context["form"].errors["file"][0]
    assert not Deck.objects.exists()


@override_settings(IMPORT_MAX_BYTES=1000)
def test_an_oversized_file_is_refused_before_reading(owner_client):
    big = b"question,answer\n" + b"q,a\n" * 400
    response = owner_client.post(URL, {"file": upload("big.csv", big)})
    error = response.context["form"].errors["file"][0]
    assert error.startswith("The file is 1.6\xa0KB; files up to 1000\xa0bytes can be imported.")
    assert not Deck.objects.exists()


def test_one_cannot_import_into_someone_elses_deck(owner_client, public_deck):
    before = snapshot()
    response = owner_client.post(URL, {"file": upload("m.csv", GOOD_CSV), "deck": public_deck.pk})
    assert "deck" in response.context["form"].errors
    assert snapshot() == before


def test_staff_may_update_a_public_site_deck(client, staff, seed_path):
    from cards.importers.load import parse_deck_file, save_deck

    deck = save_deck(parse_deck_file(seed_path.read_bytes(), "seed.txt"), owner=None).deck
    client.force_login(staff)
    client.post(URL, {"file": upload("extra.csv", GOOD_CSV), "deck": deck.pk})
    assert deck.cards.count() == 44 and deck.owner is None


def test_import_page_query_count(owner_client, own_deck, django_assert_num_queries):
    # Expect 3: session, user, the decks one may import into.
    with django_assert_num_queries(3):
        owner_client.get(URL)


def test_csv_export_round_trips_through_the_import(owner_client, owner, own_deck):
    own_deck.cards.filter(position=1).update(external_id="x1", tags="t1 t2")
    response = owner_client.get(reverse("deck_export_csv", args=[own_deck.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="alices-deck.csv"' in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    text = content.decode()
    assert text.splitlines()[:2] == ["question,answer,id,tags", "Question 1,Answer 1,x1,t1 t2"]
    owner_client.post(URL, {"file": upload("copy.csv", content)})
    copy = Deck.objects.get(owner=owner, name="copy")
    fields = ("question", "answer", "external_id", "tags", "position")
    assert list(copy.cards.values_list(*fields)) == list(own_deck.cards.values_list(*fields))


def test_csv_export_query_count(owner_client, own_deck, django_assert_num_queries):
    from .conftest import add_cards

    url = reverse("deck_export_csv", args=[own_deck.pk])
    # Expect 3: session, user, deck; whether it has reversed or cloze notes (the note columns);
    # then the cards, in chunks of 2,000 while streaming.
    with django_assert_num_queries(5):
        b"".join(owner_client.get(url).streaming_content)
    add_cards(own_deck, 80)
    with django_assert_num_queries(5):
        b"".join(owner_client.get(url).streaming_content)
