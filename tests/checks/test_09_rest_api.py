"""Checks for chapter 09: the member of a token, reading the bearer header, a page of books, changing a review, and a
member's reviews page by page."""

from datetime import datetime, timedelta, timezone

import pytest
from workbook.check_fixtures import chapter05_stand_ins, logged_in_client  # noqa: F401 (a fixture)
from workbook.sql import count_statements

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"09.1": 2, "09.2": 2, "09.3": 3, "09.4": 3, "09.5": 3}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {"09.2": ["09.1"], "09.4": ["09.1", "09.2"]}


def learner_models():
    from bookshelf.api import tokens
    from bookshelf.db import db
    from bookshelf.models import Book, Review, Role, User

    return db, User, Book, Review, Role, tokens


def add_member(app, name, roles=()):
    """Add a member (no password: tokens are issued directly) with the roles named; return their id."""
    db, User, Book, Review, Role, tokens = learner_models()
    with app.app_context():
        member = User(name=name, email=f"{name.lower()}@example.com", confirmed_at=datetime.now(timezone.utc))
        member.roles.extend(db.session.scalars(db.select(Role).where(Role.name.in_(roles))))
        db.session.add(member)
        db.session.commit()
        return member.id


def token_for(app, member_id):
    """Return a new token of the member, as POST /api/tokens issues it."""
    db, User, Book, Review, Role, tokens = learner_models()
    with app.app_context():
        token, _ = tokens.issue_token(db.session.get(User, member_id))
        return token


def member_of(app, token):
    """Return the id of the member that member_for_token finds for this token, or None."""
    db, User, Book, Review, Role, tokens = learner_models()
    with app.app_context():
        found = tokens.member_for_token(token)
        return None if found is None else found.id


def add_books(app, count, author="Octavia E. Butler"):
    db, User, Book, Review, Role, tokens = learner_models()
    with app.app_context():
        db.session.add_all(Book(title=f"Book {n:03d}", author=author) for n in range(count))
        db.session.commit()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def rows_unordered_unless_asked(app):
    """Have SQLite give the rows of a query without ORDER BY in reverse (PRAGMA reverse_unordered_selects), as a bigger
    database, another index or another database server may give them in any order: only ORDER BY fixes an order."""
    from sqlalchemy import text

    db, *_ = learner_models()
    with app.app_context():
        # the tests' database is one connection in memory: the setting holds for every request of this app
        db.session.execute(text("PRAGMA reverse_unordered_selects = ON"))
        assert db.session.execute(text("PRAGMA reverse_unordered_selects")).scalar() == 1
        db.session.commit()


# 09.1: the member of a token

@pytest.mark.exercise("09.1")
def test_a_token_names_its_member(app):
    """A token just issued finds its member; each member's token finds them, not another."""
    ann, ben = add_member(app, "Ann"), add_member(app, "Ben")
    anns, bens = token_for(app, ann), token_for(app, ben)
    assert member_of(app, anns) == ann, "expected Ann's token to find Ann: look for ApiToken.token_hash == digest(token)"
    assert member_of(app, bens) == ben, "expected Ben's token to find Ben, not the first member"


@pytest.mark.exercise("09.1")
def test_an_unknown_token_names_nobody(app):
    """A token nobody was given, and the stored hash itself, find nobody."""
    db, User, Book, Review, Role, tokens = learner_models()
    ann = add_member(app, "Ann")
    token_for(app, ann)
    assert member_of(app, "made-up") is None, "expected a made-up token to find nobody (None)"
    with app.app_context():
        stored = db.session.scalar(db.select(tokens.ApiToken.token_hash))
    assert member_of(app, stored) is None, \
        "expected the stored hash, sent as a token, to find nobody: compare digest(token) with token_hash"


