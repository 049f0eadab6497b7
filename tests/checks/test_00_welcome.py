"""Checks for chapter 00: the first page of Bookshelf."""

import pytest


@pytest.mark.exercise("00.1")
def test_index_answers(client):
    """GET / answers 200 OK.
    index() must return the text of the page.
    """
    assert client.get("/").status_code == 200


@pytest.mark.exercise("00.1")
def test_index_welcomes(client):
    """The page says "Welcome to Bookshelf!".
    Return exactly the text "Welcome to Bookshelf!" from index().
    """
    assert "Welcome to Bookshelf!" in client.get("/").text
