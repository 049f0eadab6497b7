"""Schemathesis makes up requests from chapter 09's Swagger document and checks each answer against it: no 500, and
no answer that breaks its documented schema. Bounded: a few examples per operation, and no shrinking.

Bookshelf leaves Flask-RESTX's X-Fields header out of its document (RESTX_MASK_SWAGGER=False), but every client may
send it: the document fuzzed here names it (issue 24, finding 9), so that a mask that does not parse is tried too."""

from datetime import datetime, timezone
import sys

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import response_schema_conformance

from workbook import reference
from workbook.app import TEST_CONFIG, forget_package, load_create_app

EXAMPLES = 25  # per operation: 16 operations, about 20 s here on a shared 2-core machine
PASSWORD = "a long passphrase for schemathesis"

# Flask-RESTX documents X-Fields as a string of format "mask": masks of field names, braces and commas, well formed
# or not ("name{", "}", "{id}}"), where any text would almost never hold a brace
schemathesis.openapi.format("mask", st.text(alphabet="{}, *idnamerting", max_size=12))


def not_a_server_error(ctx, response, case):
    """Fail on any 5xx."""
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """Build chapter 09's reference with a librarian, her token and a book with a review; return app and header."""
    folder = tmp_path_factory.mktemp("bookshelf09")
    reference.build(folder, "09")
    # the X-Fields header documented on every @marshal_with operation, so that schemathesis sends it
    app = load_create_app(folder)({**TEST_CONFIG, "RESTX_MASK_SWAGGER": True})
    from bookshelf.db import db
    from bookshelf.models import Book, Review, Role, User

    with app.app_context():
        lea = User(name="Lea", email="lea@example.com", confirmed_at=datetime.now(timezone.utc))
        lea.set_password(PASSWORD)
        lea.roles.append(db.session.scalar(db.select(Role).filter_by(name="librarian")))
        db.session.add(Review(book=Book(title="Kindred", author="Octavia E. Butler"), user=lea, rating=5))
        db.session.commit()
    token = app.test_client().post("/api/tokens", json={"email": "lea@example.com", "password": PASSWORD}).json["token"]
    yield app, {"Authorization": f"Bearer {token}"}
    forget_package(folder)
    if str(folder.resolve()) in sys.path:
        sys.path.remove(str(folder.resolve()))


def test_every_operation_keeps_to_its_documented_schema(api):
    app, headers = api
    schema = schemathesis.openapi.from_wsgi("/api/swagger.json", app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "DELETE" and operation.path == "/tokens":
            continue  # revoking the token would leave every later request without one

        @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            case.headers = {**(case.headers or {}), **headers}
            response = case.call(app=app)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except Exception as error:  # noqa: BLE001 - collected, so that one run reports every operation that fails
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:600]}")
    assert not failures, "\n\n".join(failures)
