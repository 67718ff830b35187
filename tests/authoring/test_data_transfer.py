import json
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, ReviewLog, StudySettings
from cards.services.transfer import export_json, export_user_data
from tests.conftest import make_user

from .conftest import add_cards, review

EXPORT, IMPORT = reverse("data_export"), reverse("data_import")


def content(data):
    return {key: value for key, value in data.items() if key != "exported_at"}


def build_history(owner, own_deck, public_deck):
    own_deck.cards.filter(position=2).update(suspended=True, tags="a b", external_id="e2")
    StudySettings.objects.create(
        user=owner, desired_retention=0.85, new_cards_per_day=7, timezone="Europe/Paris",
        learning_steps=[30, 300], rating_scale="four",
    )  # fmt: skip
    start = timezone.now() - timedelta(days=20)
    first = own_deck.cards.get(position=1)
    review(owner, first, when=start, rating=3)
    review(owner, first, when=start + timedelta(days=3), rating=5, days=12)
    review(owner, own_deck.cards.get(position=3), when=start + timedelta(hours=5), rating=1)
    review(owner, public_deck.cards.get(), when=start + timedelta(days=1), rating=4)


def upload(data: bytes, name="data.json"):
    return SimpleUploadedFile(name, data, content_type="application/json")


def test_export_import_export_gives_the_same_content(client, owner, own_deck, public_deck, other):
    build_history(owner, own_deck, public_deck)
    review(other, public_deck.cards.get())  # someone else's history stays out of the file
    client.force_login(owner)
    response = client.get(EXPORT)
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    first = json.loads(body)
    assert len(first["decks"]) == 1 and len(first["decks"][0]["cards"]) == 4
    assert len(first["review_logs"]) == 4 and len(first["memory_states"]) == 3
    assert first["shared_cards"][0]["question"] == "Public Q"
    assert "alice" not in body.decode()

    newcomer = make_user("zed")
    client.force_login(newcomer)
    result = client.post(IMPORT, {"file": upload(body)})
    assert result.status_code == 302
    again = json.loads(b"".join(client.get(EXPORT).streaming_content))
    assert content(again) == content(first)
    assert StudySettings.objects.get(user=newcomer).timezone == "Europe/Paris"
    shared = MemoryState.objects.get(user=newcomer, card=public_deck.cards.get())
    assert shared.deck == public_deck
    assert ReviewLog.objects.filter(user=newcomer).count() == 4
    assert ReviewLog.objects.filter(user=owner).count() == 4


def test_import_renames_decks_whose_names_are_taken(owner_client, owner, own_deck, public_deck):
    data = json.dumps(export_user_data(owner)).encode()
    response = owner_client.post(IMPORT, {"file": upload(data)}, follow=True)
    assert Deck.objects.filter(owner=owner, name="Alice's deck (imported)").exists()
    assert "Renamed to avoid a clash: Alice&#x27;s deck (imported)" in response.content.decode()


def test_a_broken_file_names_the_place_and_imports_nothing(owner_client, owner, own_deck):
    data = export_user_data(owner)
    data["decks"][0]["cards"][2]["position"] = "three"
    before = (Deck.objects.count(), Card.objects.count(), StudySettings.objects.count())
    response = owner_client.post(IMPORT, {"file": upload(json.dumps(data).encode())})
    assert response.status_code == 200
    error = response.context["form"].errors["file"][0]
    assert error == (
        "data.json: decks[0].cards[2].position: expected a whole number, found 'three'. "
        "Nothing was imported."
    )
    assert (Deck.objects.count(), Card.objects.count(), StudySettings.objects.count()) == before


def test_a_review_of_an_unknown_card_is_refused(owner_client, owner, own_deck):
    review(owner, own_deck.cards.first())
    data = export_user_data(owner)
    data["review_logs"][0]["card"] = "d5.c0"
    response = owner_client.post(IMPORT, {"file": upload(json.dumps(data).encode())})
    assert (
        "review_logs[0].card: 'd5.c0' names no card in this file"
        in (response.context["form"].errors["file"][0])
    )
    assert Deck.objects.filter(owner=owner).count() == 1


def test_not_json_names_the_line(owner_client):
    response = owner_client.post(IMPORT, {"file": upload(b'{"format":\n  oops}')})
    assert "line 2, column 3" in response.context["form"].errors["file"][0]


