"""The server process's settings (``explorer.process.configure``), in a fresh interpreter:
nothing is changed by importing the module, and configuring it sets one torch thread, the
short GIL switch interval and freezes the imports' objects out of the garbage collector
(Streamlit collects every generation after every run); and the pages' modules leave
pandas to the pages that draw tables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import gc, json, sys, threading
import torch
import explorer.process as process
before = {"frozen": gc.get_freeze_count(), "switch": sys.getswitchinterval()}
process.configure()
for thread in threading.enumerate():
    if thread.name == "explorer-warm-up":
        thread.join(timeout=120)
tracked = len(gc.get_objects())
frozen = gc.get_freeze_count()
process.configure()  # nothing imported since: nothing more frozen
again = gc.get_freeze_count() == frozen
import explorer.reconstruction_page  # a page importing more, then its next run
process.configure()
later = gc.get_freeze_count() - frozen
print(json.dumps({"before": before, "frozen": frozen, "tracked": tracked, "again": again, "later": later,
                  "threads": torch.get_num_threads(), "switch": sys.getswitchinterval()}))
"""


def test_configure_freezes_the_imports_and_importing_changes_nothing():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["before"]["frozen"] == 0 and found["before"]["switch"] == 0.005
    # torch, numpy, scikit-image and the solver: over 100,000 objects, left out of every
    # collection; what remains tracked is what was made after the last freeze.
    assert found["frozen"] > 100_000, found
    assert found["tracked"] < found["frozen"] / 10, found
    assert found["threads"] == 1 and found["switch"] == 0.0005
    # Later runs freeze what was imported since (make talk configures the process before
    # the page imports plotly), and nothing when nothing was.
    assert found["again"] and found["later"] > 1_000, found


@pytest.mark.slow
def test_the_pages_leave_pandas_to_the_pages_with_tables():
    # Every page's first run in a server imports explorer.pages; pandas (and pyarrow with
    # it) took about 0.7 s of it when the paradox and sweeps modules imported it at the top.
    code = "import sys, explorer.pages; print(json.dumps(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", "import json; " + code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
