"""The teaching panel driven without a browser: oracle, auto-play, replay, overlays, eval set."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

import alwidget
from alwidget.teaching import compare_strategies_figure, teach
from alwidget.widget.teaching import TeachingPanel


@pytest.fixture
def toy():
    X, y = make_blobs(n_samples=240, centers=3, cluster_std=1.4, random_state=1)
    X = np.vstack([X, [[16, 16], [-16, 13], [13, -15]]])  # injected outliers
    return X, np.r_[y, [0, 1, 2]]


@pytest.fixture
def lab(toy):
    X, y = toy
    return teach(
        X,
        y,
        classes=["a", "b", "c"],
        batch_size=5,
        budget=40,
        random_state=0,
        compare=("random", "margin", "least_confidence", "no_such_strategy"),
    )


def test_oracle_button_labels_retrains_and_draws_curve_and_diagnostics(lab):
    p, s = lab.panel, lab.session
    assert np.intersect1d(lab.pool_index, lab.eval_index).size == 0
    assert s.n_samples == lab.pool_index.size  # held-out rows are not in the pool
    base_y = np.asarray(p.curve.data[3].y)
    assert base_y.size > 3 and np.nanmax(base_y) > 0.8, "random baseline drawn"
    assert len(p.curve.data[0].x) == 0
    batch = s.query()
    p.oracle_button.click()
    assert s.n_labeled == 5
    truth = lab.panel.y_true
    assert s.labels.set_index("index").loc[batch.tolist(), "code"].tolist() == truth[batch].tolist()
    p.oracle_button.click()
    assert list(p.curve.data[0].x) == [5.0, 10.0]
    assert np.isfinite(p.curve.data[0].y[-1])
    newest, first = p.diagnostics  # the table shows both rounds, newest first
    assert (newest["round"], newest["labels"], first["labels"]) == ("2", "10", "5")
    assert newest["picked by"] == s.strategy.name
    assert float(newest["accuracy"]) == pytest.approx(
        p.history.rounds[-1].metrics["accuracy"], abs=5e-4
    )
    assert newest["sparsest 10 %"].endswith(" %")
    far_now, far_total = newest["far outliers"].split(" / ")  # in this batch / labeled so far
    assert int(far_now) <= 5 and int(far_total) == int((p.history.geometry.far & (s.y >= 0)).sum())
    budget = {st.name: st for st in p.stopping_status}["budget"]
    assert not budget.fired and budget.message == "10 of 40 labels used"
    # the decision regions follow the model (2-D data: the map is the data)
    z = p.widget.map.fig.data[p.boundary_trace].z
    assert z is not None and len(z) == 80


def test_auto_play_is_driven_by_play_value_and_pauses_at_budget(lab):
    p, s = lab.panel, lab.session
    p.speed.value = 300
    assert p.play.interval == 300
    p.play.playing = True
    paused = []
    for v in range(1, 14):  # what the browser's Play widget sends, tick by tick
        p.play.value = v
        if p.play.playing is False and s.n_labeled < 40:
            # a stopping criterion fired first: it paused and said so; the user plays on
            paused.append(p.oracle_note.value)
            p.play.playing = True
    assert all("stopping criterion fired" in m for m in paused)
    assert s.n_labeled == 40, "auto-play stops at the budget"
    assert p.play.playing is False
    assert {st.name: st.fired for st in p.stopping_status}["budget"] is True


def test_auto_play_pauses_when_a_criterion_fires_says_how_to_go_on_and_goes_on(toy):
    from alwidget.evaluation import StoppingMonitor
    from alwidget.stopping import Budget

    X, y = toy
    w = alwidget.label(X, classes=["a", "b", "c"], store=":memory:", batch_size=5)
    # a criterion that fires at 15 labels; the panel's own budget (auto-play's end) is 30
    p = TeachingPanel(
        w, y_true=y, baseline=False, budget=30, stopping=StoppingMonitor([Budget(15)])
    )
    p.play.playing = True
    tick = 0
    while p.play.playing and tick < 20:
        tick += 1
        p.play.value = tick  # what the browser's Play widget sends, tick by tick
    assert w.session.n_labeled == 15 and p.play.playing is False  # paused by the criterion
    assert "auto-play paused" in p.oracle_note.value and "Press ▶ to go on" in p.oracle_note.value
    p.play.playing = True  # the user presses ▶
    while p.play.playing and tick < 40:
        tick += 1
        p.play.value = tick
    assert w.session.n_labeled == 30, "it went on past the fired criterion to the budget"
    assert "done" in p.oracle_note.value
    p.close()
    w.close()


def test_replay_slider_shows_past_picks_and_uncertainty(lab):
    p, s = lab.panel, lab.session
    fig = p.widget.map.fig
    for _ in range(3):
        p.oracle_step()
    lab.widget.wait_for_model(60)
    assert p.replay.max == 3 and p.replay.value == 0
    live = np.array(fig.data[0].marker.color)
    p.replay.value = 2
    r2 = p.history.rounds[1]
    assert sorted(fig.data[p.replay_trace].customdata.tolist()) == sorted(r2.picked.tolist())
    assert np.allclose(fig.data[0].marker.color, r2.uncertainty)
    assert not np.allclose(fig.data[0].marker.color, live)
    assert "Replay of round 2" in fig.layout.title.text
    p.replay.value = 0
    assert len(fig.data[p.replay_trace].x) == 0
    assert np.allclose(fig.data[0].marker.color, s.uncertainty)
    p.oracle_step()
    assert p.replay.max == 4 and p.replay.value == 0


def test_other_strategies_overlay(lab):
    p, s = lab.panel, lab.session
    assert p.compare_names == ["random", "margin", "least_confidence"]
    assert p.unavailable == ["no_such_strategy"]
    fig = p.widget.map.fig
    p.oracle_step()
    p.compare_toggle.value = True
    picks = p.compare_picks()
    for name, ti in zip(p.compare_names, p.compare_traces, strict=True):
        assert fig.data[ti].name == f"{name}'s pick"
        assert fig.data[ti].customdata.tolist() == picks[name].tolist()
        assert len(picks[name]) == 5
        assert not np.isin(picks[name], np.flatnonzero(s.y >= 0)).any()
    assert "no_such_strategy" in p.compare_note.value
    before = s.rng.bit_generator.state
    p.compare_picks()
    assert s.rng.bit_generator.state == before, "the session's generator is untouched"
    p.compare_toggle.value = False
    assert all(len(fig.data[ti].x) == 0 for ti in p.compare_traces)


def test_map_colour_by_dispersion(lab):
    p = lab.panel
    for _ in range(3):
        p.oracle_step()
    lab.widget.wait_for_model(60)  # a model landing later would redraw the map meanwhile
    p.colour_select.value = "dispersion"
    fig = p.widget.map.fig
    assert np.allclose(fig.data[0].marker.color, p.history.dispersion.dispersion)
    assert "dispersion" in fig.layout.title.text
    p.colour_select.value = "forgetting"
    assert "forgetting" in fig.layout.title.text


def test_undo_drops_the_round(lab):
    p = lab.panel
    p.oracle_step()
    p.oracle_step()
    lab.widget.undo()
    assert len(p.history.rounds) == 1
    assert list(p.curve.data[0].x) == [5.0]


def test_real_labeling_offers_a_random_evaluation_set(toy):
    X, y = toy
    w = alwidget.label(X, classes=["a", "b", "c"], random_state=0, store=":memory:", batch_size=5)
    p = TeachingPanel(w)
    assert p.oracle_button.disabled and "no evaluation set" in p.curve.layout.title.text
    box = p.eval_box
    box.use_button.click()  # nothing labeled yet: no evaluation set, a message says why
    assert p.eval_set is None and "Label at least one" in box.message.value
    box.size.value = 12
    idx = p.draw_eval_sample()
    assert idx.size == 12 and len(box.cards) == 12
    assert not np.isin(w.session.query(), idx).any()
    for card, i in zip(box.cards, idx.tolist(), strict=True):
        card.children[-1].value = ["a", "b", "c"][y[i]]
    box.use_button.click()
    assert len(p.eval_set) == 12
    for _ in range(2):
        for i in w.session.query().tolist():
            w.choose(i, int(y[i]))
        w.submit()
        assert not np.isin(w.session.query(), idx).any(), "eval items are never queried"
    assert np.isfinite(p.curve.data[0].y[-1])
    assert (w.session.y[idx] == -1).all()


def test_compare_strategies_figure(toy):
    X, y = toy
    fig, summary = compare_strategies_figure(X, y, ("random", "entropy", "nope"), budget=20)
    assert list(summary.index) == ["random", "entropy"]
    assert "not available: nope" in fig.layout.title.text
    assert summary["labels"].tolist() == [20, 20]
    assert fig.layout.xaxis.title.text == "x1" and fig.layout.yaxis.title.text == "x2"
    # the three injected outliers are far outliers, marked on every panel and counted
    far = [t for t in fig.data if t.name == "far outlier"]
    assert len(far) == 2 and {(x, y) for x, y in zip(far[0].x, far[0].y, strict=True)} >= {
        (16.0, 16.0)
    }
    assert (summary["far_outliers_labeled"] <= len(far[0].x)).all()
    assert "far outliers labeled" in fig.layout.annotations[0].text
    with pytest.raises(ValueError):
        compare_strategies_figure(np.zeros((5, 3)), np.zeros(5))


# -- the panel draws through the map's overlay API -------------------------------------------
def test_click_and_lasso_on_would_pick_points_give_their_pool_items(lab):
    p, m = lab.panel, lab.widget.map
    p.oracle_step()
    lab.widget.wait_for_model(60)
    p.compare_toggle.value = True
    picks = p.compare_picks()
    clicked, selected = [], []
    m.on_point(clicked.append)
    m.on_select(selected.append)
    first = p.compare_overlays[0]
    m.handle_event("click", [first.trace], [2])  # raised IndexError before
    assert clicked == [int(picks[p.compare_names[0]][2])]
    # a lasso touching the pool, a "would pick" trace and the decision regions
    m.handle_event("selected", [0, first.trace, p.boundary_trace], [4, 0, 1])
    want = {int(m.shown[4]), int(picks[p.compare_names[0]][0])}
    assert selected[-1].tolist() == sorted(want)
    p.replay.value = 1
    m.handle_event("click", [p.replay_trace], [0])
    assert clicked[-1] == int(p.history.rounds[0].picked[0])


def test_map_colours_stay_on_their_items_above_the_display_cap(toy):
    X, y = toy
    lab = teach(X, y, classes=["a", "b", "c"], batch_size=5, random_state=0, max_points=100)
    p, m = lab.panel, lab.widget.map
    assert len(m.shown) == 100 < lab.session.n_samples
    for _ in range(3):
        p.oracle_step()
    lab.widget.wait_for_model(60)
    tr = m.fig.data[0]
    shown = np.asarray(tr.customdata)
    p.colour_select.value = "dispersion"
    np.testing.assert_allclose(tr.marker.color, p.history.dispersion.dispersion[shown], rtol=1e-6)
    p.colour_select.value = "uncertainty"
    np.testing.assert_allclose(tr.marker.color, lab.session.uncertainty[shown], rtol=1e-6)
    p.replay.value = 2
    np.testing.assert_allclose(tr.marker.color, p.history.rounds[1].uncertainty[shown], rtol=1e-6)


def test_a_reloaded_page_gets_the_panel_overlays_and_curve(lab):
    from test_map import late_frontend_state

    p, m = lab.panel, lab.widget.map
    for _ in range(2):
        p.oracle_step()
    lab.widget.wait_for_model(60)
    p.compare_toggle.value = True
    p.replay.value = 2
    state = late_frontend_state(m.fig)
    data = {tr["name"]: tr for tr in state["_widget_data"]}
    picks = p.compare_picks()
    for name in p.compare_names:
        assert data[f"{name}'s pick"]["customdata"].tolist() == picks[name].tolist()
    assert sorted(data["picked (replay)"]["customdata"].tolist()) == sorted(
        p.history.rounds[1].picked.tolist()
    )
    assert len(data["decision regions"]["z"]) == 80  # the model trained after round 1
    assert state["_widget_layout"]["title"]["text"].startswith("Replay of round 2")
    curve = late_frontend_state(p.curve)["_widget_data"]
    assert curve[0]["x"].tolist() == [5.0, 10.0]


def test_the_panel_never_touches_the_figure_directly():
    import inspect

    import alwidget.widget.teaching as t
    import alwidget.widget.teaching_eval as e
    import alwidget.widget.teaching_overlays as o

    for module in (t, e, o):
        src = inspect.getsource(module)
        assert "map.fig" not in src and ".add_trace(" not in src, module.__name__


def test_a_closed_panel_stops_listening(lab):
    p, w = lab.panel, lab.widget
    p.oracle_step()
    drawn = list(p.diagnostics)
    p.close()
    w.choose(int(w.batch[0]), w.session.classes[0])
    w.submit()
    assert p.diagnostics == drawn, "the closed panel no longer redraws"


def test_far_outliers_marked_and_the_outlier_filter_keeps_them_out_of_batches():
    from alwidget.teaching import outlier_toy

    X, y, injected = outlier_toy(n_samples=300, n_outliers=20, random_state=2)
    lab = teach(X, y, classes=["a", "b", "c"], strategy="entropy", batch_size=5, budget=60)
    p, s = lab.panel, lab.session
    far = p.history.geometry.far
    assert far[injected[lab.pool_index]].all()  # every injected outlier in the pool is far
    oc = p.outliers
    marked = p.widget.map._points[oc.overlay.trace]
    assert sorted(marked.tolist()) == np.flatnonzero(far).tolist()
    oc.mark.value = False
    assert p.widget.map._points[oc.overlay.trace].size == 0
    oc.mark.value = True
    for _ in range(3):
        p.oracle_step()
    assert "far outliers in the pool" in oc.note.value
    assert f"<b>{int((far & (s.y >= 0)).sum())}</b> labeled" in oc.note.value

    batch_id = s.batch.id
    oc.filter.value = True  # the user's click: a new batch, picked without the outliers
    assert s.strategy.name == "outlier_filter(entropy)" and s.batch.id != batch_id
    for _ in range(3):
        assert not far[s.query()].any()
        p.oracle_step()
    assert p.diagnostics[0]["picked by"] == "outlier_filter(entropy)"
    oc.filter.value = False
    assert s.strategy.name == "entropy"
    oc.filter.value = True
    p.widget.strategy_select.value = "margin"  # the menu replaces the wrapped strategy
    assert s.strategy.name == "margin" and oc.filter.value is False
    lab.close()


def test_the_live_curve_marks_strategy_switches(lab):
    p, s = lab.panel, lab.session
    for _ in range(2):
        p.oracle_step()
    assert len(p.curve.layout.shapes) == 0  # the end of the cold start is not a switch
    s.set_strategy("margin")
    p.oracle_step()
    p.oracle_step()
    (line,) = p.curve.layout.shapes
    (note,) = p.curve.layout.annotations
    assert line.x0 == line.x1 == 10  # margin picked the batch after the 10th label
    assert note.text == "→ margin"


def test_each_card_says_why_it_was_picked(lab):
    from alwidget.explain import PickExplainer

    p, s, w = lab.panel, lab.session, lab.widget
    p.oracle_step()
    p.oracle_step()
    cards = w.view.cards
    assert len(cards) == 5 and all(c["why"] for c in cards)
    whys = PickExplainer(s, compare=["margin", "least_confidence"]).explain()
    for card, why in zip(cards, whys, strict=True):
        assert card["index"] == why.index
        # the probabilities on the card are the model's, most likely first
        top = s.proba[why.index].argsort()[::-1][:2]
        assert card["why"].startswith(f"p {s.classes[top[0]]} ")
        assert why.proba[0][1] == pytest.approx(s.proba[why.index, top[0]])
        # distance to the nearest label, recomputed by hand
        lab_X = s.X[s.y >= 0]
        assert why.nearest_label == pytest.approx(
            np.linalg.norm(lab_X - s.X[why.index], axis=1).min()
        )
        assert 0 <= why.density_percentile <= 100
        details = card["why_details"]
        assert f"rank {why.rank} of 5" in details and "rank under margin: " in details
        assert "rank under least_confidence: " in details
    # the strategy here is entropy: its first pick is margin's top few, never its last
    assert whys[0].ranks["margin"] <= 50
    # the injected outliers of the toy are in the sparsest percentiles
    far = np.flatnonzero(np.isin(lab.pool_index, [240, 241, 242]))
    assert far.size == 2  # two of the three are in this pool (the third is held out)
    assert all(w_.density_percentile < 5 for w_ in PickExplainer(s).explain(far))


def test_acquisition_score_contour_over_the_2d_plane(lab):
    p, s = lab.panel, lab.session
    lines = p.layers.score_lines
    assert (
        p.widget.map.fig.data[lines.trace].z is None
        or len(p.widget.map.fig.data[lines.trace].z) == 0
    )
    p.oracle_step()
    p.oracle_step()
    tr = p.widget.map.fig.data[lines.trace]
    z = np.asarray(tr.z, dtype=float)
    assert z.shape == (80, 80) and tr.contours.coloring == "lines"
    # the contour is the strategy's uncertainty of the current model at each grid point
    gx, gy = np.asarray(tr.x), np.asarray(tr.y)
    pt = np.array([[gx[10], gy[20]]])
    proba = np.zeros((1, 3))
    proba[:, s.model.classes_] = s.model.predict_proba(pt)
    assert z[20, 10] == pytest.approx(float(s.strategy.uncertainty(proba)[0]), abs=2e-3)
    # a replayed round shows the contour of the model that picked it (round 1: none, cold start)
    p.replay_round(1)
    assert len(p.widget.map.fig.data[lines.trace].z) == 0
    p.replay_round(2)
    z1 = np.asarray(p.widget.map.fig.data[lines.trace].z, dtype=float)
    assert z1.shape == (80, 80) and not np.allclose(z1, z)
