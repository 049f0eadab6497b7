"""Chapter 11: limits on guesses, the answer past a limit, and the security headers."""

# 11.3's answers share the policy's arguments; each answer changes one of them
TALISMAN = ('talisman = Talisman(app, force_https={force}, frame_options={frame}, content_security_policy={csp},\n'
            '                    content_security_policy_nonce_in={nonce}, session_cookie_secure={secure}{more})')
RIGHT = {"force": "not (app.debug or app.testing)", "frame": '"DENY"', "csp": "CSP", "nonce": "NONCE_IN",
         "secure": "False", "more": ""}


def talisman(**changed):
    """Return an 11.3 answer with these arguments changed from the right ones."""
    return TALISMAN.format(**{**RIGHT, **changed})


CORRECT = [
    # one decorator for every endpoint, its methods in lower case
    ("11.1", 'limit = limiter.limit(app.config["GUESS_LIMIT"], methods=["post"])\n'
             'for endpoint in GUESSED:\n'
             '    app.view_functions[endpoint] = limit(app.view_functions[endpoint])'),
    # the limit read at each request, the views replaced at once
    ("11.1", 'from flask import current_app\n'
             '\n'
             'def guess_limit():\n'
             '    return current_app.config["GUESS_LIMIT"]\n'
             '\n'
             'app.view_functions.update({\n'
             '    endpoint: limiter.limit(guess_limit, methods=["POST"])(app.view_functions[endpoint])\n'
             '    for endpoint in GUESSED\n'
             '})'),

    # the API told by its blueprint, the status taken from the error
    ("11.2", 'if request.blueprint == "api":\n'
             '    return http_error(error)\n'
             'return render_template("errors/429.html", error=error), error.code'),
    # the page first, the API's answer chosen after
    ("11.2", 'page = render_template("errors/429.html", error=error)\n'
             'return http_error(error) if request.path.startswith("/api/") else (page, 429)'),

    # the same arguments, debug and testing each negated
    ("11.3", 'talisman = Talisman(app, force_https=not app.debug and not app.testing, frame_options="DENY",\n'
             '                    content_security_policy=CSP, content_security_policy_nonce_in=NONCE_IN,\n'
             '                    session_cookie_secure=False)'),
    # init_app on an extension made first, HSTS for two years, the directives named
    ("11.3", 'development = app.debug or app.testing\n'
             'talisman = Talisman()\n'
             'talisman.init_app(app, force_https=not development, frame_options="DENY",\n'
             '                  strict_transport_security_max_age=2 * 31536000, content_security_policy=CSP,\n'
             '                  content_security_policy_nonce_in=["script-src", "style-src"], session_cookie_secure=False)'),
]

WRONG = [
    # the decorator's answer thrown away: the app still calls the bare views
    ("11.1", 'for endpoint in GUESSED:\n'
             '    limiter.limit(app.config["GUESS_LIMIT"], methods=["POST"])(app.view_functions[endpoint])'),
    # every method counted: showing the form uses up the tries
    ("11.1", 'for endpoint in GUESSED:\n'
             '    app.view_functions[endpoint] = limiter.limit(app.config["GUESS_LIMIT"])(app.view_functions[endpoint])'),
    # one count for every client: one script locks everyone out
    ("11.1", 'for endpoint in GUESSED:\n'
             '    limited = limiter.limit(app.config["GUESS_LIMIT"], key_func=lambda: "everyone", methods=["POST"])\n'
             '    app.view_functions[endpoint] = limited(app.view_functions[endpoint])'),
    # the log-in form only
    ("11.1", 'limited = limiter.limit(app.config["GUESS_LIMIT"], methods=["POST"])\n'
             'app.view_functions["auth.login"] = limited(app.view_functions["auth.login"])'),

    # the page everywhere, the API's programs get HTML
    ("11.2", 'return render_template("errors/429.html", error=error), 429'),
    # the page with the status 200
    ("11.2", 'if request.path.startswith("/api/"):\n'
             '    return http_error(error)\n'
             'return render_template("errors/429.html", error=error)'),
    # JSON of another shape
    ("11.2", 'if request.path.startswith("/api/"):\n'
             '    return {"message": error.description}, 429\n'
             'return render_template("errors/429.html", error=error), 429'),
    # Werkzeug's own answer, everywhere
    ("11.2", 'return error'),

    # Talisman's defaults: https in tests, SAMEORIGIN, no nonce, Secure cookies on http
    ("11.3", 'talisman = Talisman(app)'),
    # no nonce: Swagger UI's inline script is blocked
    ("11.3", talisman(nonce="None")),
    # never https, in production neither
    ("11.3", talisman(force="False")),
    # the session cookie marked Secure on every request
    ("11.3", talisman(secure="True")),
    # frames from the same site allowed
    ("11.3", talisman(frame='"SAMEORIGIN"')),
]

# half-answers: each fails a hidden test (and, as every wrong answer, a public check of the same rule)
HIDDEN = [
    # a limit of its own, whatever GUESS_LIMIT says
    ("11.1", 'for endpoint in GUESSED:\n'
             '    limited = limiter.limit("5 per minute", methods=["POST"])\n'
             '    app.view_functions[endpoint] = limited(app.view_functions[endpoint])'),
    # GETs counted too
    ("11.1", 'for endpoint in GUESSED:\n'
             '    app.view_functions[endpoint] = limiter.limit(app.config["GUESS_LIMIT"])(app.view_functions[endpoint])'),
    # the forms limited, the API not
    ("11.1", 'for endpoint in GUESSED[:-1]:\n'
             '    limited = limiter.limit(app.config["GUESS_LIMIT"], methods=["POST"])\n'
             '    app.view_functions[endpoint] = limited(app.view_functions[endpoint])'),

    # the page with the status 200
    ("11.2", 'if request.path.startswith("/api/"):\n'
             '    return http_error(error)\n'
             'return render_template("errors/429.html", error=error)'),
    # JSON without the message
    ("11.2", 'if request.path.startswith("/api/"):\n'
             '    return {"error": "too many requests"}, 429\n'
             'return render_template("errors/429.html", error=error), 429'),

    ("11.3", talisman(frame='"SAMEORIGIN"')),
    ("11.3", talisman(force="False")),
    ("11.3", talisman(secure="True")),
    ("11.3", talisman(nonce="None")),
    ("11.3", talisman(more=", strict_transport_security=False")),
    # the style attributes' hash left out of the policy
    ("11.3", talisman(csp='{**CSP, "style-src": "\'self\'"}')),
]
