"""Anki card templates rendered by cards/anki/templates.py: each construct on its own, and the
text of whole cards compared with what the real Anki backend renders for the same notes."""

import html
import re

import pytest

from cards.anki.templates import (
    CardContext,
    TemplateError,
    field_is_empty,
    parse,
    plain_text,
    render_card,
    strip_html,
)


def _render(front, back="", ord_=0, is_cloze=False, **fields):
    ctx = CardContext(fields, ord=ord_, tags="a b::c", notetype="NT", template="T1",
                      deck="Lang::French")  # fmt: skip
    return render_card(front, back, ctx, is_cloze=is_cloze)


def test_field_replacement_and_unknown_field_warns():
    out = _render("{{Front}} and {{Nope}}", "{{Back}}", Front="<b>hi</b>", Back="there")
    assert out.question == "<b>hi</b> and"
    assert out.answer == "there"
    assert out.warnings == ["T1 (front): unknown field 'Nope': left out"]


def test_sections_shown_when_field_not_empty_and_negated_when_empty():
    front = "{{#A}}has A{{/A}}{{^B}}no B{{/B}}{{#B}}has B{{/B}}"
    assert _render(front, A="x", B="").question == "has Ano B"
    # Anki counts spaces, <br> and <div> as empty.
    assert _render(front, A=" <br><div></div> ", B="y").question == "has B"
    assert field_is_empty("<br/> <div>") and not field_is_empty("<b></b>")


def test_unclosed_or_crossed_sections_name_the_template():
    with pytest.raises(TemplateError, match="never closed"):
        parse("{{#A}}x", "Card 1 (front)")
    with pytest.raises(TemplateError, match=r"Card 1 \(front\): \{\{/A\}\} closes \{\{#B\}\}"):
        parse("{{#A}}{{#B}}{{/A}}{{/B}}", "Card 1 (front)")


def test_front_side_on_the_back_is_the_rendered_front():
    out = _render("Q: {{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}", Front="f", Back="b")
    assert out.answer == "Q: f<hr>b"


def test_text_filter_strips_html_and_escapes_the_result():
    out = _render("{{text:Front}}", Front="<b>bold</b> &lt;tag&gt;")
    assert out.question == "bold &lt;tag&gt;"
    assert strip_html("<style>x</style><i>a</i>&amp;") == "a&"


def test_hint_filter_is_a_details_element_without_script():
    out = _render("{{hint:Extra}}", Extra="secret")
    assert out.question == "<details><summary>Extra</summary>secret</details>"
    assert _render("{{hint:Extra}}", Extra="").question == ""


def test_type_filter_renders_nothing():
    out = _render("{{Front}}{{type:Back}}", Front="f", Back="b")
    assert out.question == "f"
    assert out.warnings == []


def test_cloze_question_answer_and_other_numbers():
    text = "{{c1::Madrid::capital}} is in {{c2::Spain}}"
    first = _render("{{cloze:Text}}", "{{cloze:Text}}", ord_=0, is_cloze=True, Text=text)
    assert first.question == '<span class="cloze">[capital]</span> is in Spain'
    assert first.answer == '<span class="cloze">Madrid</span> is in Spain'
    second = _render("{{cloze:Text}}", "{{cloze:Text}}", ord_=1, is_cloze=True, Text=text)
    assert second.question == 'Madrid is in <span class="cloze">[...]</span>'
    assert not second.empty
    third = _render("{{cloze:Text}}", "{{cloze:Text}}", ord_=2, is_cloze=True, Text=text)
    assert third.empty and third.question == ""


def test_special_fields_and_chained_filters():
    out = _render(
        "{{Tags}}|{{Type}}|{{Card}}|{{Deck}}|{{Subdeck}}|{{text:cloze:T}}", T="{{c1::<b>x</b>}}"
    )
    assert out.question == "a b::c|NT|T1|Lang::French|French|[...]"


def test_unknown_filter_and_delimiter_change_warn():
    out = _render("{{furigana:Front}}{{=<% %>=}}", Front="日本[にほん]")
    assert out.question == "日本[にほん]"
    assert any("'furigana' filter is not supported" in w for w in out.warnings)
    assert any("not supported and was left out" in w for w in out.warnings)


def test_empty_front_is_reported_as_anki_decides():
    assert _render("{{Front}}", Front="").empty
    assert _render("static {{Front}}", Front="").empty
    assert not _render("{{Front}}", Front="x").empty


