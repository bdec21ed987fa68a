"""One contraction hierarchy per congestion band, built once and kept on disk.

A hierarchy takes a few seconds to build (:mod:`geo.ch`), so ``make data`` builds the
five bands' into the network cache; a process loads them in milliseconds. The file name
carries a digest of the graph and its band's edge times, so a changed network or speed
table never reads a stale hierarchy. Without a cache directory (tests on small graphs)
the hierarchies are built in memory on first use.
"""

from __future__ import annotations

import hashlib
import os
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from geo.ch import WITNESS_SETTLE_LIMIT, Hierarchy
from geo.network import RoadNetwork

HIERARCHY_VERSION = 1
"""Bump when the hierarchy's layout or construction changes."""


class BandHierarchies:
    """The hierarchies of a network's bands, loaded or built on first use (thread-safe)."""

    def __init__(self, network: RoadNetwork, cache_dir: Path | None = None) -> None:
        self.network = network
        self.cache_dir = cache_dir
        self._built: dict[int, Hierarchy] = {}
        self._lock = threading.Lock()

    def path(self, band_idx: int) -> Path | None:
        """Where band ``band_idx``'s hierarchy is cached (None without a cache)."""
        if self.cache_dir is None:
            return None
        net = self.network
        digest = hashlib.sha256(f"v{HIERARCHY_VERSION}-w{WITNESS_SETTLE_LIMIT}".encode())
        for array in (net.indptr, net.head, net.travel_s[band_idx]):
            digest.update(np.ascontiguousarray(array).tobytes())
        return self.cache_dir / f"hierarchy-{digest.hexdigest()[:20]}.npz"

    def get(self, band_idx: int) -> Hierarchy:
        """Band ``band_idx``'s hierarchy."""
        hierarchy = self._built.get(band_idx)
        if hierarchy is None:
            with self._lock:
                hierarchy = self._built.get(band_idx)
                if hierarchy is None:
                    hierarchy = self._load_or_build(band_idx)
                    self._built[band_idx] = hierarchy
        return hierarchy

    def prepare(self) -> None:
        """Load (or build and save) every band's hierarchy now."""
        for band_idx in range(len(self.network.bands)):
            self.get(band_idx)

    def _load_or_build(self, band_idx: int) -> Hierarchy:
        path = self.path(band_idx)
        if path is not None and path.exists():
            cached = self._read(path)
            if cached is not None:
                return cached
        net = self.network
        hierarchy = Hierarchy.build(net.indptr, net.head, net.travel_s[band_idx])
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.partial.npz")
            saved: dict[str, Any] = hierarchy.arrays()
            np.savez(partial, **saved)
            partial.replace(path)  # atomic: a reader never sees half a file
        return hierarchy

    def _read(self, path: Path) -> Hierarchy | None:
        """The hierarchy cached at ``path``, or None when the file is damaged or not of
        this network (then it is built again and the file replaced)."""
        try:
            with np.load(path) as arrays:
                hierarchy = Hierarchy(**{name: arrays[name] for name in arrays.files})
        except (OSError, ValueError, TypeError, zipfile.BadZipFile):
            return None
        n = self.network.node_count
        if hierarchy.position.shape != (n,) or hierarchy.up_out_indptr.shape != (n + 1,):
            return None
        return hierarchy
