"""Checks for chapter 00: the first page of Bookshelf."""

import pytest


@pytest.mark.exercise("00.1")
def test_index_answers(client):
    """GET / answers 200 OK.
    The index view must return a string; `raise NotImplementedError()` is still there if you see it below.
    """
    assert client.get("/").status_code == 200


@pytest.mark.exercise("00.1")
def test_index_welcomes(client):
    """The page says "Welcome to Bookshelf!".
    Return exactly the text "Welcome to Bookshelf!" from index().
    """
    assert "Welcome to Bookshelf!" in client.get("/").text
