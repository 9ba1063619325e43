"""Deep strategies: MC-dropout network, BALD/BatchBALD, VAAL (marker ``deep``; needs torch)."""

import dataclasses
import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, make_blobs  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from alwidget import Session  # noqa: E402
from alwidget.models import MCDropoutClassifier  # noqa: E402
from alwidget.strategies import QueryContext, get_strategy  # noqa: E402
from alwidget.strategies.deep import (  # noqa: E402
    DEEP_STRATEGIES,
    batchbald_select,
    joint_mutual_information,
    mc_entropy,
    mc_samples,
    mean_std,
    mutual_information,
    vaal_scores,
    variation_ratios,
)

pytestmark = pytest.mark.deep
DEEP = list(DEEP_STRATEGIES)
FAST = dict(max_epochs=30, min_steps=60, hidden_layer_sizes=(32,))


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]


@pytest.fixture(scope="module")
def fitted(digits):
    X, y = digits
    return MCDropoutClassifier(random_state=0, **FAST).fit(X[:200], y[:200])


def H(p):
    p = np.asarray(p, float)
    return -sum(v * np.log(v) for v in p if v > 0)


# -- score functions on hand-made samples ----------------------------------------------------
S_HAND = np.array(
    [
        [[0.9, 0.1], [0.5, 0.5], [1.0, 0.0]],
        [[0.1, 0.9], [0.5, 0.5], [1.0, 0.0]],
        [[0.6, 0.4], [0.3, 0.7], [1.0, 0.0]],
    ]
)  # T=3 passes, n=3 items, C=2


def test_bald_equals_its_formula():
    for i in range(3):
        ps = S_HAND[:, i]
        expected = H(ps.mean(0)) - np.mean([H(p) for p in ps])
        assert mutual_information(S_HAND)[i] == pytest.approx(expected, abs=1e-12)
    # item 0: passes disagree (high BALD); item 2: all certain (0)
    assert mutual_information(S_HAND)[2] == 0.0
    assert mutual_information(S_HAND)[0] > mutual_information(S_HAND)[1]


def test_mc_entropy_variation_ratios_mean_std_formulas():
    np.testing.assert_allclose(mc_entropy(S_HAND), [H(S_HAND[:, i].mean(0)) for i in range(3)])
    # votes: item 0 -> 0,1,0 ; item 1 -> tie 0 (argmax first), 0, 1 ; item 2 -> 0,0,0
    np.testing.assert_allclose(variation_ratios(S_HAND), [1 / 3, 1 / 3, 0.0])
    np.testing.assert_allclose(mean_std(S_HAND), [S_HAND[:, i].std(0).mean() for i in range(3)])


def test_scores_reject_non_3d_samples():
    with pytest.raises(ValueError, match=r"\(T, n_samples, n_classes\)"):
        mutual_information(np.ones((3, 2)))


def brute_batch_mi(S, batch):
    """I[y_batch; w] by enumerating all label configurations (independent reference)."""
    T, _, C = S.shape
    joint = []
    for ys in itertools.product(range(C), repeat=len(batch)):
        joint.append(
            np.mean(
                [np.prod([S[t, i, y] for i, y in zip(batch, ys, strict=True)]) for t in range(T)]
            )
        )
    cond = sum(np.mean([H(S[t, i]) for t in range(T)]) for i in batch)
    return H(joint) - cond


def test_batchbald_batch_of_one_equals_bald():
    S = np.random.default_rng(1).dirichlet(np.ones(4) * 0.5, size=(10, 50))
    pos, gains = batchbald_select(S, 1, rng=0)
    bald = mutual_information(S)
    assert pos[0] == np.argmax(bald)
    assert gains[0] == pytest.approx(bald.max(), abs=1e-12)


