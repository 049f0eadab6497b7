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
