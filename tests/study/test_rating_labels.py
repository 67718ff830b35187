"""Every rating button says what it means on the active scale, and shows its interval
(issue 15, item 1). On the 1-5 scale "2" is a lapse, scheduled like "1": the button says so."""

import re

import pytest

from cards.scheduling import Grade, RatingScale, rating_choices, to_grade
from cards.services.settings import get_study_settings
from cards.views.study import rating_buttons


def test_every_rating_on_the_five_point_scale_has_words():
    labels = [label for _, label, _ in rating_choices(RatingScale.FIVE)]

    assert labels == ["Not at all", "Not really", "With effort", "Well", "Perfectly"]


@pytest.mark.parametrize("scale", list(RatingScale))
def test_the_labels_agree_with_the_grades_they_schedule(scale):
    for rating, _, grade in rating_choices(scale):
        assert to_grade(rating, scale) is grade


def test_five_point_buttons_carry_number_words_interval_and_a_lapse_mark():
    choices = [(r, label, f"{r}d") for r, label, _ in rating_choices(RatingScale.FIVE)]

    buttons = rating_buttons(choices, "five")

    assert [(b.big, b.small, b.interval) for b in buttons] == [
        ("1", "Not at all", "1d"),
        ("2", "Not really", "2d"),
        ("3", "With effort", "3d"),
        ("4", "Well", "4d"),
        ("5", "Perfectly", "5d"),
    ]
    assert [b.forgotten for b in buttons] == [True, True, False, False, False]
    assert [b.aria_label for b in buttons] == [
        "1 Not at all: next in 1d",
        "2 Not really (counts as forgotten): next in 2d",
        "3 With effort: next in 3d",
        "4 Well: next in 4d",
        "5 Perfectly: next in 5d",
    ]


def test_four_grade_buttons_show_anki_names_with_the_key_below():
    choices = [(r, label, "1m") for r, label, _ in rating_choices(RatingScale.FOUR)]

    buttons = rating_buttons(choices, "four")

    assert [(b.big, b.small) for b in buttons] == [
        ("Again", "1"),
        ("Hard", "2"),
        ("Good", "3"),
        ("Easy", "4"),
    ]
    assert [b.forgotten for b in buttons] == [True, False, False, False]
    assert buttons[0].aria_label == "1 Again: next in 1m"  # "Again" says it already


@pytest.mark.parametrize("scale", ["five", "four"])
def test_the_revealed_page_prints_each_label_and_interval(owner_client, owner, deck, scale):
    settings = get_study_settings(owner)
    settings.rating_scale = scale
    settings.save()

    page = owner_client.get(f"/decks/{deck.pk}/study/").content.decode()

    form = page[page.index('class="study-rate"') : page.index("</form>", page.index("study-rate"))]
    words = "label" if scale == "five" else "num"  # the number or the name comes first
    names = re.findall(rf'class="rating-{words}">([^<]+)<', form)
    assert names == [label for _, label, _ in rating_choices(scale)]
    intervals = re.findall(r'class="rating-interval">([^<]+)<', form)
    assert len(intervals) == len(rating_choices(scale))
    assert all(re.fullmatch(r"\d+(\.\d)?(m|h|d|mo|y)", text) for text in intervals)
    lapses = [g for _, _, g in rating_choices(scale) if g is Grade.AGAIN]
    assert form.count('class="rating-forgotten"') == len(lapses)
