# The two commands a newcomer needs: `make app` and `make test`.
.PHONY: app test bench

app:
	scripts/setup.sh
	.venv/bin/python -m streamlit run app.py

test:
	scripts/setup.sh --test
	.venv/bin/python -m pytest -q

bench:
	scripts/setup.sh
	.venv/bin/python benchmarks/bench_firenet.py
	.venv/bin/python benchmarks/bench_attacks.py
	.venv/bin/python benchmarks/bench_app.py