def test_another_kind_of_json_is_refused(owner_client):
    response = owner_client.post(IMPORT, {"file": upload(b"[1, 2]")})
    assert "not a studyapp.user-data file" in response.context["form"].errors["file"][0]


def test_bad_settings_are_refused(owner_client, owner):
    data = export_user_data(owner)
    data["settings"] = {"rating_scale": "seven"}
    response = owner_client.post(IMPORT, {"file": upload(json.dumps(data).encode())})
    assert response.context["form"].errors["file"][0].startswith("data.json: settings.rating_scale")
    assert not StudySettings.objects.filter(user=owner, rating_scale="seven").exists()


@override_settings(IMPORT_MAX_BYTES=100)
def test_an_oversized_data_file_is_refused(owner_client, owner, own_deck):
    data = json.dumps(export_user_data(owner)).encode()
    response = owner_client.post(IMPORT, {"file": upload(data)})
    assert "files up to 100\xa0bytes can be imported" in response.context["form"].errors["file"][0]
    assert Deck.objects.filter(owner=owner).count() == 1


def test_export_query_count_does_not_grow(
    owner_client, owner, own_deck, public_deck, django_assert_num_queries
):
    build_history(owner, own_deck, public_deck)
    # Expect 10: session, user, settings, decks, notes other than plain Basic ones, cards,
    # memory states, the reviewed cards' ids, shared cards, logs (the body is streamed: the
    # queries run as it is read).
    with django_assert_num_queries(10):
        b"".join(owner_client.get(EXPORT).streaming_content)
    add_cards(own_deck, 40)
    for card in own_deck.cards.filter(position__gte=100)[:20]:
        review(owner, card)
    Deck.objects.create(owner=owner, name="Empty deck")
    with django_assert_num_queries(10):
        b"".join(owner_client.get(EXPORT).streaming_content)


def test_the_streamed_export_is_laid_out_as_json_dumps_would(owner, own_deck, public_deck):
    build_history(owner, own_deck, public_deck)
    # Decks before, between and after the one with cards, one of them empty.
    Deck.objects.create(owner=owner, name="A first, empty")
    add_cards(Deck.objects.create(owner=owner, name="Zed last"), 3)
    text = export_json(owner)
    data = json.loads(text)
    assert [deck["name"] for deck in data["decks"]] == [
        "A first, empty",
        "Alice's deck",
        "Zed last",
    ]
    assert [len(deck["cards"]) for deck in data["decks"]] == [0, 4, 3]
    assert text == json.dumps(data, ensure_ascii=False, indent=1)


def test_the_learners_marks_and_leech_settings_travel_with_the_file(
    client, owner, own_deck, public_deck
):
    """Suspended, buried, flagged and leech marks (a never-studied card's NEW memory state
    included) and the leech settings come back from export and import unchanged."""
    build_history(owner, own_deck, public_deck)
    StudySettings.objects.filter(user=owner).update(leech_threshold=5, leech_action="suspend")
    buried_until = (timezone.now() + timedelta(hours=3)).replace(microsecond=0)
    MemoryState.objects.filter(user=owner, card=public_deck.cards.get()).update(
        flag=6, leech=True, suspended=True
    )
    fresh = own_deck.cards.get(position=4)
    MemoryState.of(
        owner, fresh, state=0, due=timezone.now(), buried_until=buried_until, flag=1
    ).save()
    client.force_login(owner)
    body = b"".join(client.get(EXPORT).streaming_content)
    newcomer = make_user("zed")
    client.force_login(newcomer)
    assert client.post(IMPORT, {"file": upload(body)}).status_code == 302

    marks = {
        (m.card.question, m.suspended, m.buried_until, m.flag, m.leech)
        for m in MemoryState.objects.filter(user=newcomer).select_related("card")
    }
    assert ("Public Q", True, None, 6, True) in marks
    assert (fresh.question, False, buried_until, 1, False) in marks
    settings = StudySettings.objects.get(user=newcomer)
    assert (settings.leech_threshold, settings.leech_action) == (5, "suspend")


def test_a_bad_flag_is_named_and_nothing_is_imported(owner_client, owner, own_deck):
    review(owner, own_deck.cards.first())
    data = export_user_data(owner)
    data["memory_states"][0]["flag"] = 9
    response = owner_client.post(IMPORT, {"file": upload(json.dumps(data).encode())})
    assert "memory_states[0].flag" in response.context["form"].errors["file"][0]
    assert Deck.objects.filter(owner=owner).count() == 1
