"""A small neural network with Monte Carlo dropout, behind the scikit-learn classifier API.

Needs the optional extra ``alwidget[deep]`` (PyTorch 2.13.0, CPU build). Importing this module
without it raises an :class:`ImportError` that says how to install it; importing
:mod:`alwidget` never imports torch.

The network is plain PyTorch behind :class:`sklearn.base.BaseEstimator` rather than a skorch
``NeuralNetClassifier``: MC dropout needs many stochastic forward passes with seeded masks,
which skorch does not offer (its ``predict_proba`` runs in eval mode), and skorch cannot be
pinned next to the test extra (``modAL-python`` pins ``skorch==0.9.0``, which imports the
``pkg_resources`` module that current setuptools no longer ships).

References
----------
Gal, Y. & Ghahramani, Z. (2016). Dropout as a Bayesian approximation: representing model
uncertainty in deep learning. ICML.
Gal, Y., Islam, R. & Ghahramani, Z. (2017). Deep Bayesian active learning with image data.
ICML.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .strategies.deep import DEEP_INSTALL_HINT

try:
    import torch
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError(f"alwidget.models needs PyTorch: {DEEP_INSTALL_HINT}") from e

__all__ = ["MCDropoutClassifier", "DEEP_INSTALL_HINT"]


def _seed_of(random_state: Any) -> int:
    """An int seed from ``None`` / int / Generator / RandomState."""
    if random_state is None:
        return int(np.random.default_rng().integers(2**62))
    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**62))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    raise TypeError(f"random_state must be None, an int or a numpy Generator; got {random_state!r}")


class _MLP(torch.nn.Module):
    """Linear layers with ReLU and dropout after each hidden layer (dropout masks are drawn
    from an explicit generator, so MC sampling is seeded and thread-safe)."""

    def __init__(
        self,
        n_in: int,
        hidden: Sequence[int],
        n_out: int,
        p: float,
        p_in: float,
        gen: torch.Generator,
    ) -> None:
        super().__init__()
        sizes = [n_in, *hidden, n_out]
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.p, self.p_in = float(p), float(p_in)
        with torch.no_grad():
            for lin in self.layers:  # PyTorch's default init, from our generator
                assert isinstance(lin, torch.nn.Linear)
                torch.nn.init.kaiming_uniform_(lin.weight, a=5**0.5, generator=gen)
                bound = 1.0 / lin.weight.shape[1] ** 0.5
                lin.bias.uniform_(-bound, bound, generator=gen)

    @staticmethod
    def _drop(h: torch.Tensor, p: float, gen: torch.Generator | None) -> torch.Tensor:
        if p <= 0 or gen is None:
            return h
        keep = torch.rand(h.shape, generator=gen, dtype=h.dtype) >= p
        return h * keep / (1.0 - p)

    def forward(self, x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
        """Logits; dropout is on iff a generator is given. ``x`` may have leading sample dims."""
        h = self._drop(x, self.p_in, gen)
        for lin in self.layers[:-1]:
            h = self._drop(torch.relu(lin(h)), self.p, gen)
        return self.layers[-1](h)

    def sample(self, x: torch.Tensor, T: int, gen: torch.Generator) -> torch.Tensor:
        """``T`` dropout passes, logits of shape (T, n, n_out). Without input dropout the first
        layer is computed once and shared by the passes."""
        if self.p_in > 0:
            return self(x.unsqueeze(0).expand(T, -1, -1), gen)
        h = torch.relu(self.layers[0](x)).unsqueeze(0).expand(T, -1, -1)
        for i, lin in enumerate(self.layers[1:]):
            h = lin(self._drop(h, self.p, gen))
            if i < len(self.layers) - 2:
                h = torch.relu(h)
        return h


class MCDropoutClassifier(ClassifierMixin, BaseEstimator):
    """A small multilayer perceptron with dropout, and Monte Carlo dropout at inference.

    Inputs are standardised with the training set's mean and standard deviation; each hidden
    layer is ReLU then dropout; training minimises cross-entropy with Adam and weight decay,
    from scratch at every :meth:`fit` (as in DBAL, Gal et al., 2017). :meth:`predict_proba`
    is the deterministic network (dropout off); :meth:`predict_proba_samples` keeps dropout on
    and returns ``T`` stochastic passes, the approximate posterior samples the Bayesian
    strategies (``mc_bald``, ``batchbald``, ...) score.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(128,)
        Width of each hidden layer.
    dropout : float, default=0.5
        Drop probability after each hidden layer, in training and in MC sampling.
    input_dropout : float, default=0.0
        Drop probability on the (standardised) inputs.
    max_epochs : int, default=100
        Passes over the training set.
    min_steps : int, default=300
        At least this many gradient steps, however small the training set (a few labels would
        otherwise get a few steps only).
    batch_size : int, default=64
        Mini-batch size (clipped to the training-set size).
    lr : float, default=1e-3
        Adam learning rate.
    weight_decay : float, default=1e-4
        L2 penalty (Adam's ``weight_decay``), the prior of the dropout posterior.
    n_samples : int, default=20
        Default number of MC-dropout passes ``T`` of :meth:`predict_proba_samples`.
    n_threads : int or None, default=1
        PyTorch intra-op threads while fitting and predicting (restored afterwards). One thread
        is fastest for a network this small; None leaves PyTorch's setting alone.
    progress : callable or None, default=None
        Called as ``progress(epoch, max_epochs, loss)`` after each epoch of :meth:`fit` (epoch
        counted from 1, loss the epoch's mean cross-entropy in nats); for a status line. A plain
        function or closure: :func:`sklearn.base.clone` deep-copies a bound method's instance.
    random_state : int, Generator or None, default=None
        Seeds the initial weights, the mini-batch order, the training dropout masks and the
        default MC-sampling generator. The same seed and data give the same model and samples.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in :meth:`fit`, sorted.
    n_features_in_ : int
    mean_, scale_ : ndarray of shape (n_features,), float32
        Standardisation. ``scale_`` is floored at a tenth of the mean feature standard
        deviation, so a feature that is nearly constant on a few labels does not blow up.
    loss_curve_ : list of float
        Mean training cross-entropy per epoch (nats).
    module_ : torch.nn.Module
        The trained network.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from alwidget.models import MCDropoutClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MCDropoutClassifier(random_state=0).fit(X[:300], y[:300])
    >>> clf.predict_proba_samples(X[300:305], n_samples=8).shape
    (8, 5, 10)
    >>> bool((clf.predict(X[300:]) == y[300:]).mean() > 0.85)
    True
    """

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (128,),
        dropout: float = 0.5,
        input_dropout: float = 0.0,
        max_epochs: int = 100,
        min_steps: int = 300,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        n_samples: int = 20,
        n_threads: int | None = 1,
        progress: Callable[[int, int, float], Any] | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.max_epochs = max_epochs
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.n_samples = n_samples
        self.n_threads = n_threads
        self.progress = progress
        self.random_state = random_state

    # -- helpers ------------------------------------------------------------------------------
    def _check_params(self) -> None:
        for name in ("dropout", "input_dropout"):
            p = getattr(self, name)
            if not 0.0 <= float(p) < 1.0:
                raise ValueError(f"{name} must be in [0, 1); got {p!r}")
        for name in ("max_epochs", "batch_size", "n_samples"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)!r}")
        if any(int(h) < 1 for h in self.hidden_layer_sizes):
            raise ValueError(f"hidden_layer_sizes must be positive; got {self.hidden_layer_sizes}")

    def _threads(self) -> _TorchThreads:
        return _TorchThreads(self.n_threads)

    def _inputs(self, X: Any) -> torch.Tensor:
        check_is_fitted(self, "module_")
        X = validate_data(self, X, reset=False, dtype=np.float32)
        return torch.from_numpy((np.asarray(X, np.float32) - self.mean_) / self.scale_)

    # -- scikit-learn API ---------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> MCDropoutClassifier:
        """Train the network from scratch.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features.
        y : array-like of shape (n_samples,)
            Labels; at least two distinct values.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            On invalid parameters, non-numeric or non-finite ``X``, or fewer than two classes.
        """
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError("MCDropoutClassifier needs labels of at least two classes")
        seed = _seed_of(self.random_state)
        gen = torch.Generator().manual_seed(seed)
        X = np.asarray(X, np.float32)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        floor = 0.1 * float(std[std > 0].mean()) if (std > 0).any() else 1.0
        self.scale_ = np.maximum(std, floor).astype(np.float32)
        Xt = torch.from_numpy((X - self.mean_) / self.scale_)
        yt = torch.from_numpy(codes.astype(np.int64))
        n = Xt.shape[0]
        with self._threads():
            net = _MLP(
                Xt.shape[1],
                [int(h) for h in self.hidden_layer_sizes],
                self.classes_.size,
                self.dropout,
                self.input_dropout,
                gen,
            )
            opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
            bs = min(int(self.batch_size), n)
            steps_per_epoch = -(-n // bs)
            epochs = max(int(self.max_epochs), -(-int(self.min_steps) // steps_per_epoch))
            self.loss_curve_: list[float] = []
            net.train()
            for epoch in range(epochs):
                perm = torch.randperm(n, generator=gen)
                total = 0.0
                for s in range(0, n, bs):
                    idx = perm[s : s + bs]
                    loss = torch.nn.functional.cross_entropy(net(Xt[idx], gen), yt[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * idx.shape[0]
                self.loss_curve_.append(total / n)
                if self.progress is not None:
                    self.progress(epoch + 1, epochs, self.loss_curve_[-1])
            net.eval()
        self.module_ = net
        self.n_epochs_ = epochs
        self._mc_gen = torch.Generator().manual_seed(seed + 1)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the deterministic network (dropout off).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
            Columns in the order of ``classes_``.
        """
        Xt = self._inputs(X)
        out = np.empty((Xt.shape[0], self.classes_.size), dtype=np.float64)
        with self._threads(), torch.inference_mode():
            for s in range(0, Xt.shape[0], 65536):
                out[s : s + 65536] = torch.softmax(self.module_(Xt[s : s + 65536]), -1).numpy()
        return out

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row, shape (n_samples,), dtype of ``classes_``."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def predict_proba_samples(
        self,
        X: Any,
        n_samples: int | None = None,
        random_state: int | np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> np.ndarray:
        """Monte Carlo dropout: class probabilities from ``T`` passes with dropout on.

        Each pass draws fresh dropout masks (independently per item and pass), so the passes
        are samples of the approximate posterior predictive (Gal & Ghahramani, 2016).

        Parameters
        ----------
        X : array-like of shape (n, n_features)
        n_samples : int, optional
            Number of passes ``T``; default ``self.n_samples``.
        random_state : int, Generator or None
            Seeds the masks: the same seed gives the same samples. None continues the model's
            own generator (seeded by ``random_state`` at :meth:`fit`), so successive calls
            differ but a refit with the same seed replays them.
        dtype : numpy dtype, default=float32
            Of the result (float32 halves the memory of ``T * n * n_classes`` values).

        Returns
        -------
        samples : ndarray of shape (T, n, n_classes)
            ``samples[t]`` is pass ``t``'s ``predict_proba``; rows sum to 1.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        ValueError
            If ``n_samples < 1`` or ``X`` has the wrong number of features.
        """
        T = int(self.n_samples if n_samples is None else n_samples)
        if T < 1:
            raise ValueError(f"n_samples must be >= 1; got {n_samples}")
        Xt = self._inputs(X)
        gen = (
            self._mc_gen
            if random_state is None
            else torch.Generator().manual_seed(_seed_of(random_state))
        )
        n = Xt.shape[0]
        out = np.empty((T, n, self.classes_.size), dtype=dtype)
        chunk = max(1, 2**21 // (T * max(self.hidden_layer_sizes, default=1)))
        with self._threads(), torch.inference_mode():
            for s in range(0, n, chunk):
                logits = self.module_.sample(Xt[s : s + chunk], T, gen)
                out[:, s : s + chunk] = torch.softmax(logits, -1).numpy()
        return out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


class _TorchThreads:
    """Context manager: set PyTorch's intra-op thread count, restore it on exit."""

    def __init__(self, n: int | None) -> None:
        self.n: int | None = n
        self.old: int | None = None

    def __enter__(self) -> _TorchThreads:
        if self.n is not None:
            self.old = torch.get_num_threads()
            # Always set it, even when it reads as ``n`` already: under an OpenMP limit from
            # threadpoolctl (as ``alwidget.simulate`` applies) torch reports 1 thread yet ran
            # training steps 5-30x slower (measured 0.2 s vs 1-9 s of CPU per fit) until
            # ``set_num_threads`` was called explicitly.
            torch.set_num_threads(int(self.n))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.old is not None:
            torch.set_num_threads(self.old)
