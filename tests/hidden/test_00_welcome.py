"""Hidden tests for chapter 00: what grading adds to the public checks."""

import html
import re

import pytest


def visible_text(response):
    """Return the text a browser shows for a response: tags dropped, entities read, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", response.text)).split())


# 00.1: the page returns the welcome, and only it

@pytest.mark.exercise("00.1")
def test_index_says_only_the_welcome(client):
    """The page's text is "Welcome to Bookshelf!" and nothing more: no extra letters, no leftover text."""
    text = visible_text(client.get("/"))
    assert text == "Welcome to Bookshelf!", f'expected the page to say exactly "Welcome to Bookshelf!", it says {text[:200]!r}'


@pytest.mark.exercise("00.1")
def test_index_is_text_not_json(client):
    """The welcome is returned as text (a page), not wrapped in a JSON object."""
    mimetype = client.get("/").mimetype
    assert mimetype in ("text/html", "text/plain"), f"expected a text page for GET /, got {mimetype}"