def test_output_is_sanitised_and_keeps_only_our_images():
    ours = "/decks/7/media/" + "a" * 64 + ".png"
    field = (f'<img src="{ours}"><img src="http://evil/x.png"><script>alert(1)</script>'
             '<span style="color:red" onclick="x()">t</span><style>.a{}</style>')  # fmt: skip
    out = _render("{{F}}", F=field)
    assert f'<img src="{ours}"' in out.question
    assert "evil" not in out.question and "script" not in out.question
    assert "onclick" not in out.question and "style" not in out.question
    assert "<span>t</span>" in out.question


def test_plain_text_keeps_lines_and_images():
    ours = "/decks/7/media/" + "a" * 64 + ".png"
    assert plain_text(f'a<br>b<div>c</div><img src="{ours}">&amp;') == f"a\nb\nc\n![]({ours})&"


# -- the oracle: Anki's own rendering of the same notes ---------------------------------------

anki = pytest.importorskip("anki", reason="the oracle is the `anki` package (dev extra)")

ORACLE_TEMPLATES = [
    ("Plain", "{{Word}} {{#Example}}<div>{{Example}}</div>{{/Example}}",
     "{{FrontSide}}<hr id=answer>{{Meaning}}{{^Example}}<i>none</i>{{/Example}}"),
    ("Filters", "{{text:Meaning}}<br>{{hint:Example}} [{{Tags}}] {{Type}} {{Card}}",
     "{{FrontSide}}<hr id=answer>{{Word}} {{Deck}} {{Subdeck}}"),
]  # fmt: skip
ORACLE_NOTES = [
    {"Word": "<b>le chat</b>", "Meaning": "the <i>cat</i> &amp; co", "Example": "Le chat dort."},
    {"Word": "le chien", "Meaning": "the dog", "Example": ""},
    {"Word": "un &lt;tag&gt;", "Meaning": "x<br>y", "Example": "<div> </div>"},
]
CLOZE_TEXTS = [
    "{{c1::Madrid::capital}} is in {{c2::Spain}}",
    "<b>{{c1::bold}}</b> and {{c1::again}}, {{c3::three}}",
    "nested {{c1::outer {{c2::inner}} end}}",
]


def _text(fragment: str) -> str:
    """Visible text, whitespace normalised: what the learner reads."""
    fragment = re.sub(r"<(style|script)\b.*?</\1>", "", fragment, flags=re.S | re.I)
    fragment = re.sub(r"<br\s*/?>|<hr[^>]*>|</div>|</summary>", " ", fragment, flags=re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    from anki.collection import Collection

    col = Collection(str(tmp_path_factory.mktemp("oracle") / "oracle.anki2"))
    models = col.models
    custom = models.new("Oracle")
    for name in ("Word", "Meaning", "Example"):
        models.add_field(custom, models.new_field(name))
    for name, front, back in ORACLE_TEMPLATES:
        template = models.new_template(name)
        template["qfmt"], template["afmt"] = front, back
        models.add_template(custom, template)
    models.add(custom)
    deck_id = col.decks.id("Lang::French")
    for fields in ORACLE_NOTES:
        note = col.new_note(models.by_name("Oracle"))
        for key, value in fields.items():
            note[key] = value
        note.tags = ["zoo", "geo::fr"]
        col.add_note(note, deck_id)
    for text in CLOZE_TEXTS:
        note = col.new_note(models.by_name("Cloze"))
        note["Text"], note["Back Extra"] = text, "extra"
        col.add_note(note, deck_id)
    yield col
    col.close()


def test_whole_cards_read_as_anki_renders_them(oracle):
    compared = 0
    for card_id in oracle.find_cards("", order="c.id"):
        card = oracle.get_card(card_id)
        note = card.note()
        model = note.note_type()
        template = model["tmpls"][0 if model["type"] == 1 else card.ord]
        ctx = CardContext(
            dict(note.items()), ord=card.ord, tags=" ".join(note.tags), notetype=model["name"],
            template=template["name"], deck=oracle.decks.name(card.did),
        )  # fmt: skip
        ours = render_card(template["qfmt"], template["afmt"], ctx, is_cloze=model["type"] == 1)
        assert _text(ours.question) == _text(card.question()), (note.items(), card.ord)
        assert _text(ours.answer) == _text(card.answer()), (note.items(), card.ord)
        assert not ours.empty
        compared += 1
    # 3 notes x 2 templates, minus the Plain card... none are empty; clozes: 2 + 2 + 2.
    assert compared == len(oracle.find_cards(""))
    assert compared >= 12
