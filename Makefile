# `make demo` and `make test` bootstrap everything: they create .venv and install the
# package (editable, with its test extra) when .venv is missing or setup.cfg changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test test-fast reproduce bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip "setuptools<82" wheel
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

# ZOO_DEMO_ARGS: more `zoo demo` options (the README's test runs a short demo with
# ZOO_DEMO_ARGS="--epochs 2 --length 1501").
demo: $(STAMP)
	$(VENV)/bin/zoo demo --out demo_out --overwrite $(ZOO_DEMO_ARGS)

# Two worker processes: the suite is mostly single-threaded Python and process start-up,
# so on 2 cores it finishes in about half the time of one process. Tests go out one at a
# time, longest first, those sharing a fixture together (tests/conftest.py), so neither
# worker idles at the end or builds another's fixture. Then the
# tests marked `portable` again on JAX and on PyTorch, one process each (the backend is chosen when
# Keras is imported; tests/conftest.py keeps only the portable tests there).
test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadgroup --no-loadscope-reorder -m "not recipe" --durations=15 tests
	KERAS_BACKEND=jax $(PY) -m pytest -q -n 2 --dist loadgroup --no-loadscope-reorder -m "not recipe" -p no:cacheprovider --durations=10 tests
	KERAS_BACKEND=torch $(PY) -m pytest -q -n 2 --dist loadgroup --no-loadscope-reorder -m "not recipe" -p no:cacheprovider --durations=10 tests

test-fast: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadgroup --no-loadscope-reorder -m "not slow and not recipe" tests

# Retrains the big pretrained entries and checks their cards' metrics (about 15 minutes).
reproduce: $(STAMP)
	$(PY) -m pytest -q -m recipe tests

bench: $(STAMP)
	$(PY) benchmarks/startup.py --out benchmarks/results/startup.txt
	$(PY) benchmarks/conv_vs_blstm.py
	$(PY) benchmarks/rnn_cells.py
	$(PY) benchmarks/rnnpb_recognition.py | tee benchmarks/results/rnnpb_recognition.txt
	$(PY) scripts/convert_datasets.py
	$(PY) benchmarks/rnnpb_datasets.py | tee benchmarks/results/rnnpb_datasets.txt
	$(PY) benchmarks/adding_problem.py
	$(PY) benchmarks/variable_binding.py
	$(PY) benchmarks/music.py
	$(PY) benchmarks/tensor_cells.py
	$(PY) benchmarks/shakespeare.py
	$(PY) benchmarks/export.py
	$(PY) benchmarks/scale.py
	$(PY) benchmarks/scale.py --only-checks --repeats 9
	$(PY) benchmarks/backends.py

clean:
	rm -rf $(VENV) demo_out build *.egg-info
