# make lab: the learner's JupyterLab at chapter 00; make test: every test of the workbook; make lab-instructor:
# JupyterLab with nbgrader. Each creates .venv on first use, with the versions pinned in requirements/.
# make lock: renew those pins; make clean: remove .venv (notebooks, bookshelf/ and backups/ stay).
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# options of `python -m venv` (tests/test_install.py, which replaces pip, passes --without-pip)
VENV_OPTIONS :=
# the learner's packages for Linux, macOS and Windows alike; and the same plus the extras [instructor,test]
LOCK := requirements/learner.txt
TEST_LOCK := requirements/test.txt
# one stamp per install size: the learner's (it records the Python that made .venv), then each set of extras
STAMP := $(VENV)/.installed
INSTRUCTOR_STAMP := $(VENV)/.installed-instructor
TEST_STAMP := $(VENV)/.installed-test

.PHONY: lab lab-instructor test lock notebooks solutions benchmark clean FORCE

# Which Python: PYTHON=... if given; else the one that made .venv, then python3, every python3.N on PATH (newest
# first), python. Each is run and asked its version, as a name on PATH may not run (a pyenv shim exits with 127).
ASK := 'import sys; print(sys.version_info >= (3, 11), "Python %d.%d.%d at" % sys.version_info[:3], sys.executable)'
MADE_BY := $(shell cat $(STAMP) 2>/dev/null)
NUMBERED := $(shell IFS=:; for d in $$PATH; do ls "$$d" 2>/dev/null; done \
  | grep -E '^python3\.[0-9]+$$' | sort -t. -k2,2nr -u)
CANDIDATES := $(or $(PYTHON),$(wordlist 4,99,$(MADE_BY)) python3 $(NUMBERED) python)
FOUND := $(shell for n in $(CANDIDATES); do $$n -c $(ASK) 2>/dev/null | grep '^True ' && break; done)
# "Python 3.12.3 at /usr/bin/python3.12": what the stamp records
PY_ID := $(wordlist 2,99,$(FOUND))
PY := $(wordlist 5,99,$(FOUND))
NO_PYTHON := The workbook needs Python 3.11 or newer: on Ubuntu, sudo add-apt-repository ppa:deadsnakes/ppa and \
sudo apt install python3.12-venv (or uv python install 3.12); on macOS, the installer from python.org or brew \
install python@3.12; on Windows, python.org or winget install Python.Python.3.12; then make again, or \
PYTHON=/path/to/python3.12.

# a .venv made by another Python (or by an install that stopped) is made again, whatever the stamp's date
ifneq ($(MADE_BY),$(PY_ID))
$(STAMP): FORCE
endif

$(STAMP): pyproject.toml $(LOCK)
	@$(if $(PY),,for n in $(CANDIDATES); do \
	  echo "$$n: $$($$n -c 'import sys; print("Python", sys.version.split()[0])' 2>/dev/null || echo does not run)"; \
	done; echo "$(NO_PYTHON)"; exit 1)
	@if [ -e $(VENV) ] && [ "$(MADE_BY)" != "$(PY_ID)" ]; then \
	  echo "$(VENV) was made by $(or $(MADE_BY),an install that did not finish or did not record its Python);" \
	    "making it again with $(PY_ID)"; \
	  rm -rf $(VENV); fi
	@echo "Installing the learner's packages (requirements/learner.txt) into $(VENV) with $(PY_ID): about 320 MB,"
	@echo "a minute or two the first time (less when pip has them cached). pip lists each package as it goes."
	[ -x $(BIN)/python ] || $(strip $(PY) -m venv $(VENV_OPTIONS) $(VENV))
	$(PIP) install --upgrade pip
	$(PIP) install -r $(LOCK) -e .
	@echo "$(PY_ID)" > $@

# the extras install with the versions in requirements/test.txt, beside the learner's
$(INSTRUCTOR_STAMP): $(STAMP) $(TEST_LOCK)
	@echo "Adding nbgrader, the instructor's extra, to $(VENV): about 60 MB, under half a minute."
	$(PIP) install -c $(TEST_LOCK) -e ".[instructor]"
	@touch $@

$(TEST_STAMP): $(STAMP) $(TEST_LOCK)
	@echo "Adding the extras that the tests need (nbgrader, Playwright, Hypothesis, schemathesis, psycopg) to $(VENV):"
	@echo "about 280 MB, under a minute the first time."
	$(PIP) install -r $(TEST_LOCK) -e ".[instructor,test]"
	@touch $@

# the learner's Lab: ./start adds the settings in jupyter/ (no nbgrader, no news prompt, root allowed), as Binder does
lab: $(STAMP)
	./start $(BIN)/jupyter lab notebooks/00_welcome.ipynb

# Jupyter refuses to run as root (containers, some workshop VMs) unless told it is on purpose
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

# the instructor's Lab: Jupyter's own settings, with nbgrader's Formgrader, Create Assignment and Validate
lab-instructor: $(INSTRUCTOR_STAMP)
	$(BIN)/jupyter lab $(ALLOW_ROOT)

# about 2,000 tests, about 13 minutes on 2 cores
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal --durations=10

# Renew the pins: the newest versions that pyproject.toml's ranges allow, for every platform at once. uv's
# --universal keeps macOS-only and Windows-only packages (pip-compile locks only the platform it runs on).
# The test lock takes the learner's pins as they are, so the tests run on the learner's versions.
# make lock UPGRADE= keeps every pin that still fits and changes only what a changed range needs.
UV := build/uv/bin/uv
UPGRADE := --upgrade
lock:
	@$(if $(PY),,echo "$(NO_PYTHON)"; exit 1)
	[ -x $(UV) ] || { $(PY) -m venv build/uv && build/uv/bin/python -m pip install uv; }
	$(UV) pip compile --universal $(UPGRADE) --quiet --custom-compile-command "make lock" pyproject.toml -o $(LOCK)
	$(UV) pip compile --universal $(UPGRADE) --quiet --custom-compile-command "make lock" \
	  --extra instructor --extra test -c $(LOCK) pyproject.toml -o $(TEST_LOCK)

# maintainers: regenerate notebooks/ from solutions/, or re-run the solutions and store their outputs
notebooks: $(INSTRUCTOR_STAMP)
	$(BIN)/python -m workbook generate

solutions: $(INSTRUCTOR_STAMP)
	$(BIN)/python -m workbook execute

benchmark: $(TEST_STAMP)
	$(BIN)/python benchmarks/check_speed.py
	$(BIN)/python benchmarks/book_list.py
	$(BIN)/python benchmarks/login_time.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/suite_speed.py
	$(BIN)/python benchmarks/grading.py

FORCE:

# removes the environment only: a learner's bookshelf/, backups/ and progress stay where they are
clean:
	rm -rf $(VENV) build