@pytest.mark.exercise("09.1")
def test_an_expired_token_names_nobody(app):
    """A token issued two days ago, whose expires_at has passed, finds nobody."""
    db, User, Book, Review, Role, tokens = learner_models()
    ann = add_member(app, "Ann")
    token = token_for(app, ann)
    with app.app_context():
        stored = db.session.scalar(db.select(tokens.ApiToken))
        stored.created_at = tokens.utcnow() - timedelta(days=2)
        stored.expires_at = tokens.utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert member_of(app, token) is None, "expected a token that expired a minute ago to find nobody"


@pytest.mark.exercise("09.1")
def test_an_extended_token_still_names_its_member(app):
    """expires_at decides, not when the token was issued: a token issued 3 days ago and extended to tonight still works.
    Compare the token's expires_at with utcnow(); created_at plus a lifetime states another rule, which an
    extended (or shortened) token breaks.
    """
    db, User, Book, Review, Role, tokens = learner_models()
    ann = add_member(app, "Ann")
    token = token_for(app, ann)
    with app.app_context():
        stored = db.session.scalar(db.select(tokens.ApiToken))
        stored.created_at = tokens.utcnow() - timedelta(days=3)
        stored.expires_at = tokens.utcnow() + timedelta(hours=6)
        db.session.commit()
    assert member_of(app, token) == ann, "expected a token whose expires_at is 6 hours away to find its member"


@pytest.mark.exercise("09.1")
def test_a_revoked_token_names_nobody(app, client):
    """DELETE /api/tokens revokes the token: it finds nobody afterwards."""
    ann = add_member(app, "Ann")
    token = token_for(app, ann)
    assert member_of(app, token) == ann
    with app.app_context():
        db, User, Book, Review, Role, tokens = learner_models()
        db.session.execute(db.delete(tokens.ApiToken))
        db.session.commit()
    assert member_of(app, token) is None, "expected a token deleted from api_tokens to find nobody"


# 09.2: the bearer header

@pytest.mark.exercise("09.2")
def test_me_answers_the_member_of_the_token(app, client):
    """GET /api/me with Authorization: Bearer <token> answers the member; the scheme's case does not matter."""
    lea = add_member(app, "Lea", roles=["librarian"])
    token = token_for(app, lea)
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = client.get("/api/me", headers={"Authorization": f"{scheme} {token}"})
        assert response.status_code == 200, \
            f"expected GET /api/me with '{scheme} <token>' to answer 200, got {response.status_code}"
        assert response.json["name"] == "Lea" and response.json["roles"] == ["librarian"], response.json


@pytest.mark.exercise("09.2")
@pytest.mark.parametrize("header", [None, "Basic YW5uOnNlY3JldA==", "Bearer", "Bearer ", "Token {token}", "{token}"])
def test_no_bearer_token_is_a_json_401(app, client, header):
    """Without a header, with another scheme, or with no token after Bearer: 401 JSON with WWW-Authenticate."""
    token = token_for(app, add_member(app, "Ann"))
    headers = {} if header is None else {"Authorization": header.format(token=token)}
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401, f"expected 401 for Authorization: {header!r}, got {response.status_code}"
    assert response.is_json and response.json.get("error") == "unauthorized", \
        f"expected the 401 in JSON, got {response.get_data(as_text=True)[:200]}"
    assert "bearer" in response.headers.get("WWW-Authenticate", "").lower(), \
        "expected a WWW-Authenticate header naming Bearer: refuse(...) adds it"


@pytest.mark.exercise("09.2")
def test_a_revoked_token_is_a_401(app, client):
    """A token revoked with DELETE /api/tokens is refused with 401 afterwards."""
    token = token_for(app, add_member(app, "Ann"))
    assert client.delete("/api/tokens", headers=bearer(token)).status_code == 204, "expected DELETE /api/tokens: 204"
    response = client.get("/api/me", headers=bearer(token))
    assert response.status_code == 401, f"expected a revoked token to be refused with 401, got {response.status_code}"


