"""The house comedian's joke book says what it is: jokes written for this project, none of them a
widely known stock joke (fuzzy-matched against the list in harness/stock_jokes.txt), every style
stocked, and callbacks that turn tonight's topics and heckles into a line."""

from __future__ import annotations

import json

from comedy import prompts
from comedy.house.jokes import JOKE_BOOK, load_joke_book
from harness.stock_jokes import stock_jokes, stock_match


def test_the_book_says_its_jokes_are_written_here_and_none_is_a_stock_joke() -> None:
    about = json.loads(JOKE_BOOK.read_text(encoding="utf-8"))["about"]
    assert "written for this project" in about and "stock" in about
    book = load_joke_book()
    assert [(j.text, stock_match(j.text)) for j in book.jokes if stock_match(j.text)] == []
    assert all(stock_match(line) is None for lines in book.openers.values() for line in lines)


def test_the_stock_check_catches_a_stock_joke_in_other_words() -> None:
    assert len(stock_jokes()) >= 40
    assert stock_match("Never trust atoms. They make up everything.") is not None
    assert (
        stock_match("You know why I don't trust atoms? Because they make up everything, folks!") is not None
    )
    assert stock_match("I'm reading this book on anti-gravity and honestly I can't put it down") is not None
    assert stock_match("My cat started a podcast about the red dot.") is None


def test_every_style_has_jokes_and_the_callbacks_take_tonight() -> None:
    book = load_joke_book()
    assert {j.style for j in book.jokes} == set(prompts.STYLES)
    assert len(book.jokes) >= 60
    assert len({j.text for j in book.jokes}) == len(book.jokes)  # no joke twice in the book
    for kind, field in (("topic", "{topic}"), ("heckle", "{heckle}"), ("name", "{name}")):
        assert book.callbacks[kind] and all(field in line for line in book.callbacks[kind])
