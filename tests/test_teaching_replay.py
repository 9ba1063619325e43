"""Replay is a snapshot (issue 13): round r shows only what existed when its batch was picked
(labels, batch, the model's uncertainty then), and going back to live restores the live view,
"last labeled" marks included."""

import numpy as np
from sklearn.datasets import make_blobs

import alwidget
from alwidget.widget.teaching import TeachingPanel


def _drawn(w, overlay):
    return np.sort(w.map._points.get(overlay.trace, np.empty(0, np.int64)))


def _labeled_drawn(w):
    return np.sort(np.concatenate([_drawn(w, o) for o in w.map.class_overlays]))


def test_replay_shows_round_r_as_it_was_and_live_comes_back():
    X, y = make_blobs(240, centers=[[-5, 0], [5, 0], [0, 6]], cluster_std=1.2, random_state=0)
    w = alwidget.label(X, classes=["a", "b", "c"], store=":memory:", batch_size=5, background=False)
    panel = TeachingPanel(w, y_true=y, baseline=False)
    for _ in range(5):
        panel.oracle_step()
    rounds = panel.history.rounds
    assert len(rounds) == 5
    live_labeled = _labeled_drawn(w)
    live_last = _drawn(w, w.map.last_overlay)
    assert live_labeled.size == 25 and live_last.size == 5

    panel.replay_round(2)
    r2, r1 = rounds[1], rounds[0]
    labeled_then = np.flatnonzero(r2.labels_before >= 0)
    assert labeled_then.size == 5  # only round 1's labels existed when round 2 was picked
    np.testing.assert_array_equal(_labeled_drawn(w), labeled_then)
    np.testing.assert_array_equal(_drawn(w, w.map.batch_overlay), np.sort(r2.picked))
    np.testing.assert_array_equal(_drawn(w, w.map.last_overlay), np.sort(r1.picked))
    colour = np.asarray(w.map.fig.data[0].marker.color, dtype=np.float32)
    np.testing.assert_allclose(colour, r2.uncertainty[w.map.shown], rtol=1e-6)
    assert (
        w.map.fig.data[0].marker.colorbar.title.text
        == "uncertainty of round 2's model, high = unsure"
    )
    assert "5 labels then" in w.map.fig.layout.title.text

    panel.replay_round(0)  # live again: everything as before the replay
    np.testing.assert_array_equal(_labeled_drawn(w), live_labeled)
    np.testing.assert_array_equal(_drawn(w, w.map.last_overlay), live_last)
    np.testing.assert_array_equal(_drawn(w, w.map.batch_overlay), np.sort(w.batch))
    np.testing.assert_allclose(
        np.asarray(w.map.fig.data[0].marker.color, dtype=np.float32),
        w.session.uncertainty[w.map.shown],
        rtol=1e-6,
    )
    panel.close()
    w.close()
