"""The widget driven without a browser, through the same custom messages the browser sends."""

import ipywidgets as W
import numpy as np
import pytest
import traitlets

import alwidget
from alwidget.widget.renderers import TEXT_CAP, VALUE_CAP, card_content, render_item


@pytest.fixture
def widget(digits, classes10):
    w = alwidget.label(
        digits.data,
        items=digits.images,
        classes=classes10,
        random_state=0,
        store=":memory:",
        background=False,
    )
    yield w
    w.close()


def act(w, action, **fields):
    """Exactly what the browser sends for a click or key: the batch id it shows, a seq."""
    msg = {"type": "action", "action": action, "batch_id": w.view.batch_id, "seq": 1}
    msg.update(fields)
    w.view._handle(w.view, msg, [])


def press(w, key):
    w.press(key)  # what the browser's key handler sends for this key


def shown(w):
    """Pool indices of the cards in the page, in order."""
    return [c["index"] for c in w.view.cards]


def states(w):
    return [m["state"] for m in w.view.marks]


def test_click_labels_and_submit_retrains_and_recolours(widget, digits):
    w, s = widget, widget.session
    assert len(w.cards) == 10 and s.cold
    assert w.view.cards[0]["kind"] == "image" and w.view.cards[0]["src"].startswith(
        "data:image/png"
    )
    colour0 = np.array(w.map.fig.data[0].marker.color)
    batch0 = w.batch
    for idx in batch0:
        act(w, "choose", index=int(idx), code=int(digits.target[idx]))
    assert states(w) == ["chosen"] * 10
    act(w, "submit")
    assert s.n_labeled == 10
    lab = s.labels.set_index("index").loc[batch0.tolist(), "code"].tolist()
    assert lab == digits.target[batch0].tolist()
    assert not s.cold and s.labels_trained_on == 10, "the model retrained"
    assert not set(w.batch) & set(batch0), "the batch changed"
    assert shown(w) == w.batch.tolist(), "the cards show the new batch"
    colour1 = w.map.fig.data[0].marker.color
    assert isinstance(colour1, np.ndarray) and colour1.dtype == np.float32
    assert colour1.shape == (1797,)
    assert not np.array_equal(colour0, colour1), "the map recoloured"
    n_overlay = sum(len(w.map.fig.data[1 + c].x) for c in range(10))
    assert n_overlay == 10
    assert len(w.map.fig.data[w.map.batch_overlay.trace].x) == 10
    assert (w.status_facts["n_labeled"], w.status_facts["round"]) == (10, 1)


def test_partial_submit_and_empty_submit(widget):
    w = widget
    act(w, "submit")
    assert "Pick a class" in w.error.value and w.session.n_labeled == 0
    first = int(w.batch[0])
    act(w, "choose", index=first, code=3)
    act(w, "clear", index=first)  # a click on the chosen class takes it back
    assert states(w)[0] == "open"
    act(w, "choose", index=first, code=3)
    act(w, "submit")
    assert w.session.labels["index"].tolist() == [first] and w.error.value == ""


def test_keyboard_labels_cards_in_order_and_enter_submits(widget):
    w = widget
    batch = w.batch
    press(w, "4")
    press(w, "2")
    assert [m.get("choice") for m in w.view.marks[:2]] == [4, 2]
    assert w.view.cursor == 2
    press(w, "ArrowLeft")
    assert w.view.cursor == 1
    press(w, "Enter")
    lab = w.session.labels.set_index("index")["label"]
    assert lab.to_dict() == {int(batch[0]): "4", int(batch[1]): "2"}
    assert w.status_facts["round"] == 1
    press(w, "u")  # undo puts the labels back on the cards, chosen
    assert w.session.n_labeled == 0
    assert dict(zip(shown(w), [m.get("choice") for m in w.view.marks], strict=True)) == {
        int(batch[0]): 4,
        int(batch[1]): 2,
    }
    assert "Undid your last submit: 2 answers" in w.view.notice
    act(w, "submit")
    assert w.session.labels.set_index("index")["label"].to_dict() == {
        int(batch[0]): "4",
        int(batch[1]): "2",
    }


