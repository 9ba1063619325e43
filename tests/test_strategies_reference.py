"""Agreement with scikit-activeml and modAL on the same fitted models (marker ``reference``)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from alwidget.strategies import (
    QueryContext,
    badge_select,
    committee_proba,
    committee_votes,
    consensus_kl,
    covering_radius,
    fit_committee,
    get_strategy,
    k_center_greedy,
    vote_entropy,
)

pytestmark = pytest.mark.reference
skpool = pytest.importorskip("skactiveml.pool")
skclf = pytest.importorskip("skactiveml.classifier")


@pytest.fixture(scope="module")
def setup():
    X, y = make_classification(
        600, 10, n_informative=6, n_classes=4, n_clusters_per_class=1, random_state=1
    )
    labels = np.full(600, -1)
    lab = np.random.default_rng(1).choice(600, 50, replace=False)
    labels[lab] = y[lab]
    clf = skclf.SklearnClassifier(
        LogisticRegression(max_iter=500), classes=np.arange(4), missing_label=-1
    ).fit(X, labels)
    return X, labels, clf


@pytest.mark.parametrize(
    "ours, theirs",
    [
        ("least_confidence", "least_confident"),
        ("margin", "margin_sampling"),
        ("entropy", "entropy"),
    ],
)
def test_uncertainty_top_k_equals_skactiveml(setup, ours, theirs):
    X, labels, clf = setup
    P = clf.predict_proba(X)
    cand = np.flatnonzero(labels < 0)
    ctx = QueryContext(X, labels, cand, P, clf, None, 4, np.random.default_rng(0))
    idx, _ = get_strategy(ours).query(ctx, 10)
    ref = skpool.UncertaintySampling(method=theirs, missing_label=-1, random_state=0).query(
        X, labels, clf, fit_clf=False, batch_size=10
    )
    assert set(idx.tolist()) == set(np.asarray(ref).tolist())


def test_uncertainty_top_k_equals_modal(setup):
    modal = pytest.importorskip("modAL.uncertainty")
    X, labels, clf = setup
    P = clf.predict_proba(X)
    cand = np.flatnonzero(labels < 0)
    ctx = QueryContext(X, labels, cand, P, clf, None, 4, np.random.default_rng(0))
    for name, fn in [
        ("least_confidence", modal.classifier_uncertainty),
        ("margin", modal.classifier_margin),
        ("entropy", modal.classifier_entropy),
    ]:
        ours = get_strategy(name).query(ctx, 10)[0]
        s = fn(clf, X[cand])
        s = -s if name == "margin" else s  # modAL's margin: small = informative
        ref = cand[np.argsort(-s)[:10]]
        assert set(ours.tolist()) == set(ref.tolist())


def test_committee_scores_equal_skactiveml(setup):
    X, labels, _ = setup
    lab = labels >= 0
    members = fit_committee(
        LogisticRegression(max_iter=500), X[lab], labels[lab], 5, random_state=0
    )
    M = committee_proba(members, X, 4)
    votes = committee_votes(M)
    np.testing.assert_allclose(vote_entropy(votes, 4), skpool.vote_entropy(votes, np.arange(4)))
    np.testing.assert_allclose(consensus_kl(M), skpool.average_kl_divergence(M.copy()), atol=1e-5)


def test_qbc_same_picks_as_skactiveml_on_the_same_committee(setup):
    X, labels, _ = setup
    # one committee for both sides, fitted through scikit-activeml's own public API (members
    # differ by regularisation); ours scores the very same fitted estimators
    ens = [
        skclf.SklearnClassifier(
            LogisticRegression(C=c, max_iter=500), classes=np.arange(4), missing_label=-1
        ).fit(X, labels)
        for c in (0.01, 0.1, 1.0, 10.0, 100.0)
    ]
    members = [e.estimator_ for e in ens]
    cand = np.flatnonzero(labels < 0)
    M = committee_proba(members, X[cand], 4)
    ours = cand[np.argsort(-consensus_kl(M))[:10]]
    ref = skpool.QueryByCommittee(method="KL_divergence", missing_label=-1, random_state=0).query(
        X, labels, ens, fit_ensemble=False, batch_size=10
    )
    assert set(ours.tolist()) == set(np.asarray(ref).tolist())


def test_k_center_same_covering_radius_or_better(setup):
    X, labels, _ = setup
    lab = np.flatnonzero(labels >= 0)
    cand = np.flatnonzero(labels < 0)
    pos, _ = k_center_greedy(X[cand], 15, X[lab])
    ref = skpool.CoreSet(missing_label=-1, random_state=0).query(X, labels, batch_size=15)
    ours_r = covering_radius(X, X[np.r_[lab, cand[pos]]])
    ref_r = covering_radius(X, X[np.r_[lab, np.asarray(ref)]])
    assert ours_r <= ref_r + 1e-6


def _kmeans_cost(G, picks):
    d = ((G[:, None, :] - G[picks][None]) ** 2).sum(-1)
    return d.min(1).sum()


def test_badge_first_pick_equals_skactiveml_and_seeding_is_tighter(setup):
    """Both start at the largest gradient norm. After that the seedings differ on purpose:
    ours is the paper's k-means++ (D^2 to the chosen gradient embeddings); scikit-activeml
    starts D^2 at ``||g||^2`` (the origin acts as a centre), which favours large gradients.
    On this data ours gives a lower k-means cost on the embeddings (measured about half of
    scikit-activeml's); the test asserts ours is not higher, not that the two are close."""
    X, labels, clf = setup
    cand = np.flatnonzero(labels < 0)
    P = clf.predict_proba(X[cand])
    G = ((P - np.eye(4)[P.argmax(1)])[:, :, None] * X[cand][:, None, :]).reshape(len(cand), -1)
    ours, theirs = [], []
    for seed in range(12):
        pos, _ = badge_select(P, X[cand], 10, seed)
        ours.append(_kmeans_cost(G, pos))
        ref = skpool.Badge(missing_label=-1, random_state=seed).query(
            X, labels, clf, fit_clf=False, batch_size=10
        )
        theirs.append(_kmeans_cost(G, np.searchsorted(cand, np.asarray(ref))))
        assert pos[0] == np.searchsorted(cand, np.asarray(ref)[0])  # both: largest gradient
    assert np.mean(ours) < np.mean(theirs)