@pytest.mark.exercise("09.2")
def test_a_write_without_a_token_is_refused(app, client):
    """DELETE /api/tokens with no token, or a made-up one, is a 401: every write but asking for a token needs one."""
    for headers in ({}, bearer("made-up")):
        response = client.delete("/api/tokens", headers=headers)
        assert response.status_code == 401, \
            f"expected a write with {headers or 'no header'} to be refused with 401, got {response.status_code}"


@pytest.mark.exercise("09.2")
@pytest.mark.usefixtures("chapter05_stand_ins")
def test_a_session_cookie_alone_is_refused_on_the_api(app):
    """A member logged in on the site, whose browser sends only its cookie, gets 401 on the API, reading or writing.
    Read the member from the Authorization header only, never from current_user (the cookie): the API is exempt from
    CSRF because no cookie authenticates it, so another site's page cannot make a logged-in browser write there.
    """
    from flask_principal import identity_loaded

    from bookshelf import roles

    db, User, Book, Review, Role, tokens = learner_models()
    add_member(app, "Ann", roles=["librarian"])
    # chapter 08's identity (08.1) is not what this check is about, and grading may leave it blank
    identity_loaded.disconnect(roles.on_identity_loaded, sender=app)
    browser = logged_in_client(app, "ann@example.com")
    assert browser.get("/auth/password").status_code == 200, "expected the cookie to log Ann in on the site's pages"
    reading = browser.get("/api/me")
    assert reading.status_code == 401, f"expected GET /api/me with only a session cookie to be a 401, got {reading.status_code}"
    token = token_for(app, add_member(app, "Ben"))
    writing = browser.delete("/api/tokens")
    assert writing.status_code == 401, (
        f"expected DELETE /api/tokens with only a session cookie to be a 401, got {writing.status_code}"
    )
    assert member_of(app, token) is not None, "expected a write with only a session cookie to change nothing"


# 09.3: a page of books

@pytest.mark.exercise("09.3")
def test_pages_hold_every_book_once_in_order(app, client):
    """Walking 45 books 20 at a time: 3 pages, every book once, by id; the envelope says so.
    Order the query by Book.id: without ORDER BY a database gives rows in whatever order it finds fastest (this check
    has SQLite reverse them), and the pages overlap or skip books.
    """
    add_books(app, 45)
    rows_unordered_unless_asked(app)
    seen = []
    for page in (1, 2, 3):
        response = client.get(f"/api/books?page={page}")
        assert response.status_code == 200, f"expected page {page} to answer 200, got {response.status_code}"
        body = response.json
        assert (body["page"], body["per_page"], body["total"], body["pages"]) == (page, 20, 45, 3), \
            f"expected page {page} of 3, 20 per page, 45 in all, got {({k: v for k, v in body.items() if k != 'items'})}"
        seen += [book["id"] for book in body["items"]]
    assert seen == sorted(seen) and len(set(seen)) == 45, "expected each book once, ordered by id (order_by(Book.id))"
    assert client.get("/api/books?page=4").json["items"] == [], "expected a page past the last to be empty"


@pytest.mark.exercise("09.3")
def test_the_order_is_the_ids_whatever_the_titles(app, client):
    """The order is the books' ids, the order they were added: titles added from Z to A come back from Z to A.
    Order by Book.id, not by title: a book added later goes on the last page, and no page changes under a client
    that walks them.
    """
    db, User, Book, Review, Role, tokens = learner_models()
    with app.app_context():
        db.session.add_all(Book(title=title, author="Someone") for title in ("Walden", "Persuasion", "Beloved", "Amulet"))
        db.session.commit()
    rows_unordered_unless_asked(app)
    titles = [book["title"] for book in client.get("/api/books").json["items"]]
    assert titles == ["Walden", "Persuasion", "Beloved", "Amulet"], f"expected the books in the order of their ids, got {titles}"


