"""The widget driven without a browser: clicks, values and set_state, as a user's front end would."""

import ipywidgets as W
import numpy as np
import pytest

import alwidget
from alwidget.widget.renderers import render_item


@pytest.fixture
def widget(digits, classes10):
    return alwidget.label(
        digits.data, items=digits.images, classes=classes10, random_state=0, store=":memory:"
    )


def press(w, key):
    # exactly what the front end sends on a key press inside the widget
    w.keyboard._handle_custom_msg({"type": "key", "key": key}, [])


def test_click_labels_and_submit_retrains_and_recolours(widget, digits):
    w = widget
    s = w.session
    assert len(w.cards) == 10 and s.cold
    colour0 = np.array(w.map.fig.data[0].marker.color)
    batch0 = w.batch
    for idx in batch0:
        w.card_buttons[int(idx)].value = str(digits.target[idx])  # a click on the class button
    w.submit_button.click()
    assert s.n_labeled == 10
    assert s.labels.set_index("index").loc[batch0.tolist(), "code"].tolist() == digits.target[batch0].tolist()
    assert not s.cold and s.model_version == 10, "the model retrained"
    assert not set(w.batch) & set(batch0), "the batch changed"
    assert [int(i) for i in w.card_buttons] == w.batch.tolist(), "the cards show the new batch"
    colour1 = w.map.fig.data[0].marker.color
    assert isinstance(colour1, np.ndarray) and colour1.dtype == np.float32
    assert colour1.shape == (1797,)
    assert not np.array_equal(colour0, colour1), "the map recoloured"
    # overlays: labeled points by class, the batch highlighted
    n_overlay = sum(len(w.map.fig.data[1 + c].x) for c in range(10))
    assert n_overlay == 10
    assert len(w.map.fig.data[-1].x) == 10
    assert "10</b> labeled" in w.status.value and "round 1" in w.status.value


def test_partial_submit_and_empty_submit(widget, digits):
    w = widget
    w.submit_button.click()
    assert "Pick a class" in w.error.value and w.session.n_labeled == 0
    first = int(w.batch[0])
    w.card_buttons[first].value = "3"
    w.submit_button.click()
    assert w.session.labels["index"].tolist() == [first]


def test_keyboard_labels_cards_in_order_and_enter_submits(widget):
    w = widget
    batch = w.batch
    press(w, "4")
    press(w, "2")
    assert w.card_buttons[int(batch[0])].value == "4"
    assert w.card_buttons[int(batch[1])].value == "2"
    assert "alw-current" in w.cards[2]._dom_classes
    press(w, "ArrowLeft")
    assert "alw-current" in w.cards[1]._dom_classes
    press(w, "Enter")
    lab = w.session.labels.set_index("index")["label"]
    assert lab.to_dict() == {int(batch[0]): "4", int(batch[1]): "2"}
    press(w, "u")  # undo puts the labels back on the cards
    assert w.session.n_labeled == 0
    assert w.card_buttons[int(batch[0])].value == "4"


def test_undo_and_skip_buttons(widget, digits):
    w = widget
    b = w.batch
    w._skip_buttons[int(b[0])].click()
    assert int(b[0]) not in w.batch, "skipped: no longer open"
    assert list(w.card_buttons) == b.tolist() and len(w.cards) == 10, "the card stays in place"
    for idx in w.batch:
        w.choose(int(idx), int(digits.target[idx]))
    w.submit_button.click()
    assert w.session.n_labeled == 9
    w.undo_button.click()
    assert w.session.n_labeled == 0
    assert set(w.batch) == set(b[1:])
    w.undo_button.click()
    assert "Nothing to undo" in w.error.value


def test_strategy_selector_changes_strategy(widget, digits):
    w = widget
    for idx in w.batch:
        w.choose(int(idx), int(digits.target[idx]))
    w.submit_button.click()
    assert "margin" in w.strategy_select.options
    w.strategy_select.value = "margin"
    assert w.session.strategy.name == "margin" and w.session.batch.strategy == "margin"
    assert "margin" in w.map.fig.layout.title.text
    assert w.map.fig.data[0].marker.colorbar.title.text == "margin"