def test_batchbald_exact_matches_full_greedy_and_enumeration():
    S = np.random.default_rng(2).dirichlet(np.ones(3) * 0.3, size=(6, 25))
    pos, gains = batchbald_select(S, 3, rng=0, block_size=4)  # lazy, small blocks
    # value of the batch = sum of gains = brute-force joint MI
    assert gains.sum() == pytest.approx(brute_batch_mi(S, pos), abs=1e-10)
    assert joint_mutual_information(S, pos) == pytest.approx(brute_batch_mi(S, pos), abs=1e-10)
    # each pick is the full greedy argmax (no lazy shortcut changed it)
    chosen = []
    for p in pos:
        vals = [
            -np.inf if i in chosen else joint_mutual_information(S, [*chosen, i]) for i in range(25)
        ]
        assert p == int(np.argmax(vals))
        chosen.append(int(p))


def test_batchbald_avoids_duplicates_that_bald_picks():
    rng = np.random.default_rng(3)
    base = rng.dirichlet(np.ones(3) * 0.3, size=(20, 1))
    S = np.concatenate(
        [
            np.repeat(base, 4, axis=1),
            rng.dirichlet(np.ones(3), size=(20, 6)) * 0.2
            + 0.8 * rng.dirichlet(np.ones(3) * 0.3, size=(20, 6)),
        ],
        axis=1,
    )
    # items 0-3 are identical and the most informative: BALD would take several of them
    assert set(np.argsort(-mutual_information(S))[:2]) <= {0, 1, 2, 3}
    pos, _ = batchbald_select(S, 3, rng=0)
    assert len(set(pos.tolist()) & {0, 1, 2, 3}) == 1


def test_batchbald_sampled_configurations_approximate_exact():
    S = np.random.default_rng(4).dirichlet(np.ones(10) * 0.5, size=(12, 40))
    exact_pos, _ = batchbald_select(S, 5, n_configurations=10**6, rng=0)
    v_exact = joint_mutual_information(S, exact_pos)
    # 10 classes: 1000 configurations after 3 picks (exact), 10**4 > 1000 after 4 (sampled)
    pos, gains = batchbald_select(S, 5, n_configurations=1000, rng=0)
    assert len(set(pos.tolist())) == 5
    assert joint_mutual_information(S, pos) >= 0.97 * v_exact
    assert gains.sum() == pytest.approx(joint_mutual_information(S, pos), rel=0.05)


# -- the network -------------------------------------------------------------------------------
def test_network_learns_digits(digits):
    X, y = digits
    m = MCDropoutClassifier(random_state=0).fit(X[:200], y[:200])  # the defaults
    assert (m.predict(X[200:]) == y[200:]).mean() > 0.75  # logistic regression: 0.83
    P = m.predict_proba(X[200:])
    assert P.shape == (400, 10) and np.allclose(P.sum(1), 1)


def test_mc_samples_differ_across_passes_and_are_seeded(digits, fitted):
    X, _ = digits
    S1 = fitted.predict_proba_samples(X[:50], n_samples=8, random_state=5)
    assert S1.shape == (8, 50, 10) and np.allclose(S1.sum(-1), 1, atol=1e-5)
    assert np.abs(S1[0] - S1[1]).max() > 1e-3  # dropout is on
    np.testing.assert_array_equal(S1, fitted.predict_proba_samples(X[:50], 8, random_state=5))
    assert not np.array_equal(S1, fitted.predict_proba_samples(X[:50], 8, random_state=6))
    # the same seed and data give the same network and the same default-seeded samples
    a = MCDropoutClassifier(random_state=3, **FAST).fit(X[:100], digits[1][:100])
    b = MCDropoutClassifier(random_state=3, **FAST).fit(X[:100], digits[1][:100])
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.predict_proba_samples(X[:20]), b.predict_proba_samples(X[:20]))


def test_clone_and_params(fitted):
    c = clone(fitted)
    assert c.get_params() == fitted.get_params() and not hasattr(c, "module_")
    c.set_params(dropout=0.2, hidden_layer_sizes=(16, 16))
    assert c.dropout == 0.2


