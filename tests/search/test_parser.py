"""The parser: one test per element of Anki's search syntax, and the malformed queries."""

import pytest

from cards.search import SearchError, parse
from cards.search import nodes as n


def test_empty_query_is_every_card():
    assert parse("") is None
    assert parse("   ") is None


def test_a_word():
    assert parse("dog") == n.Text("dog")


def test_words_side_by_side_are_all_required():
    assert parse("dog cat") == n.And((n.Text("dog"), n.Text("cat")))


def test_explicit_and_is_the_same():
    assert parse("dog AND cat") == parse("dog cat")


def test_a_quoted_phrase_keeps_its_spaces():
    assert parse('"a dog"') == n.Text("a dog")


def test_negation():
    assert parse("-dog") == n.Not(n.Text("dog"))


def test_negated_group_and_phrase():
    assert parse('-(a or b) -"c d"') == n.And(
        (n.Not(n.Or((n.Text("a"), n.Text("b")))), n.Not(n.Text("c d")))
    )


def test_or_in_any_case_binds_looser_than_and():
    assert parse("a b OR c") == n.Or((n.And((n.Text("a"), n.Text("b"))), n.Text("c")))


def test_parentheses_group():
    assert parse("a (b or c)") == n.And((n.Text("a"), n.Or((n.Text("b"), n.Text("c")))))


def test_hyphen_inside_a_word_is_text():
    assert parse("well-known") == n.Text("well-known")


def test_escapes_are_kept_for_the_pattern():
    assert parse(r"a\*b") == n.Text(r"a\*b")
    assert parse(r"\(x\)") == n.Text(r"\(x\)")
    assert parse(r"10\:30") == n.Text(r"10\:30")


def test_deck_with_wildcard_and_quotes():
    assert parse("deck:Fr*") == n.Deck("Fr*")
    assert parse('deck:"My deck"') == n.Deck("My deck")
    assert parse('"deck:My deck"') == n.Deck("My deck")


def test_field_names_ignore_case():
    assert parse("DECK:x") == n.Deck("x")


def test_tag():
    assert parse("tag:a::b") == n.Tag("a::b")


@pytest.mark.parametrize("kind", ["new", "learn", "review", "due", "suspended", "buried", "leech"])
def test_is_states(kind):
    assert parse(f"is:{kind}") == n.State(kind)


def test_flag():
    assert parse("flag:0") == n.Flag(0)
    assert parse("flag:7") == n.Flag(7)


@pytest.mark.parametrize(
    "query, node",
    [
        ("prop:ivl>=10", n.Prop("ivl", ">=", 10)),
        ("prop:due<=3", n.Prop("due", "<=", 3)),
        ("prop:due=-1", n.Prop("due", "=", -1)),
        ("prop:lapses>3", n.Prop("lapses", ">", 3)),
        ("prop:reps!=0", n.Prop("reps", "!=", 0)),
        ("prop:s>30", n.Prop("s", ">", 30.0)),
        ("prop:d>0.8", n.Prop("d", ">", 0.8)),
        ("prop:r<0.8", n.Prop("r", "<", 0.8)),
        ("prop:r<.8", n.Prop("r", "<", 0.8)),
    ],
)
def test_prop(query, node):
    assert parse(query) == node


def test_rated_with_and_without_ease():
    assert parse("rated:7") == n.Rated(7)
    assert parse("rated:2:1") == n.Rated(2, 1)


def test_introduced_added_edited():
    assert parse("introduced:3 added:1 edited:30") == n.And(
        (n.Introduced(3), n.Added(1), n.Edited(30))
    )


def test_front_and_back():
    assert parse("front:dog*") == n.FieldText("question", "dog*")
    assert parse('back:"a b"') == n.FieldText("answer", "a b")


def test_cid():
    assert parse("cid:12,15") == n.CardIds((12, 15))


def error_of(query):
    with pytest.raises(SearchError) as info:
        parse(query)
    return info.value


@pytest.mark.parametrize(
    "query, start, words",
    [
        ("(dog", 0, "never closed"),
        ("dog)", 3, "no '('"),
        ("a ()", 2, "empty parentheses"),
        ('say "hi', 4, "quote is never closed"),
        ('deck:"a', 5, "quote is never closed"),
        ('""', 0, "empty quotes"),
        ("or dog", 0, "needs a term on each side"),
        ("dog or", 4, "needs a term on each side"),
        ("a or or b", 2, "needs a term on each side"),
        ("a and", 2, "needs a term on each side"),
        ("- dog", 0, "'-' must be followed"),
        ("dog -", 4, "'-' must be followed"),
        ("foo:bar", 0, "unknown search field 'foo:'"),
        ("deck:", 4, "needs a value"),
        ("is:sleepy", 3, "is:sleepy is not a state"),
        ("flag:8", 5, "0–7"),
        ("flag:red", 5, "0–7"),
        ("prop:ivl", 5, "prop: takes a property"),
        ("prop:foo>1", 5, "prop: takes a property"),
        ("prop:ivl>=x", 10, "whole number"),
        ("prop:ivl>=1.5", 10, "whole number"),
        ("prop:d>2", 7, "between 0 and 1"),
        ("prop:r<-0.1", 7, "between 0 and 1"),
        ("prop:lapses>-1", 12, "never negative"),
        ("rated:0", 6, "1–36500"),
        ("rated:x", 6, "1–36500"),
        ("rated:2:5", 8, "1–4"),
        ("added:-1", 6, "1–36500"),
        ("introduced:", 10, "needs a value"),
        ("cid:1,x", 6, "card ids"),
    ],
)
def test_malformed_queries_say_what_and_where(query, start, words):
    error = error_of(query)
    assert words in error.message
    assert error.start == start
    assert f"character {start + 1}" in str(error)


def test_error_marks_the_wrong_part():
    query = "deck:x flag:9 dog"
    before, wrong, after = error_of(query).parts(query)
    assert (before, wrong, after) == ("deck:x flag:", "9", " dog")


def test_query_length_is_bounded():
    assert "at most 1000" in error_of("a" * 1001).message


def test_nesting_is_bounded():
    assert "nested" in error_of("(" * 60 + "a" + ")" * 60).message


def test_long_query_parses_in_linear_time():
    # 330 terms of every kind in one query: no backtracking.
    parse(" ".join(["-(a or b)", 'deck:"x y"', "prop:ivl>=3"] * 110)[:1000].rsplit(" ", 1)[0])


def test_a_nul_character_is_refused_where_it_is():
    error = error_of("ab\x00c")
    assert "NUL" in error.message and error.start == 2
