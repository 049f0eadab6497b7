"""Hidden tests for chapter 09: what grading adds to the public checks."""

import secrets
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text


def learner_models():
    from bookshelf.api import tokens
    from bookshelf.db import db
    from bookshelf.models import Book, Login, Review, Role, User

    return db, User, Book, Review, Role, Login, tokens


def add_member(app, name, roles=()):
    db, User, Book, Review, Role, Login, tokens = learner_models()
    with app.app_context():
        member = User(name=name, email=f"{name.lower()}@example.com", confirmed_at=datetime.now(timezone.utc))
        member.roles.extend(db.session.scalars(db.select(Role).where(Role.name.in_(roles))))
        db.session.add(member)
        db.session.commit()
        return member.id


def token_for(app, member_id):
    db, User, Book, Review, Role, Login, tokens = learner_models()
    with app.app_context():
        return tokens.issue_token(db.session.get(User, member_id))[0]


# 09.1: the member of a token

@pytest.mark.exercise("09.1")
def test_a_token_issued_long_ago_but_extended_still_names_its_member(app):
    """expires_at decides, not created_at: a token issued 30 days ago and extended to tomorrow still works."""
    db, User, Book, Review, Role, Login, tokens = learner_models()
    ann = add_member(app, "Ann")
    token = token_for(app, ann)
    with app.app_context():
        stored = db.session.scalar(db.select(tokens.ApiToken))
        stored.created_at = tokens.utcnow() - timedelta(days=30)
        stored.expires_at = tokens.utcnow() + timedelta(days=1)
        db.session.commit()
        found = tokens.member_for_token(token)
        assert found is not None and found.id == ann, "expected a token whose expires_at is tomorrow to name its member"


# 09.2: the bearer header

@pytest.mark.exercise("09.2")
def test_a_session_cookie_never_authenticates_the_api(app):
    """A member logged in with the session cookie, and no token, is refused on the API: 401 for reading and writing."""
    from flask_principal import identity_loaded

    from bookshelf import roles

    db, User, Book, Review, Role, Login, tokens = learner_models()
    ann = add_member(app, "Ann", roles=["librarian"])

    def load_ann(login_token):
        """Stand in for chapter 05's user loader (05.2), which grading may leave blank: the cookie is Ann's."""
        member = db.session.get(User, ann)
        member.login_token = login_token
        return member

    app.login_manager.user_loader(load_ann)
    # chapter 08's identity (08.1) is not what this test is about, and grading may leave it blank
    identity_loaded.disconnect(roles.on_identity_loaded, sender=app)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = secrets.token_urlsafe(32)
        session["_fresh"] = True
    assert client.get("/auth/password").status_code == 200, "expected the cookie to log Ann in on the site's pages"
    assert client.get("/api/me").status_code == 401, "expected /api/me with only a session cookie to be a 401"
    response = client.delete("/api/tokens")
    assert response.status_code == 401, f"expected a cookie without a token to write nothing (401), got {response.status_code}"


# 09.3: a page of books

@pytest.mark.exercise("09.3")
def test_pages_follow_the_ids_not_the_titles(app, client):
    """The order is by id: books added Z to A come back Z to A."""
    db, User, Book, Review, Role, Login, tokens = learner_models()
    with app.app_context():
        db.session.add_all(Book(title=title, author="Someone") for title in ("Zorba", "Middlemarch", "Austerlitz"))
        db.session.commit()
        # a query without ORDER BY gives its rows in any order: SQLite reverses them, so that only ORDER BY passes
        db.session.execute(text("PRAGMA reverse_unordered_selects = ON"))
        db.session.commit()
    titles = [book["title"] for book in client.get("/api/books").json["items"]]
    assert titles == ["Zorba", "Middlemarch", "Austerlitz"], f"expected the books by id, got {titles}"


@pytest.mark.exercise("09.3")
def test_pages_are_counted_exactly(app, client):
    """0 books are 0 pages; 40 books at 20 a page are 2 pages, 41 are 3."""
    db, User, Book, Review, Role, Login, tokens = learner_models()
    added = 0
    for books, pages in [(0, 0), (40, 2), (41, 3)]:
        with app.app_context():
            db.session.add_all(Book(title=f"Book {n}", author="Someone") for n in range(added, books))
            db.session.commit()
        added = books
        body = client.get("/api/books").json
        assert (body["total"], body["pages"]) == (books, pages), \
            f"expected {books} books in {pages} pages, got {body['total']} in {body['pages']}"


# 09.4: changing a review

@pytest.mark.exercise("09.4")
def test_fields_outside_the_model_change_nothing(app, client):
    """A PUT with user_id, book_id and id changes the rating only: the review keeps its author, book and id."""
    db, User, Book, Review, Role, Login, tokens = learner_models()
    ann, ben = add_member(app, "Ann"), add_member(app, "Ben")
    with app.app_context():
        other = Book(title="Dawn", author="Octavia E. Butler")
        review = Review(book=Book(title="Kindred", author="Octavia E. Butler"), user=db.session.get(User, ann), rating=5)
        db.session.add_all([other, review])
        db.session.commit()
        review_id, book_id, other_id = review.id, review.book_id, other.id
    response = client.put(f"/api/reviews/{review_id}", headers={"Authorization": f"Bearer {token_for(app, ann)}"},
                          json={"rating": 2, "user_id": ben, "book_id": other_id, "id": 99})
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(Review, review_id)
        assert stored is not None and (stored.user_id, stored.book_id, stored.rating) == (ann, book_id, 2), \
            "expected only the rating and text to change"