def test_cold_start_is_said(widget):
    assert "cold start" in widget.status.value


def test_items_length_mismatch(digits, classes10):
    s = alwidget.Session(digits.data, classes=classes10, store=":memory:")
    with pytest.raises(ValueError, match="items has 5 entries"):
        alwidget.LabelingWidget(s, digits.images[:5])


def test_text_is_rendered_as_text_not_html():
    w = render_item("<img src=x onerror=alert(1)> & <script>x()</script>")
    assert isinstance(w, W.HTML)
    assert "<img" not in w.value and "&lt;img src=x" in w.value and "&lt;script&gt;" in w.value


def test_image_and_row_renderers(digits):
    img = render_item(digits.images[0])
    assert isinstance(img, W.Image) and img.value[:4] == b"\x89PNG"
    row = render_item({"age": 3.14159, "name": "<b>x</b>"})
    assert "3.142" in row.value and "&lt;b&gt;" in row.value


def test_map_has_title_axes_legend_colourbar(widget):
    fig = widget.map.fig
    assert fig.layout.title.text and "colour" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "PCA 1" and fig.layout.yaxis.title.text == "PCA 2"
    assert fig.data[0].type == "scattergl"
    assert fig.data[0].marker.cmin == 0 and fig.data[0].marker.cmax == 1
    assert fig.data[0].marker.colorbar.title.text
    names = [t.name for t in fig.data]
    assert "current batch" in names and "labeled: 0" in names


def _points_event(w, event, trace_indexes, point_indexes):
    """Exactly what the front end sends for a map click or a box / lasso selection."""
    w.keyboard._handle_custom_msg(
        {"type": event, "traces": list(trace_indexes), "points": list(point_indexes)}, [])


def _select(w, indices):
    pos = [int(np.flatnonzero(w.map.shown == i)[0]) for i in indices]
    _points_event(w, "selected", [0] * len(pos), pos)


def _click(w, trace, point):
    _points_event(w, "click", [trace], [point])


def test_map_lasso_bulk_label_with_confirmation(widget, digits):
    w = widget
    pick = np.flatnonzero(digits.target == 3)[:25]
    _select(w, pick)
    assert w.selection.tolist() == sorted(pick.tolist())
    assert "25</b> selected" in w.selection_info.value and not w.bulk_button.disabled
    w.bulk_class.value = "3"
    w.bulk_button.click()
    assert w.session.n_labeled == 0, "nothing happens before the confirmation"
    yes = w.confirm_box.children[1]
    assert "25" in yes.description
    yes.click()
    lab = w.session.labels
    assert len(lab) == 25 and set(lab["label"]) == {"3"} and set(lab["source"]) == {"map"}
    assert len(w.selection) == 0
    # the labeled overlay of class 3 holds them; "last labeled" too
    assert len(w.map.fig.data[1 + 3].x) == 25
    assert len(w.map.fig.data[-2].x) == 25


def test_map_selection_label_these_next(widget):
    w = widget
    _select(w, [5, 6, 7])
    w.next_button.click()
    assert sorted(w.batch.tolist()) == [5, 6, 7]
    assert [int(i) for i in w.card_buttons] == w.batch.tolist()
    assert w.session.batch.strategy == "map selection"


def test_map_click_shows_card_and_labels_with_source_map(widget, digits):
    w = widget
    idx = int(np.setdiff1d(np.arange(1797), w.batch)[0])
    _click(w, 0, int(np.flatnonzero(w.map.shown == idx)[0]))
    assert len(w.point_box.children) == 1 and f"#{idx} from the map" in w.point_box.children[0].children[0].value
    w.point_card_buttons.value = str(digits.target[idx])
    row = w.session.labels.set_index("index").loc[idx]
    assert row["source"] == "map" and row["label"] == str(digits.target[idx])
    assert w.point_box.children == ()