def test_fitted_model_pickles(digits, fitted):
    import pickle

    X, _ = digits
    m = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(m.predict_proba(X[:30]), fitted.predict_proba(X[:30]))
    np.testing.assert_array_equal(
        m.predict_proba_samples(X[:30], 4, random_state=1),
        fitted.predict_proba_samples(X[:30], 4, random_state=1),
    )


def test_string_labels_and_progress_callback():
    X, y = make_blobs(60, centers=3, random_state=0)
    names = np.array(["cat", "dog", "eel"])[y]
    seen = []
    m = MCDropoutClassifier(random_state=0, progress=lambda e, n, loss: seen.append((e, n)), **FAST)
    m.fit(X, names)
    assert list(m.classes_) == ["cat", "dog", "eel"]
    assert set(m.predict(X)) <= {"cat", "dog", "eel"}
    assert seen[0] == (1, m.n_epochs_) and seen[-1] == (m.n_epochs_, m.n_epochs_)


def test_bad_params_and_inputs_raise():
    X, y = make_blobs(30, centers=2, random_state=0)
    with pytest.raises(ValueError, match="dropout"):
        MCDropoutClassifier(dropout=1.0).fit(X, y)
    with pytest.raises(ValueError, match="two classes"):
        MCDropoutClassifier().fit(X, np.zeros(30))
    m = MCDropoutClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict_proba_samples(X[:, :1])


# -- strategies in a QueryContext ----------------------------------------------------------------
def ctx_for(digits, fitted, candidates=None, seed=0):
    X, y = digits
    labels = np.full(len(X), -1)
    labels[:200] = y[:200]
    cand = np.flatnonzero(labels < 0) if candidates is None else candidates
    return QueryContext(
        X=X,
        labels=labels,
        candidates=cand,
        proba=fitted.predict_proba(X),
        model=fitted,
        estimator=MCDropoutClassifier(**FAST),
        n_classes=10,
        rng=np.random.default_rng(seed),
    )


def make(name):
    return get_strategy(name) if name != "vaal" else get_strategy("vaal").__class__(n_steps=100)


@pytest.mark.parametrize("name", DEEP)
def test_batch_contract_and_determinism(digits, fitted, name):
    ctx = ctx_for(digits, fitted)
    idx, sc = make(name).query(ctx, 7)
    assert idx.dtype == np.int64 and idx.shape == (7,) and sc.shape == (7,)
    assert len(set(idx.tolist())) == 7 and np.isin(idx, ctx.candidates).all()
    idx2, sc2 = make(name).query(ctx_for(digits, fitted), 7)
    np.testing.assert_array_equal(idx, idx2)
    np.testing.assert_allclose(sc, sc2)
    sub = ctx.candidates[::7]
    idx3, _ = make(name).query(ctx_for(digits, fitted, sub, seed=1), 5)
    assert np.isin(idx3, sub).all() and len(set(idx3.tolist())) == 5
    idx4, _ = make(name).query(ctx_for(digits, fitted, sub[:3]), 5)  # more asked than there are
    assert sorted(idx4.tolist()) == sorted(sub[:3].tolist())


@pytest.mark.parametrize("name", ["mc_bald", "batchbald"])
def test_bald_picks_follow_mutual_information(digits, fitted, name):
    ctx = ctx_for(digits, fitted)
    idx, sc = make(name).query(ctx, 5)
    S = mc_samples(fitted, digits[0][ctx.candidates], 10, 200, random_state=1)
    mi = mutual_information(S)
    # the picks are far above the median candidate by an independent (larger) MC estimate
    assert np.median(mi[np.searchsorted(ctx.candidates, idx)]) > np.quantile(mi, 0.9)


@pytest.mark.parametrize("name", ["mc_bald", "batchbald", "mc_entropy"])
def test_needs_mc_dropout_model(digits, name):
    X, y = digits
    lr = LogisticRegression(max_iter=300).fit(X[:200], y[:200])
    ctx = dataclasses.replace(
        ctx_for(digits, MCDropoutClassifier(**FAST).fit(X[:50], y[:50])), model=lr
    )
    with pytest.raises(TypeError, match="MCDropoutClassifier"):
        make(name).query(ctx, 3)


