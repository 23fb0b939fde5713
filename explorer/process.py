"""Process-wide settings for serving the page, applied once by an explicit call from app.py.

Nothing here runs at import: a script or test that imports the explorer keeps its own
thread and scheduling settings.
"""

from __future__ import annotations

import gc
import sys
import threading

import numpy as np
import torch

from solver.metrics import psnr, ssim

__all__ = ["configure"]

_configured = threading.Event()


def configure() -> None:
    """Tune this server process for the page (idempotent).

    * One torch thread: on two shared cores, OpenMP threads spin-waiting under contention
      made one FIRENET layer ~50x slower (153 ms instead of 3 ms at N = 256), and each
      visitor's run is its own thread anyway.
    * A 0.5 ms GIL switch interval: a FIRENET run is a Python loop of small torch calls
      that holds the GIL most of the time; with the default 5 ms the server's event loop
      (websocket messages, the page's JavaScript files on a first visit) waited behind it.
      Measured on a cold page load: the complete page appeared ~4 s sooner, at no cost to
      the run itself.
    * The metrics' imports (scikit-image, scipy.ndimage: ~1 s on a busy machine) are done
      in a background thread beside the first FIRENET run instead of after it.
    * The objects of the imports (torch, plotly, scikit-image, the page's modules: about
      270,000) are moved out of the cyclic garbage collector's reach (``gc.freeze``), at
      every call after which modules were imported (``make talk`` configures the
      process before the first page imports its own), and after the metrics' imports.
      Streamlit collects every generation after every run, a fragment's included: that
      took 170 ms of each run, and of each colour map change, on an idle machine; 0.1 ms
      once frozen. Frozen objects are still freed when their last reference goes; only
      reference cycles among them would never be collected.
    """
    _freeze_new_imports()
    if _configured.is_set():
        return
    _configured.set()
    torch.set_num_threads(1)
    sys.setswitchinterval(0.0005)
    threading.Thread(target=_warm_up, name="explorer-warm-up", daemon=True).start()


_frozen_with = [0]  # how many modules were imported at the last freeze


def _freeze_new_imports() -> None:
    """``gc.freeze()`` when modules were imported since the last freeze (a page's run
    starts here, so what it freezes is what existed before the run began)."""
    if len(sys.modules) != _frozen_with[0]:
        _frozen_with[0] = len(sys.modules)
        gc.freeze()


def _warm_up() -> None:
    image = np.linspace(0.0, 1.0, 64).reshape(8, 8)
    psnr(image, image[::-1]), ssim(image, image[::-1])
    _freeze_new_imports()
