"""Checks for chapter 00: the first page of Bookshelf."""

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
    """The page says "Welcome to Bookshelf!".
    Compare the page's text with the exercise's, letter by letter: capitals and the "!" count.
    """
    text = client.get("/").text
    assert "Welcome to Bookshelf!" in text, f'expected the page to say "Welcome to Bookshelf!", it says {text[:200]!r}'
