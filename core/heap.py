"""The garbage collector on a serving process: what was alive at boot is frozen out of it.

After boot a worker holds ~260,000 objects that live as long as it does (the schema, the
SQLAlchemy metadata, the modules). CPython's full collection walks all of them, and a page
of the storefront allocates enough to trigger one every hundred requests or so: measured
in-process, three full collections during 400 signed-in pages took 2.6 s together, the
longest 1.07 s, on the shared 2-core machine (bench/profiles/gc-storefront.txt) — the loop
stalled for all that time, which is what the cached path's p99 showed. ``gc.freeze()`` after
boot moves those objects to the permanent generation: the same 400 pages then ran 12 full
collections in 12 ms together, the longest 3.5 ms.

Freezing exempts objects from cycle collection only; anything freed by reference counting is
still freed. It is done once per serving process (``dougong serve``, the benches), never by
``create_app`` on its own: a test process builds hundreds of apps, and freezing each one's
heap would keep whatever cycles those objects later form.
"""

from __future__ import annotations

import gc
import os

ENV = "DOUGONG_GC_FREEZE"


def wanted() -> bool:
    """``DOUGONG_GC_FREEZE=0`` turns it off (on by default for ``dougong serve``)."""
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def freeze_boot_heap() -> int:
    """Collect what boot left behind, then freeze the rest; returns the objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