def test_skip_and_unsure_leave_cards_in_place(widget, digits):
    w, s = widget, widget.session
    b = shown(w)
    act(w, "skip", index=b[0])
    act(w, "unsure", index=b[3])
    assert shown(w) == b, "same cards, same order"
    assert [c["rank"] for c in w.view.cards] == list(range(1, 11)), "ranks do not renumber"
    assert states(w)[0] == "skipped" and states(w)[3] == "unsure"
    assert int(b[3]) in s.unsure and s.n_labeled == 0
    # a click on the dimmed card is refused, nothing stored
    act(w, "choose", index=b[0], code=1)
    assert "Not recorded" in w.error.value and 1 not in w.choices.values()
    # keys: the cursor card is labeled, including after moving past the dimmed ones
    for _ in range(2):
        press(w, "ArrowRight")
    press(w, "7")
    assert w.choices == {b[2]: 7}
    for i in b[1:3] + b[4:]:
        act(w, "choose", index=i, code=int(digits.target[i]))
    act(w, "submit")
    assert set(s.labels["index"]) == set(b) - {b[0], b[3]}


def round_of(w):
    return w.status_facts["round"]


def test_status_counts_rounds_as_submits(widget, digits):
    w = widget
    b = shown(w)
    act(w, "skip", index=b[0])
    act(w, "unsure", index=b[1])
    assert round_of(w) == 0, "Skip / Unsure clicks are not rounds"
    act(w, "choose", index=b[2], code=1)
    act(w, "submit")
    assert round_of(w) == 1


def test_all_cards_skipped_brings_a_new_batch(widget):
    w = widget
    b = shown(w)
    for i in b:
        act(w, "skip", index=i)
    assert not set(shown(w)) & set(b) and states(w) == ["open"] * 10


def test_stale_action_is_refused_with_a_message_and_stores_nothing(widget, digits):
    w, s = widget, widget.session
    old_id, old = w.view.batch_id, shown(w)
    for i in old:
        act(w, "choose", index=i, code=int(digits.target[i]))
    act(w, "submit")
    n = len(s.labels)
    new = shown(w)
    for action, extra in [
        ("choose", {"index": old[0], "code": 1}),
        ("skip", {"index": new[0]}),
        ("unsure", {"index": new[1]}),
        ("submit", {}),
        ("choose", {"index": new[2], "code": 2}),
    ]:
        act(w, action, batch_id=old_id, **extra)
        assert "Not recorded" in w.error.value and "no longer the current batch" in w.error.value
    assert len(s.labels) == n and states(w) == ["open"] * 10 and not w.choices
    assert new[0] not in s.skipped and new[1] not in s.unsure
    # a card index that is not on screen is refused too
    act(w, "choose", index=old[0], code=1)
    assert "Not recorded" in w.error.value and not w.choices


def test_strategy_selector_changes_strategy(widget, digits):
    w = widget
    for idx in w.batch:
        w.choose(int(idx), int(digits.target[idx]))
    w.submit()
    assert "margin" in w.strategy_select.options
    w.strategy_select.value = "margin"
    assert w.session.strategy.name == "margin" and w.session.batch.strategy == "margin"
    assert shown(w) == w.batch.tolist()
    assert "margin" in w.map.fig.layout.title.text
    assert w.map.fig.data[0].marker.colorbar.title.text == "uncertainty (1 − margin), high = unsure"


def test_cold_start_is_said(widget):
    assert widget.status_facts["cold_start"] == widget.session.cold_start
    assert widget.status_facts["n_labeled"] == 0


def test_items_length_mismatch(digits, classes10):
    s = alwidget.Session(digits.data, classes=classes10, store=":memory:")
    with pytest.raises(ValueError, match="items has 5 entries"):
        alwidget.LabelingWidget(s, digits.images[:5])


def test_text_goes_to_the_browser_as_text_and_is_capped():
    evil = "<img src=x onerror=alert(1)> & <script>x()</script>"
    assert card_content(evil) == {"kind": "text", "text": evil, "long": False}
    big = "word " * 200_000  # 1 MB
    c = card_content(big)
    assert len(c["text"]) < TEXT_CAP + 80 and c["long"]
    assert c["text"].endswith(f"({len(big) - TEXT_CAP:,} more characters not shown)")
    w = render_item(evil)
    assert isinstance(w, W.HTML) and "<img" not in w.value and "&lt;img src=x" in w.value


def test_image_row_and_function_renderers(digits):
    img = card_content(digits.images[0])
    assert img["src"].startswith("data:image/png;base64,") and img["width"] == 96
    row = card_content({"age": 3.14159, "name": "<b>x</b>", "long": "y" * 1000})
    assert row["rows"][:2] == [["age", "3.142"], ["name", "<b>x</b>"]]
    assert len(row["rows"][2][1]) == VALUE_CAP
    assert card_content(7, lambda i: f"item {i}")["text"] == "item 7"
    with pytest.raises(TypeError, match="must return what the card shows"):
        card_content(7, lambda i: W.HTML("x"))
    assert isinstance(render_item(digits.images[0]), W.Image)


