# make lab: open the workbook; make test: run every test. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab lab-instructor test notebooks solutions benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[instructor,test]"
	touch $(STAMP)

# Jupyter refuses to run as root (containers, some workshop VMs) unless told it is on purpose
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

# the learner's Lab: ./start adds the settings in jupyter/ (no nbgrader, no news prompt), as Binder does
lab: $(STAMP)
	./start $(BIN)/jupyter lab $(ALLOW_ROOT) notebooks/00_welcome.ipynb

# the instructor's Lab: Jupyter's own settings, with nbgrader's Formgrader, Create Assignment and Validate
lab-instructor: $(STAMP)
	$(BIN)/jupyter lab $(ALLOW_ROOT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --durations=10

# maintainers: regenerate notebooks/ from solutions/, or re-run the solutions and store their outputs
notebooks: $(STAMP)
	$(BIN)/python -m workbook generate

solutions: $(STAMP)
	$(BIN)/python -m workbook execute

benchmark: $(STAMP)
	$(BIN)/python benchmarks/check_speed.py
	$(BIN)/python benchmarks/book_list.py
	$(BIN)/python benchmarks/login_time.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/suite_speed.py
	$(BIN)/python benchmarks/grading.py

# removes the environment only: a learner's bookshelf/, backups/ and progress stay where they are
clean:
	rm -rf $(VENV) build
