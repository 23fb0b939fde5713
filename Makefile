# The two commands a newcomer needs: `make app` and `make test`. `make app` computes the
# first page's results once (about half a minute on 2 cores, then found on disk) before
# the server starts, so that its first visit opens from disk.
# scripts/setup.sh picks torch's build by itself: CUDA where an NVIDIA GPU is found, the CPU
# build otherwise. CPU=1 forces the CPU build, CPU=0 PyPI's (CUDA on Linux); PYTHON=python3.12
# picks the interpreter (3.11 or newer). Download sizes: README.
# `make talk` serves the page for a talk and warms every preset (docs/talk.md); NETWORK=1
# serves it on every network interface instead of this computer only, PORT=8600 another port.
.PHONY: app talk test bench

SETUP_FLAGS = $(if $(filter 1,$(CPU)),--cpu,$(if $(filter 0,$(CPU)),--cuda))
export PYTHON

app:
	scripts/setup.sh $(SETUP_FLAGS)
	.venv/bin/python -m explorer.talk --first-page-only
	@echo "Starting the app; open the Local URL below. Ctrl+C stops it."
	.venv/bin/python -m streamlit run app.py

talk:
	scripts/setup.sh $(SETUP_FLAGS)
	.venv/bin/python -m explorer.talk --port $(or $(PORT),8501) $(if $(filter 1,$(NETWORK)),--network)

test:
	scripts/setup.sh --test $(SETUP_FLAGS)
	.venv/bin/python -m pytest -q

bench:
	scripts/setup.sh $(SETUP_FLAGS)
	.venv/bin/python benchmarks/bench_firenet.py
	.venv/bin/python benchmarks/bench_attacks.py
	.venv/bin/python benchmarks/bench_app.py
	.venv/bin/python benchmarks/bench_reproduce.py
	.venv/bin/python benchmarks/bench_visitors.py