def test_map_has_title_axes_legend_colourbar(widget):
    fig = widget.map.fig
    assert fig.layout.title.text and "colour" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "PCA 1" and fig.layout.yaxis.title.text == "PCA 2"
    assert fig.data[0].type == "scattergl"
    assert fig.data[0].marker.cmin == 0 and fig.data[0].marker.cmax == 1
    names = [t.name for t in fig.data]
    assert "current batch" in names and "labeled: 0" in names


def _points_event(w, event, trace_indexes, point_indexes):
    """Exactly what the front end sends for a map click or a box / lasso selection."""
    w.map_events._on_msg(
        w.map_events,
        {"type": event, "traces": list(trace_indexes), "points": list(point_indexes)},
        [],
    )


def _select(w, indices):
    pos = [int(np.flatnonzero(w.map.shown == i)[0]) for i in indices]
    _points_event(w, "selected", [0] * len(pos), pos)


def _click(w, trace, point):
    _points_event(w, "click", [trace], [point])


def test_map_lasso_bulk_label_only_unlabeled_by_default(widget, digits):
    w, s = widget, widget.session
    pick = np.flatnonzero(digits.target == 3)[:25]
    s.submit({int(i): "3" for i in pick[:5]}, source="map", retrain=False)
    w.refresh()
    _select(w, pick)
    assert w.selection.tolist() == sorted(pick.tolist())
    bar = w.map_labeling
    assert bar.counts == (25, 20, 5)  # selected, unlabeled, labeled
    assert bar.bulk_button.description == "Label 20 selected"
    bar.bulk_class.value = "8"
    bar.bulk_button.click()
    assert len(s.labels) == 5, "nothing happens before the confirmation"
    assert "the 5 labeled ones keep their labels" in bar.confirm_box.children[0].value
    yes = bar.confirm_box.children[1].children[0]
    assert yes.description == "Yes, label 20"
    yes.click()
    lab = s.labels.set_index("index")["label"]
    assert (lab.loc[pick[:5]] == "3").all() and (lab.loc[pick[5:]] == "8").all()
    assert len(w.selection) == 0
    # with the box ticked, the labeled ones are relabeled too (recorded as updates)
    _select(w, pick[:10])
    bar.include_labeled.value = True
    assert bar.bulk_button.description == "Label 10 selected"
    assert w.label_selection("3") == 10
    assert (s.labels.set_index("index").loc[pick[:10], "label"] == "3").all()


def test_selection_is_an_observable_trait(widget, digits):
    w = widget
    seen = []
    w.observe(lambda change: seen.append(change["new"].tolist()), names="selection")
    pick = np.flatnonzero(digits.target == 2)[:6]
    _select(w, pick[::-1])  # a lasso in the browser
    assert seen == [sorted(pick.tolist())]
    with pytest.raises(ValueError):
        w.selection[0] = 5  # read-only: the selection changes by assignment only
    w.selection = [int(pick[0]), int(pick[0]), 7]  # a script selects, as a lasso would
    assert seen[-1] == sorted({int(pick[0]), 7})
    assert w.map_labeling.counts == (2, 2, 0)
    assert w.map_labeling.next_button.description == "Label these 2 next"
    with pytest.raises(traitlets.TraitError, match="pool indices in 0..1796"):
        w.selection = [1797]
    assert w.selection.tolist() == sorted({int(pick[0]), 7}), "a bad value changes nothing"
    _points_event(w, "deselect", [], [])
    assert seen[-1] == [] and w.map_labeling.counts == (0, 0, 0)


def test_a_removed_refresh_listener_is_no_longer_called(widget, digits):
    w, calls = widget, []

    def hook():
        calls.append(w.session.round)

    w.on_refresh(hook)
    w.refresh()
    w.on_refresh(hook, remove=True)
    w.refresh()
    assert calls == [0]


def test_label_these_next_queues_all_and_serves_them_batch_after_batch(widget, digits):
    w, s = widget, widget.session
    pick = np.flatnonzero(digits.target == 5)[:30]
    _select(w, pick)
    assert w.map_labeling.next_button.description == "Label these 30 next"
    w.map_labeling.next_button.click()
    assert w.status_facts["queued"] == 20 and "30 items queued" in w.view.notice
    served = []
    for _ in range(3):
        b = shown(w)
        assert set(b) <= set(pick.tolist()) and len(b) == 10
        served += b
        for i in b:
            act(w, "choose", index=i, code=5)
        act(w, "submit")
    assert sorted(served) == sorted(pick.tolist()), "all 30 served over 3 batches"
    assert set(s.labels["index"]) == set(pick.tolist())
    assert w.status_facts["queued"] == 0 and not set(shown(w)) & set(served)