def test_works_with_a_pipeline_and_missing_classes(digits):
    X, y = digits
    keep = y[:200] < 5  # the model saw classes 0-4 of 10
    pipe = make_pipeline(StandardScaler(), MCDropoutClassifier(random_state=0, **FAST))
    pipe.fit(X[:200][keep], y[:200][keep])
    S = mc_samples(pipe, X[200:260], 10, 6, random_state=0)
    assert S.shape == (6, 60, 10) and (S[:, :, 5:] == 0).all()
    ctx = dataclasses.replace(ctx_for(digits, pipe[-1]), model=pipe)
    idx, _ = make("batchbald").query(ctx, 4)
    assert len(set(idx.tolist())) == 4


# -- VAAL ----------------------------------------------------------------------------------------
def test_vaal_discriminator_separates_labeled_from_unlabeled_blob():
    X, blob = make_blobs(
        300, n_features=6, centers=[[0] * 6, [6] * 6], cluster_std=1.0, random_state=0
    )
    labeled = blob == 0  # blob 0 is labeled, blob 1 unlabeled
    d = vaal_scores(X, labeled, n_steps=300, random_state=0, return_discriminator=True)
    assert roc_auc_score(labeled, d) > 0.95
    assert d[labeled].mean() > d[~labeled].mean() + 0.3


def test_vaal_picks_the_unrepresented_region():
    X, blob = make_blobs(400, n_features=5, centers=[[0] * 5, [6] * 5], random_state=1)
    labels = np.full(400, -1)
    lab = np.flatnonzero(blob == 0)[:60]  # labeled items only in blob 0
    labels[lab] = 0
    ctx = QueryContext(
        X=X,
        labels=labels,
        candidates=np.flatnonzero(labels < 0),
        proba=None,
        model=None,
        estimator=None,
        n_classes=2,
        rng=np.random.default_rng(0),
    )
    idx, _ = get_strategy("vaal").query(ctx, 10)
    assert (blob[idx] == 1).mean() >= 0.9


def test_vaal_without_labels_is_uniform_and_valid():
    X, _ = make_blobs(50, random_state=0)
    ctx = QueryContext(
        X=X,
        labels=np.full(50, -1),
        candidates=np.arange(50),
        proba=None,
        model=None,
        estimator=None,
        n_classes=2,
        rng=np.random.default_rng(0),
    )
    idx, _ = get_strategy("vaal").query(ctx, 5)
    assert len(set(idx.tolist())) == 5


# -- the product loop ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", DEEP)
def test_session_loop_on_digits(digits, name):
    X, y = digits
    est = MCDropoutClassifier(random_state=0, **FAST)
    s = Session(
        X,
        classes=[str(c) for c in range(10)],
        estimator=est,
        strategy=make(name),
        batch_size=10,
        store=":memory:",
        random_state=0,
    )
    for _ in range(4):
        s.submit({int(i): str(y[i]) for i in s.query()})
    assert s.batch.strategy == name and not s.batch.cold_start
    q = s.query()
    assert len(set(q.tolist())) == 10 and (s.y[q] < 0).all()
    assert not hasattr(est, "module_"), "the user's estimator was fitted in place"


