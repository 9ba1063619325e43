"""Shared pieces of the deep strategies: the install hint, the lazy torch import, sample checks.

No torch import at module level: the score functions work on plain numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

DEEP_INSTALL_HINT = (
    'install the deep-learning extra: pip install "alwidget[deep]" (it needs PyTorch 2.13.0, '
    "CPU build: pip install torch==2.13.0 from a CPU wheel index; a bare `pip install torch` "
    "downloads gigabytes of CUDA libraries)"
)

_CHUNK = 8192  # rows per block when reducing samples in float64


def _check_samples(samples: Any) -> np.ndarray:
    S = np.asarray(samples)
    if S.ndim != 3 or S.shape[0] < 1 or S.shape[2] < 1:
        raise ValueError(
            "samples must have shape (T, n_samples, n_classes): T Monte Carlo passes of "
            f"predict_proba (MCDropoutClassifier.predict_proba_samples); got shape {S.shape}"
        )
    return S


def _xlogx(P: np.ndarray) -> np.ndarray:
    """``p log p`` elementwise with ``0 log 0 = 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = P * np.log(P)
    t[P <= 0] = 0.0
    return t


def _blocks(S: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``fn`` to float64 blocks of ``S[:, rows]``; concatenate the (rows,) results."""
    n = S.shape[1]
    out = np.empty(n, dtype=np.float64)
    for s in range(0, n, _CHUNK):
        out[s : s + _CHUNK] = fn(np.asarray(S[:, s : s + _CHUNK], dtype=np.float64))
    return out


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"this strategy needs PyTorch: {DEEP_INSTALL_HINT}") from e
    return torch
