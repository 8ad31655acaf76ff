# TensorBoard, part 2 — `make help` lists the targets.
PY      := .venv/bin/python
STAMP   := .venv/.installed
WORK    ?= lessons
LESSON  ?=
PORT    ?= 6006

.DEFAULT_GOAL := help
.PHONY: help run test watch progress hint grade check quick tensorboard lessons notebooks figures bench release autograder \
	catalogs translations \
	autograder-check clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'
	@echo "  options: WORK=dir (folder make test grades and make run runs), LESSON=NN (one lesson), EX=NN.k (one exercise), SUBMISSIONS=dir, PORT=n, DEST=dir"
	@echo "  COURSE_LANG=zh: messages in Chinese (default: the system's locale); with make release, a Chinese release"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

run: $(STAMP) ## run the lessons in WORK (default lessons/; WORK=solutions: the reference) as scripts, logging to runs/
	$(PY) -m tbcourse run --work $(WORK) $(if $(LESSON),--lesson $(LESSON))

test: $(STAMP) ## grade the lessons in WORK (default lessons/): scorecard + reports/grade.json
	$(PY) -m tbcourse test --work $(WORK) $(if $(LESSON),--lesson $(LESSON))

watch: $(STAMP) ## regrade a lesson of WORK each time it is saved (LESSON=NN: grade it first); Ctrl-C stops
	$(PY) -m tbcourse watch --work $(WORK) $(if $(LESSON),--lesson $(LESSON))

progress: $(STAMP) ## every exercise, done or to do, with points (kept across runs)
	$(PY) -m tbcourse progress

hint: $(STAMP) ## the next hint for exercise EX=NN.k, one level more each time (RESET=1: start over)
	$(PY) -m tbcourse hint $(EX) $(if $(RESET),--reset)

grade: $(STAMP) ## grade a class inside bubblewrap: every student folder in SUBMISSIONS=dir -> reports/gradebook.csv
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir (one subfolder per student)"; exit 2; }
	$(PY) -m tbcourse.grading.gradebook $(SUBMISSIONS) $(if $(LESSON),--lesson $(LESSON)) $(if $(TRUSTED),--trusted)

check: $(STAMP) ## the course's own tests (what CI runs); -rs says what was skipped and why
	$(PY) -m pytest -q -rs --durations=15

quick: $(STAMP) ## the quick tier of make check: every module's own tests, no class grading, notebooks or browser
	$(PY) -m pytest -q -rs -m "not slow" --durations=10

tensorboard: $(STAMP) ## serve runs/ on http://127.0.0.1:6006 (PORT=n to change), every step kept
	$(PY) -m tbcourse tensorboard --port $(PORT)

lessons: $(STAMP) ## rebuild lessons/ from solutions/ (refuses to overwrite hand edits; FORCE=1 keeps them as .bak)
	$(PY) -m tbcourse.authoring.build $(if $(FORCE),--force)

catalogs: $(STAMP) ## extract every message into tbcourse/locale/*/LC_MESSAGES/tbcourse.po, then compile the .mo
	$(PY) -m tbcourse.authoring.catalogs update
	$(PY) -m tbcourse.authoring.catalogs compile

translations: $(STAMP) ## list every lesson cell, message and README without a current, faithful Chinese
	$(PY) -m tbcourse.authoring.translation_check check

notebooks: $(STAMP) ## build lessons/ and solutions/ as Jupyter notebooks, paired with their scripts
	$(PY) -m tbcourse.grading.notebooks build

figures: $(STAMP) ## redraw docs/figures/ from fresh runs of the reference lessons (and, with Chromium, TensorBoard)
	$(PY) -m tbcourse.authoring.figures

bench: $(STAMP) ## time and memory of grading the solutions and a class (STUDENTS=30), beside the import floor
	$(PY) -m tbcourse.authoring.bench $(if $(STUDENTS),--students $(STUDENTS))

release: $(STAMP) ## write a student repository to DEST=dir: lessons, data, grader, graded tests; no answers (COURSE_LANG=zh: in Chinese)
	@test -n "$(DEST)" || { echo "usage: make release DEST=dir (a new or empty folder outside the course)"; exit 2; }
	$(PY) -m tbcourse.authoring.release $(DEST) $(if $(COURSE_LANG),--lang $(COURSE_LANG))

autograder: $(STAMP) ## build dist/autograder.zip for Gradescope: setup.sh, run_autograder, the grader; no answers
	$(PY) -m tbcourse.platforms.gradescope_bundle build

autograder-check: autograder ## run the zip as Gradescope would on SUBMISSION=dir -> reports/gradescope/results.json
	@test -n "$(SUBMISSION)" || { echo "usage: make autograder-check SUBMISSION=dir [AUTOGRADER_ROOT=dir] [SETUP=1]"; exit 2; }
	$(PY) -m tbcourse.platforms.gradescope_bundle check $(SUBMISSION) $(if $(AUTOGRADER_ROOT),--root $(AUTOGRADER_ROOT)) \
		$(if $(SETUP),--setup)

clean: ## remove logs, reports and caches (keeps .venv)
	rm -rf runs reports .pytest_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