@pytest.mark.exercise("09.3")
def test_the_number_of_pages_is_exact(app, client):
    """pages is total divided by per_page, rounded up: no book, no page; 10 books at 5 a page are 2 pages, 11 are 3.
    Round up, and only up: total // per_page + 1 counts a page too many whenever the books fill the last page.
    """
    db, User, Book, Review, Role, tokens = learner_models()
    for books, pages in [(0, 0), (10, 2), (11, 3)]:
        have = count_books(app)
        add_books(app, books - have) if books > have else None
        body = client.get("/api/books?per_page=5").json
        assert (body["total"], body["pages"]) == (books, pages), (
            f"expected {books} books in {pages} pages of 5, got {body['total']} in {body['pages']}"
        )


def count_books(app):
    db, User, Book, Review, Role, tokens = learner_models()
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Book))


@pytest.mark.exercise("09.3")
def test_the_link_header_leads_to_the_next_page(app, client):
    """The Link header names the next page (keeping per_page), and the last page has no next."""
    add_books(app, 12)
    first = client.get("/api/books?per_page=5")
    assert 'rel="next"' in first.headers.get("Link", ""), "expected a Link header with rel=\"next\" on page 1"
    assert "per_page=5" in first.headers["Link"] and "page=2" in first.headers["Link"], first.headers["Link"]
    last = client.get("/api/books?per_page=5&page=3")
    assert 'rel="next"' not in last.headers.get("Link", ""), "expected no next link on the last page"
    assert len(last.json["items"]) == 2


@pytest.mark.exercise("09.3")
def test_filters_by_author_and_title(app, client):
    """author= and title= keep the books that contain them, in any case; the total counts the matches only."""
    add_books(app, 3)
    add_books(app, 2, author="Ursula K. Le Guin")
    by_author = client.get("/api/books?author=le%20GUIN").json
    assert by_author["total"] == 2 and {b["author"] for b in by_author["items"]} == {"Ursula K. Le Guin"}, \
        f"expected author=le GUIN to keep Le Guin's 2 books, got {by_author['total']}"
    by_title = client.get("/api/books?title=book%20001").json
    assert [b["title"] for b in by_title["items"]] == ["Book 001", "Book 001"], by_title
    assert client.get("/api/books?title=%25").json["total"] == 0, "expected title=% to match no title (autoescape=True)"


@pytest.mark.exercise("09.3")
def test_a_page_costs_the_same_few_statements(app, client):
    """A page of 20 costs at most 3 SQL statements, with 30 books or 300, each with reviews counted."""
    db, User, Book, Review, Role, tokens = learner_models()
    add_books(app, 30)
    with count_statements(app) as few:
        small = client.get("/api/books")
    add_books(app, 270)
    with count_statements(app) as many:
        client.get("/api/books")
    assert small.status_code == 200 and "reviews" in small.json["items"][0]
    assert many.count == few.count <= 3, f"expected at most 3 statements whatever the books, got {few.count} and {many.count}"


# 09.4: changing a review

def add_review(app, author_id):
    db, User, Book, Review, Role, tokens = learner_models()
    with app.app_context():
        review = Review(book=Book(title="Kindred", author="Octavia E. Butler"), user=db.session.get(User, author_id),
                        rating=5, text="Read it in one sitting.")
        db.session.add(review)
        db.session.commit()
        return review.id


def stored_review(app, review_id):
    db, User, Book, Review, Role, tokens = learner_models()
    with app.app_context():
        review = db.session.get(Review, review_id)
        return review.rating, review.text


@pytest.mark.exercise("09.4")
def test_the_author_changes_their_review(app, client):
    """Ann's PUT changes her review, and answers it."""
    ann = add_member(app, "Ann")
    review = add_review(app, ann)
    response = client.put(f"/api/reviews/{review}", json={"rating": 3, "text": "Less on a second read."},
                          headers=bearer(token_for(app, ann)))
    assert response.status_code == 200, f"expected Ann's PUT to answer 200, got {response.status_code}"
    assert response.json["rating"] == 3 and response.json["text"] == "Less on a second read.", response.json
    assert stored_review(app, review) == (3, "Less on a second read."), "expected the change to be committed"


