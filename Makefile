# TensorBoard, part 2 — `make help` lists the targets.
PY      := .venv/bin/python
STAMP   := .venv/.installed
WORK    ?= lessons
LESSON  ?=
PORT    ?= 6006
# A path option, quoted for the shell whatever it holds (spaces, parentheses, quotes): $(call q,$(SUBMISSIONS))
q = '$(subst ','\'',$(1))'

.DEFAULT_GOAL := help
.PHONY: help run test watch progress hint grade check quick tensorboard lessons notebooks figures bench release autograder \
	catalogs translations \
	autograder-check clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'
	@echo "  options: WORK=dir (folder make test grades and make run runs), LESSON=NN (one lesson), EX=NN.k (one exercise), PORT=n, DEST=dir"
	@echo "  setting up .venv: TORCH=pypi (PyPI's torch, CUDA and all; default on Linux without an NVIDIA driver: CPU wheels)"
	@echo "  make grade: SUBMISSIONS=dir (a folder or zip per student, or a flat LMS download), JOBS=n (students at once;"
	@echo "    default: one per core, as the memory allows), ROSTER=file (id,name,folder), OVERRIDES=file"
	@echo "    (student,exercise,points,reason), TRUSTED=1 (no bubblewrap: your own code only)"
	@echo "  make autograder: BUDGET=s (the grade's total time, below Gradescope's timeout), VISIBILITY=after_due_date"
	@echo "    (or visible, after_published, hidden); make autograder-check: SUBMISSION=dir, MEMORY_MB=n (the cap),"
	@echo "    AUTOGRADER_ROOT=dir, SETUP=1"
	@echo "  make bench: STUDENTS=n (the class's size), AGAINST=rev (the boundary's cost against the course at that git revision)"
	@echo "  COURSE_LANG=zh: messages in Chinese (default: the system's locale); with make release, a Chinese release"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	python3 -m tbcourse setup --dev $(if $(TORCH),--torch $(TORCH))
	touch $@

run: $(STAMP) ## run the lessons in WORK (default lessons/; WORK=solutions: the reference) as scripts, logging to runs/
	$(PY) -m tbcourse run --work $(call q,$(WORK)) $(if $(LESSON),--lesson $(LESSON))

test: $(STAMP) ## grade the lessons in WORK (default lessons/): scorecard + reports/grade.json
	$(PY) -m tbcourse test --work $(call q,$(WORK)) $(if $(LESSON),--lesson $(LESSON))

watch: $(STAMP) ## regrade a lesson of WORK each time it is saved (LESSON=NN: grade it first); Ctrl-C stops
	$(PY) -m tbcourse watch --work $(call q,$(WORK)) $(if $(LESSON),--lesson $(LESSON))

progress: $(STAMP) ## every exercise, done or to do, with points (kept across runs)
	$(PY) -m tbcourse progress

hint: $(STAMP) ## the next hint for exercise EX=NN.k, one level more each time (RESET=1: start over)
	$(PY) -m tbcourse hint $(EX) $(if $(RESET),--reset)

grade: $(STAMP) ## grade a class in bubblewrap (SUBMISSIONS=dir) -> reports/gradebook.csv, lms.csv, class.html
	@test -n $(call q,$(SUBMISSIONS)) || { echo "usage: make grade SUBMISSIONS=dir (a folder or zip per student, or a flat LMS download)"; exit 2; }
	$(PY) -m tbcourse.grading.gradebook $(call q,$(SUBMISSIONS)) $(if $(LESSON),--lesson $(LESSON)) $(if $(TRUSTED),--trusted) \
		$(if $(JOBS),--jobs $(JOBS)) $(if $(ROSTER),--roster $(call q,$(ROSTER))) \
		$(if $(OVERRIDES),--overrides $(call q,$(OVERRIDES))) $(if $(COURSE_LANG),--lang $(call q,$(COURSE_LANG)))

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
	$(PY) -m tbcourse.authoring.bench $(if $(STUDENTS),--students $(STUDENTS)) $(if $(AGAINST),--against $(call q,$(AGAINST)))

release: $(STAMP) ## write a student repository to DEST=dir: lessons, data, grader, graded tests; no answers (COURSE_LANG=zh: in Chinese)
	@test -n $(call q,$(DEST)) || { echo "usage: make release DEST=dir (a new or empty folder outside the course)"; exit 2; }
	$(PY) -m tbcourse.authoring.release $(call q,$(DEST)) $(if $(COURSE_LANG),--lang $(call q,$(COURSE_LANG)))

autograder: $(STAMP) ## build dist/autograder.zip for Gradescope: setup.sh, run_autograder, the grader; no answers
	$(PY) -m tbcourse.platforms.gradescope_bundle build $(if $(BUDGET),--budget $(BUDGET)) \
		$(if $(VISIBILITY),--visibility $(VISIBILITY))

autograder-check: autograder ## run the zip as Gradescope would on SUBMISSION=dir -> reports/gradescope/results.json
	@test -n $(call q,$(SUBMISSION)) || { echo "usage: make autograder-check SUBMISSION=dir [AUTOGRADER_ROOT=dir] [SETUP=1] [MEMORY_MB=n]"; exit 2; }
	$(PY) -m tbcourse.platforms.gradescope_bundle check $(call q,$(SUBMISSION)) \
		$(if $(AUTOGRADER_ROOT),--root $(call q,$(AUTOGRADER_ROOT))) $(if $(SETUP),--setup) $(if $(MEMORY_MB),--memory-mb $(MEMORY_MB))

clean: ## remove logs, reports and caches (keeps .venv, your progress and the hints seen)
	rm -rf runs .pytest_cache
	find reports -mindepth 1 -not -name progress.json -not -name hints.json -delete 2>/dev/null || true
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