def test_map_click_on_overlay_maps_back_to_pool_index(widget):
    w = widget
    b = w.batch
    batch_trace = len(w.map.fig.data) - 1
    _click(w, batch_trace, 3)
    assert f"#{int(b[3])} from the map" in w.point_box.children[0].children[0].value


def test_unsure_button_and_key_record_unsure_and_show_on_map(widget):
    w = widget
    b = w.batch
    w._unsure_buttons[int(b[0])].click()
    assert int(b[0]) in w.session.unsure and int(b[0]) not in w.batch
    assert list(w.card_buttons) == b.tolist(), "the card stays in place"
    press(w, "ArrowRight")
    press(w, "?")  # the highlighted (second) card is answered unsure too
    assert set(w.session.unsure.tolist()) == {int(b[0]), int(b[1])}
    assert w.session.n_labeled == 0, "unsure is not a label"
    unsure_trace = w.map.fig.data[1 + len(w.session.classes)]
    assert unsure_trace.name == "unsure" and len(unsure_trace.x) == 2
    table = w.session.labels_table(include_unsure=True)
    assert set(table.loc[table["status"] == "unsure", "index"]) == {int(b[0]), int(b[1])}
    assert "2 unsure" in w.status.value


def test_slow_retrain_runs_in_background_and_newer_model_wins(digits, classes10):
    import threading

    from sklearn.linear_model import LogisticRegression

    gate = threading.Event()

    class Slow(LogisticRegression):
        def fit(self, X, y):
            if len(y) > 10:
                gate.wait(10)  # held until the test lets it go
            return super().fit(X, y)

    w = alwidget.label(digits.data, items=digits.images, classes=classes10, random_state=0,
                       store=":memory:", estimator=Slow(max_iter=300), sync_wait=0.05)
    s = w.session
    for idx in w.batch:  # cold start -> first model (fast: 10 labels)
        w.choose(int(idx), int(digits.target[idx]))
    w.submit_button.click()
    assert w.wait_for_model(10) and s.model_version == 10
    second = w.batch
    for idx in second:
        w.choose(int(idx), int(digits.target[idx]))
    w.submit_button.click()  # returns although the fit is held
    assert s.n_labeled == 20 and len(s.labels) == 20, "labels stored before the model"
    assert not set(w.batch) & set(second), "a next batch is shown at once"
    assert s.model_version == 10 and s.models_behind == 10
    assert "10 labels behind" in w.status.value
    # keep labeling while it retrains
    third = w.batch
    w.choose(int(third[0]), int(digits.target[third[0]]))
    gate.set()
    assert w.wait_for_model(20)
    assert s.model_version == 20 and s.models_behind == 0
    assert "behind" not in w.status.value
    assert list(w.batch) == list(third), "a batch with a choice on it is not replaced"
    assert w.card_buttons[int(third[0])].value == str(digits.target[third[0]])


def test_map_label_keeps_a_half_labeled_batch_with_its_provenance(widget, digits):
    w = widget
    b = w.batch
    w.choose(int(b[0]), int(digits.target[b[0]]))  # the user is labeling the batch
    outside = int(np.setdiff1d(np.arange(1797), b)[0])
    _click(w, 0, int(np.flatnonzero(w.map.shown == outside)[0]))
    w.point_card_buttons.value = "4"
    assert w.session.labels.set_index("index").loc[outside, "source"] == "map"
    assert list(w.batch) == list(b), "the batch stays, with its strategy and ranks"
    assert w.session.batch.strategy.startswith("cold start")
    assert w.card_buttons[int(b[0])].value == str(digits.target[b[0]])
    w.submit_button.click()
    row = w.session.labels.set_index("index").loc[int(b[0])]
    assert row["source"] == "batch" and row["rank"] == 1