@pytest.mark.exercise("09.4")
def test_another_member_gets_403_and_changes_nothing(app, client):
    """Ben's PUT to Ann's review is a 403 JSON, and the review stays as it was."""
    ann, ben = add_member(app, "Ann"), add_member(app, "Ben")
    review = add_review(app, ann)
    response = client.put(f"/api/reviews/{review}", json={"rating": 1, "text": "Ben was here"},
                          headers=bearer(token_for(app, ben)))
    assert response.status_code == 403, f"expected Ben to be refused with 403, got {response.status_code}"
    assert response.is_json, "expected the 403 in JSON"
    assert stored_review(app, review) == (5, "Read it in one sitting."), "expected Ann's review unchanged"


@pytest.mark.exercise("09.4")
def test_a_librarian_changes_any_review(app, client):
    """Lea, a librarian, may change Ann's review."""
    ann, lea = add_member(app, "Ann"), add_member(app, "Lea", roles=["librarian"])
    review = add_review(app, ann)
    response = client.put(f"/api/reviews/{review}", json={"rating": 4}, headers=bearer(token_for(app, lea)))
    assert response.status_code == 200, f"expected a librarian's PUT to answer 200, got {response.status_code}"
    assert stored_review(app, review)[0] == 4


@pytest.mark.exercise("09.4")
def test_only_rating_and_text_change(app, client):
    """A PUT whose body also names another author, another book and another id changes the rating and text only.
    Set the two fields the model lets a client write, by name; copying every key of the body onto the review lets a
    client move it to another member or book.
    """
    db, User, Book, Review, Role, tokens = learner_models()
    ann, ben = add_member(app, "Ann"), add_member(app, "Ben")
    review = add_review(app, ann)
    with app.app_context():
        other = Book(title="Dawn", author="Octavia E. Butler")
        db.session.add(other)
        db.session.commit()
        other_id, book_id = other.id, db.session.get(Review, review).book_id
    body = {"rating": 2, "text": "Less so now.", "user_id": ben, "book_id": other_id, "id": review + 50, "member": "Ben"}
    response = client.put(f"/api/reviews/{review}", json=body, headers=bearer(token_for(app, ann)))
    assert response.status_code == 200, f"expected Ann's PUT to answer 200, got {response.status_code}"
    with app.app_context():
        stored = db.session.get(Review, review)
        assert stored is not None and (stored.user_id, stored.book_id) == (ann, book_id), (
            "expected the review to keep its author, its book and its id"
        )
        assert (stored.rating, stored.text) == (2, "Less so now."), "expected the rating and the text changed"


@pytest.mark.exercise("09.4")
def test_a_review_that_does_not_exist_is_a_404(app, client):
    """A PUT to a review that does not exist is a 404 JSON."""
    lea = add_member(app, "Lea", roles=["librarian"])
    response = client.put("/api/reviews/999", json={"rating": 4}, headers=bearer(token_for(app, lea)))
    assert response.status_code == 404, f"expected 404 for a review that does not exist, got {response.status_code}"
    assert response.is_json


# 09.5: a member's reviews, page by page (a design exercise: only the URL, the keys and the answers are fixed)

# the keys every item has; an answer may add others
REVIEW_KEYS = ("id", "book_id", "rating", "text")
SHAPE = {"error", "message"}
# a fixed moment, so that the order by created_at does not depend on when the check runs
NOON = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def member_reviews_module():
    """Import the learner's bookshelf/api/member_reviews.py: the API starts without a blank one, a check says it is blank."""
    import importlib

    return importlib.import_module("bookshelf.api.member_reviews")


def write_reviews(app, member_id, hours_ago, first_book=0):
    """Have the member review one new book per entry, written that many hours before NOON; return the reviews' ids."""
    db, User, Book, Review, Role, tokens = learner_models()
    with app.app_context():
        written = [Review(book=Book(title=f"Book {first_book + n:03d}", author="Octavia E. Butler"), user_id=member_id,
                          rating=1 + n % 5, text=f"Review {first_book + n}", created_at=NOON - timedelta(hours=hours))
                   for n, hours in enumerate(hours_ago)]
        db.session.add_all(written)
        db.session.commit()
        return [review.id for review in written]


