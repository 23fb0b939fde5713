# The two commands a newcomer needs: `make app` and `make test`.
# Options: CPU=1 installs torch's CPU-only build from the PyTorch wheel index (about 0.2 GB
# instead of 2.7 GB on Linux); PYTHON=python3.12 picks the interpreter (3.11 or newer).
.PHONY: app test bench

SETUP_FLAGS = $(if $(CPU),--cpu)
export PYTHON

app:
	scripts/setup.sh $(SETUP_FLAGS)
	.venv/bin/python -m streamlit run app.py

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