def test_importing_alwidget_does_not_import_torch():
    code = (
        "import sys, alwidget, alwidget.strategies, alwidget.widget; "
        "assert 'torch' not in sys.modules, 'torch imported'; "
        "import alwidget.strategies.deep; assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_torch_gives_install_hint(tmp_path):
    fake = tmp_path / "torch"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named torch')\n")
    code = (
        "from alwidget.strategies import get_strategy\n"
        "try:\n    get_strategy('mc_bald')\nexcept ImportError as e:\n"
        "    assert 'alwidget[deep]' in str(e) and '2.13.0' in str(e), e\n"
        "else:\n    raise SystemExit('no ImportError')\n"
        "try:\n    import alwidget.models\nexcept ImportError as e:\n"
        "    assert 'alwidget[deep]' in str(e), e\n"
        "else:\n    raise SystemExit('no ImportError from alwidget.models')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_session_fit_reports_progress(digits):
    X, y = digits
    calls = []
    est = MCDropoutClassifier(random_state=0, progress=lambda e, n, loss: calls.append(e), **FAST)
    s = Session(
        X,
        classes=[str(c) for c in range(10)],
        estimator=est,
        strategy="mc_bald",
        batch_size=20,
        store=":memory:",
        random_state=0,
    )
    s.submit({int(i): str(y[i]) for i in s.query()})
    assert calls and calls[-1] == s.model.n_epochs_  # the session's clone kept the callback
    u = get_strategy("mc_bald").model_uncertainty(s.model, X, 10)
    assert u.shape == (len(X),) and u.dtype == np.float32 and 0 <= u.min() and u.max() <= 1
    S = mc_samples(s.model, X, 10, None, random_state=0)
    np.testing.assert_allclose(u, mutual_information(S) / np.log(10), rtol=1e-5, atol=1e-7)


def test_session_colours_by_mc_mutual_information_and_reports_epochs():
    """The map colour under mc_bald is the model's MC mutual information, and the status line
    can follow training epoch by epoch (Session.fit_progress)."""
    d = load_digits()
    X, y = d.data[:400], d.target[:400]
    est = MCDropoutClassifier(max_epochs=5, min_steps=0, random_state=0)
    s = Session(
        X,
        classes=[str(c) for c in range(10)],
        estimator=est,
        strategy="mc_bald",
        store=":memory:",
        random_state=0,
    )
    steps = []
    s.observe(lambda e: steps.append(s.fit_progress), names="fit_progress")
    s.import_labels({i: int(y[i]) for i in range(60)})
    assert steps and steps[-1][0] == steps[-1][1], "every epoch reported"
    u = s.uncertainty
    want = get_strategy("mc_bald").model_uncertainty(s.model, X, 10)
    np.testing.assert_allclose(u, want, rtol=1e-5)
    assert u.dtype == np.float32 and s.uncertainty is u, "computed once per model"
    s.set_strategy("margin")
    assert not np.allclose(s.uncertainty, u), "margin colours by the probabilities"


def test_deep_strategies_in_the_widget_on_digits():
    """The extra installed: pick mc_bald in the widget's selector on digits, label by the
    browser's messages, the status follows the training, the map colours by MC mutual
    information."""
    import alwidget

    d = load_digits()
    w = alwidget.label(
        d.data,
        items=d.images,
        classes=[str(c) for c in range(10)],
        estimator=MCDropoutClassifier(max_epochs=5, min_steps=0, random_state=0),
        random_state=0,
        store=":memory:",
        sync_wait=5.0,
    )
    assert "mc_bald" in w.strategy_select.options

    def act(action, **fields):
        msg = {"type": "action", "action": action, "batch_id": w.view.batch_id, "seq": 1}
        msg.update(fields)
        w.view._handle(w.view, msg, [])

    for _ in range(2):
        for c in w.view.cards:
            act("choose", index=c["index"], code=int(d.target[c["index"]]))
        act("submit")
        assert w.wait_for_model(60)
    w.strategy_select.value = "mc_bald"
    s = w.session
    assert s.strategy.name == "mc_bald" and s.batch.strategy == "mc_bald"
    np.testing.assert_allclose(
        w.map.fig.data[0].marker.color, s.uncertainty[w.map.shown], rtol=1e-6
    )
    before = s.n_labeled
    for c in w.view.cards:
        act("choose", index=c["index"], code=int(d.target[c["index"]]))
    act("submit")
    assert w.wait_for_model(60) and s.n_labeled == before + 10 and not w.view.error
    w.close()