def as_listed(app, review_ids):
    """Return the reviews as the API lists them: the fixed keys of each, in this order."""
    db, User, Book, Review, Role, tokens = learner_models()
    with app.app_context():
        reviews = [db.session.get(Review, review_id) for review_id in review_ids]
        return [{"id": r.id, "book_id": r.book_id, "rating": r.rating, "text": r.text} for r in reviews]


def fixed_keys(items):
    """Return the items with only the keys the checks fix."""
    return [{key: item.get(key) for key in REVIEW_KEYS} for item in items]


def envelope(body):
    return {key: body.get(key) for key in ("page", "per_page", "total", "pages")}


def assert_error_shape(response, status):
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.get_data(as_text=True)[:200]}"
    assert response.is_json and SHAPE <= set(response.json), (
        f"expected the API's one error shape, JSON with \"error\" and \"message\", got {response.get_data(as_text=True)[:200]}"
    )


@pytest.mark.exercise("09.5")
def test_a_members_reviews_come_newest_first_page_by_page(app, client):
    """Ann's 5 reviews, 2 a page, without a token: 3 pages, each review once, newest first, none of Ben's.
    Each item has id, book_id, rating and text, and the envelope page, per_page, total and pages, as GET /api/books.
    Keep the member's reviews only (user_id), and order by created_at, newest first: without ORDER BY a database gives
    rows in whatever order it finds fastest (this check has SQLite reverse them), and pages overlap or skip.
    A read needs no token, as GET /api/books. A page past the last is empty, not a 404.
    """
    member_reviews_module()
    ann, ben = add_member(app, "Ann"), add_member(app, "Ben")
    # written out of the order of their ids: newest first is 2nd, 4th, 1st, 5th, 3rd
    first, second, third, fourth, fifth = write_reviews(app, ann, [30, 6, 50, 20, 40])
    write_reviews(app, ben, [1, 2], first_book=10)
    rows_unordered_unless_asked(app)
    seen = []
    for page in (1, 2, 3):
        response = client.get(f"/api/members/{ann}/reviews?page={page}&per_page=2")
        assert response.status_code == 200, (
            f"expected page {page} of Ann's reviews to answer 200 without a token, got {response.status_code}"
        )
        assert envelope(response.json) == {"page": page, "per_page": 2, "total": 5, "pages": 3}, (
            f"expected page {page} of 3, 2 per page, 5 of Ann's reviews in all, got {envelope(response.json)}"
        )
        seen += fixed_keys(response.json["items"])
    expected = as_listed(app, [second, fourth, first, fifth, third])
    assert [item["id"] for item in seen] == [item["id"] for item in expected], (
        f"expected Ann's reviews newest first (ids {[item['id'] for item in expected]}), got {[item['id'] for item in seen]}"
    )
    assert seen == expected, f"expected each item with id, book_id, rating and text, got {seen[:2]}"
    past = client.get(f"/api/members/{ann}/reviews?page=4&per_page=2")
    assert past.status_code == 200 and past.json["items"] == [], (
        f"expected a page past the last to be empty (200), got {past.status_code}"
    )


@pytest.mark.exercise("09.5")
def test_reviews_of_the_same_moment_come_higher_id_first(app, client):
    """Three reviews written at the same moment, and a newer one: the newer first, then the three by id, highest first.
    Order by a second key after created_at: rows that tie on the first come in any order, and a page boundary between
    them shows one twice and skips another.
    """
    member_reviews_module()
    ann = add_member(app, "Ann")
    first, second, third, newer = write_reviews(app, ann, [3, 3, 3, 1])
    ids = [item["id"] for item in client.get(f"/api/members/{ann}/reviews").json["items"]]
    assert ids == [newer, third, second, first], f"expected ids {[newer, third, second, first]}, got {ids}"


