"""Print the median time of a failed login for a member's e-mail (wrong password) and for an unknown e-mail."""

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from workbook import reference
from workbook.app import TEST_CONFIG, load_create_app

PASSWORD = "correct horse battery staple"


def form_token(client, path: str) -> str:
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def median_ms(client, token: str, email: str, runs: int) -> float:
    """Return the median time in ms of a POST /auth/login with this e-mail and a wrong password."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.post("/auth/login", data={"email": email, "password": "not the password", "csrf_token": token})
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(times) * 1000


def main(runs: int = 21) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        reference.build(folder, "05")  # Bookshelf at the end of chapter 05
        app = load_create_app(folder)(dict(TEST_CONFIG))
        client = app.test_client()
        client.post("/auth/register", data={"name": "Ann", "email": "ann@example.com", "password": PASSWORD,
                                            "confirm": PASSWORD, "csrf_token": form_token(client, "/auth/register")})
        client.post("/auth/logout", data={"csrf_token": form_token(client, "/auth/password")})
        token = form_token(client, "/auth/login")
        known = median_ms(client, token, "ann@example.com", runs)
        unknown = median_ms(client, token, "nobody@example.com", runs)
        print(f"failed login, median of {runs}: known e-mail {known:.0f} ms, unknown e-mail {unknown:.0f} ms "
              f"(ratio {unknown / known:.2f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 21)