def test_map_click_shows_card_beside_the_map_and_labels_with_source_map(widget, digits):
    w = widget
    idx = int(np.setdiff1d(np.arange(1797), w.batch)[0])
    _click(w, 0, int(np.flatnonzero(w.map.shown == idx)[0]))
    card = w.point_view.cards[0]
    assert card["index"] == idx and f"#{idx} from the map" in card["caption"]
    act(w, "choose", index=idx, code=1)  # not a card of the batch: refused
    assert "Not recorded" in w.error.value
    w.point_view._handle(
        w.point_view,
        {
            "type": "action",
            "action": "label",
            "index": idx,
            "code": int(digits.target[idx]),
            "seq": 1,
        },
        [],
    )
    row = w.session.labels.set_index("index").loc[idx]
    assert row["source"] == "map" and row["label"] == str(digits.target[idx])
    assert w.point_view.cards == []


def test_map_click_on_overlay_maps_back_to_pool_index(widget):
    w = widget
    b = w.batch
    batch_trace = w.map.batch_overlay.trace
    _click(w, batch_trace, 3)
    assert f"#{int(b[3])} from the map" in w.point_view.cards[0]["caption"]


def test_unsure_button_and_key_record_unsure_and_show_on_map(widget):
    w = widget
    b = shown(w)
    act(w, "unsure", index=b[0])
    assert b[0] in w.session.unsure and shown(w) == b
    press(w, "ArrowRight")
    press(w, "?")
    assert set(w.session.unsure.tolist()) == {b[0], b[1]}
    assert w.session.n_labeled == 0, "unsure is not a label"
    unsure_trace = w.map.fig.data[1 + len(w.session.classes)]
    assert unsure_trace.name == "unsure" and len(unsure_trace.x) == 2
    assert w.status_facts["n_unsure"] == 2


def test_map_label_keeps_a_half_labeled_batch_with_its_provenance(widget, digits):
    w = widget
    b = shown(w)
    act(w, "choose", index=b[0], code=int(digits.target[b[0]]))
    outside = int(np.setdiff1d(np.arange(1797), b)[0])
    w.label_from_map(outside, 4)
    assert w.session.labels.set_index("index").loc[outside, "source"] == "map"
    assert shown(w) == b, "the batch stays, with its strategy and ranks"
    assert w.choices == {b[0]: int(digits.target[b[0]])}
    act(w, "submit")
    row = w.session.labels.set_index("index").loc[b[0]]
    assert row["source"] == "batch" and row["rank"] == 1


def test_store_error_is_shown_and_choices_are_kept(widget, digits, monkeypatch):
    w, s = widget, widget.session
    b = shown(w)
    for i in b:
        act(w, "choose", index=i, code=int(digits.target[i]))

    def full(*a, **k):
        raise alwidget.StoreError("disk full: nothing recorded")

    monkeypatch.setattr(s.store, "append", full)
    act(w, "submit")
    assert "disk full" in w.error.value and s.n_labeled == 0
    assert states(w) == ["chosen"] * 10 and shown(w) == b
    monkeypatch.undo()
    act(w, "submit")
    assert s.n_labeled == 10 and w.error.value == ""


def test_same_cell_run_again_makes_the_first_widget_say_it_is_not_live(digits, classes10, tmp_path):
    path = tmp_path / "d.sqlite"
    a = alwidget.label(
        digits.data, items=digits.images, classes=classes10, store=path, random_state=0
    )
    b = alwidget.label(
        digits.data, items=digits.images, classes=classes10, store=path, random_state=0
    )
    assert not a.live and b.live
    assert "no longer live" in a.view.notice and not a.view.live
    act(a, "choose", index=shown(a)[0], code=1)
    assert "no longer live" in a.error.value and b.session.n_labeled == 0
    b.close()
    assert b.session.closed and b.view.comm is None
    a.close()


def test_close_closes_widgets_and_the_session_it_created(digits, classes10):
    w = alwidget.label(digits.data, items=digits.images, classes=classes10, store=":memory:")
    s = alwidget.Session(digits.data, classes=classes10, store=":memory:")
    v = alwidget.LabelingWidget(s, digits.images)
    w.close()
    v.close()
    assert w.session.closed and not s.closed, "a session passed in stays open"
    assert w.view.comm is None and w.map.fig.comm is None and v.point_view.comm is None
    w.close()  # twice is fine
    s.close()