@pytest.mark.exercise("09.5")
def test_per_page_is_20_unless_asked_and_at_most_100(app, client):
    """25 reviews: 20 on the first page unless asked, all 25 with per_page=100; per_page=101 is a 400.
    Cap per_page as the book list does: a client asking for a million rows gets 400, not a million rows.
    """
    member_reviews_module()
    ann = add_member(app, "Ann")
    write_reviews(app, ann, range(25))
    default = client.get(f"/api/members/{ann}/reviews")
    assert default.status_code == 200, f"expected 200, got {default.status_code}"
    assert envelope(default.json) == {"page": 1, "per_page": 20, "total": 25, "pages": 2}, envelope(default.json)
    assert len(default.json["items"]) == 20, f"expected 20 reviews on the first page, got {len(default.json['items'])}"
    most = client.get(f"/api/members/{ann}/reviews?per_page=100")
    assert most.status_code == 200 and len(most.json["items"]) == 25, "expected per_page=100 to list all 25"
    assert_error_shape(client.get(f"/api/members/{ann}/reviews?per_page=101"), 400)


@pytest.mark.exercise("09.5")
@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=two", "page=1.5", "per_page=0", "per_page=-5",
                                   "per_page=1000", "per_page=many"])
def test_a_bad_page_or_per_page_is_a_400_in_the_apis_shape(app, client, query):
    """A page or per_page that is no whole number, or out of range, is a 400 with "error" and "message".
    Let the arguments be checked before they reach the query (a per_page of 0 divides by zero), and let the app's
    handler answer: a dict of your own is another shape.
    """
    member_reviews_module()
    ann = add_member(app, "Ann")
    write_reviews(app, ann, [1, 2, 3])
    assert_error_shape(client.get(f"/api/members/{ann}/reviews?{query}"), 400)


@pytest.mark.exercise("09.5")
def test_an_unknown_member_is_a_404_and_a_member_without_reviews_an_empty_page(app, client):
    """Member 999 does not exist: 404 in the API's shape. Ben exists and wrote nothing: an empty page, 0 in 0 pages.
    Look the member up: a member who does not exist is not one without reviews.
    """
    member_reviews_module()
    ann, ben = add_member(app, "Ann"), add_member(app, "Ben")
    write_reviews(app, ann, [1, 2])
    assert_error_shape(client.get("/api/members/999/reviews"), 404)
    empty = client.get(f"/api/members/{ben}/reviews")
    assert empty.status_code == 200, f"expected 200 for a member without reviews, got {empty.status_code}"
    assert empty.json["items"] == [] and (empty.json["total"], empty.json["pages"]) == (0, 0), (
        f"expected no items, total 0 and pages 0, got {envelope(empty.json)}"
    )


@pytest.mark.exercise("09.5")
def test_the_swagger_document_names_the_path_and_keeps_the_chapters_models(app, client):
    """/api/swagger.json builds, documents GET /members/{member_id}/reviews, and the chapter's models keep their fields.
    Swagger keeps one model per name for the whole API: a model of yours named like one of the chapter's replaces it in
    the document, and the operations that use it are then documented wrong. Give yours new names.
    """
    member_reviews_module()
    response = client.get("/api/swagger.json")
    assert response.status_code == 200, f"expected the Swagger document (200), got {response.status_code}"
    document = response.json
    assert "get" in document["paths"].get("/members/{member_id}/reviews", {}), (
        f"expected GET /members/{{member_id}}/reviews in the document, got the paths {sorted(document['paths'])}"
    )
    models = {"Book": {"id", "title", "author", "year", "reviews"}, "BookPage": {"items", "page", "per_page", "total", "pages"},
              "Review": {"id", "book_id", "member", "rating", "text"}, "Member": {"id", "name", "email", "roles"},
              "Error": {"error", "message", "errors"}}
    for name, fields in models.items():
        documented = set(document["definitions"].get(name, {}).get("properties", {}))
        assert documented == fields, f"expected the model {name} with {sorted(fields)}, got {sorted(documented)}"
