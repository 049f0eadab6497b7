"""Checks for chapter 00: the first page of Bookshelf."""

import html
import re

import pytest

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"00.1": 1}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {}


@pytest.mark.exercise("00.1")
def test_index_answers(client):
    """GET / answers 200 OK.
    A view answers with what it returns: look at what index() returns once the exercise's two lines are replaced.
    """
    response = client.get("/")
    assert response.status_code == 200, f"expected 200 for GET /, got {response.status_code}"


@pytest.mark.exercise("00.1")
def test_index_welcomes(client):
    """The page says "Welcome to Bookshelf!", and nothing else.
    Compare what a browser shows with the exercise's text, letter by letter: capitals and the "!" count, and any other
    word or sign on the page is one too many.
    """
    body = client.get("/").text
    shown = " ".join(html.unescape(re.sub(r"<[^>]*>", " ", body)).split())
    assert shown == "Welcome to Bookshelf!", f'expected the page to say "Welcome to Bookshelf!" alone, it says {shown[:200]!r}'


@pytest.mark.exercise("00.1")
def test_index_is_a_text_page(client):
    """GET / answers a page of text (text/html or text/plain), not JSON.
    What a view returns decides the response's content type: a str is a page, while a dict or a list becomes JSON.
    """
    content_type = client.get("/").headers.get("Content-Type", "")
    kind = content_type.partition(";")[0].strip()
    assert kind in ("text/html", "text/plain"), f"expected a text page for GET /, its Content-Type is {content_type!r}"