# 09.5: a member's reviews, page by page

def reviews_by(app, member_id, days_ago, offset=0):
    """Have the member review one new book per entry, written that many days before a fixed day; return the ids."""
    db, User, Book, Review, Role, Login, tokens = learner_models()
    day = datetime(2025, 3, 15, 8, 30, tzinfo=timezone.utc)
    with app.app_context():
        written = [Review(book=Book(title=f"Novel {offset + n}", author="Ursula K. Le Guin"), user_id=member_id,
                          rating=5 - n % 5, text=f"Thoughts {offset + n}", created_at=day - timedelta(days=days))
                   for n, days in enumerate(days_ago)]
        db.session.add_all(written)
        db.session.commit()
        return [review.id for review in written]


def listed(app, member_id, query=""):
    import importlib

    importlib.import_module("bookshelf.api.member_reviews")
    return app.test_client().get(f"/api/members/{member_id}/reviews{query}")


@pytest.mark.exercise("09.5")
def test_seven_reviews_three_a_page(app):
    """Cat's 7 reviews beside Dan's, 3 a page: 3 pages of 3, 3 and 1, newest first, Cat's only, with their keys."""
    db, User, Book, Review, Role, Login, tokens = learner_models()
    cat, dan = add_member(app, "Cat"), add_member(app, "Dan")
    dans = reviews_by(app, dan, [0, 9], offset=100)
    ids = reviews_by(app, cat, [4, 1, 7, 2, 6, 3, 5])
    reviews_by(app, dan, [8], offset=200)
    with app.app_context():
        db.session.execute(text("PRAGMA reverse_unordered_selects = ON"))
        db.session.commit()
    newest_first = [ids[1], ids[3], ids[5], ids[0], ids[6], ids[4], ids[2]]
    seen = []
    for page, count in ((1, 3), (2, 3), (3, 1)):
        response = listed(app, cat, f"?per_page=3&page={page}")
        assert response.status_code == 200, response.status_code
        body = response.json
        assert (body["page"], body["per_page"], body["total"], body["pages"]) == (page, 3, 7, 3), body
        assert len(body["items"]) == count
        seen += body["items"]
    assert [item["id"] for item in seen] == newest_first, [item["id"] for item in seen]
    assert not {item["id"] for item in seen} & set(dans)
    with app.app_context():
        for item in seen:
            review = db.session.get(Review, item["id"])
            assert (item["book_id"], item["rating"], item["text"]) == (review.book_id, review.rating, review.text), item
    assert listed(app, cat, "?per_page=3&page=9").json["items"] == []


@pytest.mark.exercise("09.5")
def test_a_tie_on_created_at_goes_to_the_higher_id(app):
    """Four reviews of one moment, two pages of two: the ids from highest to lowest, each once."""
    cat = add_member(app, "Cat")
    ids = reviews_by(app, cat, [2, 2, 2, 2])
    seen = [item["id"] for page in (1, 2) for item in listed(app, cat, f"?per_page=2&page={page}").json["items"]]
    assert seen == sorted(ids, reverse=True), seen


@pytest.mark.exercise("09.5")
@pytest.mark.parametrize("query", ["?per_page=101", "?per_page=500", "?page=-3", "?per_page=-1", "?page=x"])
def test_out_of_range_arguments_are_a_400(app, query):
    """per_page above 100 or below 1, a negative page, a page that is no number: 400 with "error" and "message"."""
    cat = add_member(app, "Cat")
    reviews_by(app, cat, [1])
    response = listed(app, cat, query)
    assert response.status_code == 400 and {"error", "message"} <= set(response.json or {}), response.status_code


@pytest.mark.exercise("09.5")
def test_a_member_who_does_not_exist_is_a_404(app):
    """Member 4242 does not exist: 404 with "error" and "message", even when others have reviews."""
    cat = add_member(app, "Cat")
    reviews_by(app, cat, [1, 2])
    response = listed(app, 4242)
    assert response.status_code == 404 and {"error", "message"} <= set(response.json or {}), response.status_code


@pytest.mark.exercise("09.5")
def test_the_review_model_of_the_reviews_namespace_is_kept(app):
    """The Swagger document still documents a book's reviews with the chapter's Review model."""
    response = listed(app, add_member(app, "Cat"))
    assert response.status_code == 200
    document = app.test_client().get("/api/swagger.json").json
    assert "/members/{member_id}/reviews" in document["paths"]
    assert set(document["definitions"]["Review"]["properties"]) == {"id", "book_id", "member", "rating", "text"}
