"""Chapter 00: the first page of Bookshelf."""

CORRECT = [
    ("00.1", 'from flask import make_response\n'
             'return make_response("Welcome to Bookshelf!", 200)'),
    ("00.1", 'from flask import Response\n'
             'greeting = "Welcome to Bookshelf!"\n'
             'return Response(greeting, mimetype="text/plain")'),
]

WRONG = [
    ("00.1", 'return "Hello, world!"'),  # the tutorial's text, not the one asked for
    ("00.1", 'print("Welcome to Bookshelf!")'),  # printed in the server's log; the view returns None
]

HIDDEN = [
    ("00.1", 'return "Welcome to Bookshelf!!"'),  # one "!" too many: the page contains the welcome, but is not it
    # the welcome wrapped in a JSON object: its text is in the body, but the page is not that text
    ("00.1", 'return {"message": "Welcome to Bookshelf!"}'),
]
