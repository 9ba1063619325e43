"""Deep Bayesian and adversarial strategies: MC dropout (DBAL), BALD, BatchBALD, VAAL.

The Bayesian scores are pure numpy functions of Monte Carlo dropout samples, an array of
shape ``(T, n, n_classes)`` (``T`` stochastic passes of the network, see
:meth:`alwidget.models.MCDropoutClassifier.predict_proba_samples`); the strategies take those
samples from the session's model, which must therefore be an MC-dropout network. VAAL trains
its own variational auto-encoder and discriminator and needs no task model.

These modules import no torch: the score functions work on plain arrays, and the strategies
that need PyTorch (the network's samples, VAAL) import it when they run. Selecting one of
them by name without the extra raises an :class:`ImportError` that says how to install it.

References
----------
Houlsby, N., Huszar, F., Ghahramani, Z. & Lengyel, M. (2011). Bayesian active learning for
classification and preference learning. arXiv:1112.5745 (BALD).
Gal, Y. & Ghahramani, Z. (2016). Dropout as a Bayesian approximation. ICML (MC dropout).
Gal, Y., Islam, R. & Ghahramani, Z. (2017). Deep Bayesian active learning with image data.
ICML (DBAL: max entropy, variation ratios, mean STD and BALD under MC dropout).
Kirsch, A., van Amersfoort, J. & Gal, Y. (2019). BatchBALD: efficient and diverse batch
acquisition for deep Bayesian active learning. NeurIPS.
Sinha, S., Ebrahimi, S. & Darrell, T. (2019). Variational adversarial active learning. ICCV
(VAAL).

The code lives in :mod:`alwidget.strategies.mc_dropout` (DBAL scores and the MC-dropout
strategy), :mod:`alwidget.strategies.batchbald` and :mod:`alwidget.strategies.vaal`; this
module is their registry and re-exports them.
"""

from __future__ import annotations

from collections.abc import Callable

from ._deep_common import DEEP_INSTALL_HINT
from .base import Strategy
from .batchbald import BatchBALD, batchbald_select, joint_mutual_information
from .mc_dropout import (
    MCDropoutStrategy,
    mc_entropy,
    mc_samples,
    mc_uncertainty,
    mean_std,
    mutual_information,
    variation_ratios,
)
from .vaal import VAAL, vaal_scores

__all__ = [
    "DEEP_INSTALL_HINT",
    "DEEP_STRATEGIES",
    "mc_entropy",
    "variation_ratios",
    "mean_std",
    "mutual_information",
    "batchbald_select",
    "joint_mutual_information",
    "mc_samples",
    "mc_uncertainty",
    "MCDropoutStrategy",
    "BatchBALD",
    "vaal_scores",
    "VAAL",
    "deep_strategy",
]

# -- registration ---------------------------------------------------------------------------------
DEEP_STRATEGIES: dict[str, Callable[[], Strategy]] = {
    "mc_entropy": lambda: MCDropoutStrategy("mc_entropy"),
    "variation_ratios": lambda: MCDropoutStrategy("variation_ratios"),
    "mean_std": lambda: MCDropoutStrategy("mean_std"),
    "mc_bald": lambda: MCDropoutStrategy("mc_bald"),
    "batchbald": BatchBALD,
    "vaal": VAAL,
}


def deep_strategy(name: str) -> Strategy:
    """Build a deep strategy by registry name, after checking that PyTorch is installed.

    Raises
    ------
    ImportError
        If PyTorch is missing (the message says ``pip install "alwidget[deep]"``).
    KeyError
        If ``name`` is not one of :data:`DEEP_STRATEGIES`.

    Examples
    --------
    >>> sorted(DEEP_STRATEGIES)
    ['batchbald', 'mc_bald', 'mc_entropy', 'mean_std', 'vaal', 'variation_ratios']
    >>> s = deep_strategy("mc_bald")
    >>> s.name, s.needs_mc_samples  # needs an MC-dropout network as the estimator
    ('mc_bald', True)
    """
    factory = DEEP_STRATEGIES[name]
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise ImportError(f"strategy {name!r} needs PyTorch: {DEEP_INSTALL_HINT}") from e
    return factory()
