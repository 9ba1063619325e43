"""Issue 10's acceptance run: a new user labels 5 batches of MNIST-like images in JupyterLab
with a deliberately slow model (each fit sleeps 1.5 s, longer than sync_wait), mixing clicks,
keys, Skip, Unsure, Undo and labeling from the map; afterwards the store holds exactly what
they clicked, item by item."""

import re
import shutil
import time

from jlab import SHOTS, open_notebook_and_run_all, stray_point_xy, write_notebook

CELL = """\
import time
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
import alwidget

class SlowLR(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        time.sleep(1.5)  # a slow model, slower than sync_wait
        return super().fit(X, y, sample_weight)

d = load_digits()
images = np.kron(d.images, np.ones((3, 3)))  # 24 x 24, MNIST-like
w = alwidget.label(d.data, items=images, classes=[str(c) for c in range(10)],
                   estimator=SlowLR(max_iter=500), sync_wait=0.3, random_state=0,
                   store="slow.sqlite")
w
"""
PLOT = ".alw-root .js-plotly-plot"
CARDS = ".alw-root .alw-card:not(.alw-map-card)"


def _cards(page):
    return page.locator(CARDS)


def _indices(page):
    caps = page.locator(f"{CARDS} .alw-caption").all_inner_texts()
    return [int(re.search(r"#(\d+)", c).group(1)) for c in caps]


def _wait_new_batch(page, old):
    page.wait_for_function(
        "(old) => { const c = [...document.querySelectorAll("
        f"'{CARDS} .alw-caption')].map(e => e.innerText);"
        " return c.length > 0 && JSON.stringify(c) !== JSON.stringify(old); }",
        arg=old,
        timeout=60_000,
    )


def _captions(page):
    return page.locator(f"{CARDS} .alw-caption").all_inner_texts()


def _click_class(page, i, code):
    _cards(page).nth(i).locator(".alw-class").nth(code).click()


def _wait_chosen(page, n):
    page.wait_for_function(
        f"() => document.querySelectorAll('{CARDS}.alw-chosen').length === {n}", timeout=30_000
    )


def test_five_batches_with_a_slow_model_store_exactly_what_was_clicked(lab_server, page):
    base, token, root = lab_server
    write_notebook(root / "slow.ipynb", CELL)
    open_notebook_and_run_all(page, f"{base}/lab/tree/slow.ipynb?token={token}", 180_000)
    _cards(page).first.wait_for(timeout=120_000)
    expected: dict[int, str] = {}
    SHOTS.mkdir(parents=True, exist_ok=True)

    # batch 1 (cold start): clicks on every card, then the Submit button
    idx = _indices(page)
    for i, j in enumerate(idx):
        _click_class(page, i, i % 10)
        expected[j] = str(i % 10)
    _wait_chosen(page, 10)
    old = _captions(page)
    page.locator("button", has_text="Submit batch").click()
    _wait_new_batch(page, old)

    # batch 2, while the slow fit of batch 1 is still running: clicks, Skip, Unsure, Enter
    idx = _indices(page)
    assert "retraining" in page.locator(".alw-status").first.inner_text()
    for i in range(5):
        _click_class(page, i, 3)
        expected[idx[i]] = "3"
    _cards(page).nth(5).locator(".alw-skip").click()
    _cards(page).nth(6).locator(".alw-unsure-btn").click()
    expected[idx[6]] = "unsure"
    page.locator(f"{CARDS}.alw-unsure").wait_for(timeout=30_000)
    page.locator(f"{CARDS}.alw-skipped").wait_for(timeout=30_000)
    _wait_chosen(page, 5)
    time.sleep(2.0)  # the model lands meanwhile: the cards must not change under the user
    assert _indices(page) == idx, "a late model swapped the cards"
    page.locator(".alw-root").first.screenshot(path=str(SHOTS / "slow_model_batch2.png"))
    old = _captions(page)
    page.locator(".alw-status").first.click()
    page.keyboard.press("Enter")
    _wait_new_batch(page, old)

    # batch 3: keys 1 2 3 on the first three cards, Enter; then u (undo) brings them back as
    # chosen; change the first to 9 by a click and submit again
    idx = _indices(page)
    page.locator(".alw-status").first.click()
    for k in "123":
        page.keyboard.press(k)
    _wait_chosen(page, 3)
    old = _captions(page)
    page.keyboard.press("Enter")
    _wait_new_batch(page, old)
    old = _captions(page)
    page.locator("button", has_text="Undo").click()
    _wait_new_batch(page, old)
    back = _indices(page)
    assert sorted(back) == sorted(idx[:3]), "undo brings the three cards back"
    _wait_chosen(page, 3)
    pos = back.index(idx[0])
    _click_class(page, pos, 9)
    expected[idx[0]], expected[idx[1]], expected[idx[2]] = "9", "2", "3"
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{CARDS}')][{pos}]"
        ".querySelector('.alw-class.alw-on').innerText === '9'",
        timeout=30_000,
    )
    old = _captions(page)
    page.locator("button", has_text="Submit batch").click()
    _wait_new_batch(page, old)

    # batch 4: label a stray point from the map first, then the cards by clicks
    plot = page.locator(PLOT).first
    plot.scroll_into_view_if_needed()
    xy = stray_point_xy(page, PLOT)
    page.mouse.click(xy[0], xy[1])
    map_card = page.locator(".alw-map-card")
    map_card.wait_for(timeout=30_000)
    j = int(re.search(r"#(\d+)", map_card.locator(".alw-caption").inner_text()).group(1))
    map_card.locator(".alw-class").nth(7).click()
    expected[j] = "7"
    page.locator(".alw-map-card").wait_for(state="detached", timeout=30_000)
    idx = idx4 = _indices(page)
    for i, k in enumerate(idx):
        if k == j:
            continue
        _click_class(page, i, (i + 3) % 10)
        expected[k] = str((i + 3) % 10)
    old = _captions(page)
    page.locator("button", has_text="Submit batch").click()
    _wait_new_batch(page, old)

    # batch 5: keys with arrow moves, a Skip, an Unsure by "?", a click; submit
    idx = _indices(page)
    page.locator(".alw-status").first.click()
    page.keyboard.press("5")  # card 0 -> 5, highlight moves to card 1
    page.keyboard.press("ArrowRight")  # to card 2
    page.keyboard.press("?")  # card 2 unsure
    _cards(page).nth(3).locator(".alw-skip").click()
    _click_class(page, 4, 0)
    expected[idx[0]], expected[idx[2]], expected[idx[4]] = "5", "unsure", "0"
    _wait_chosen(page, 2)
    page.locator(f"{CARDS}.alw-unsure").wait_for(timeout=30_000)
    old = _captions(page)
    page.locator("button", has_text="Submit batch").click()
    _wait_new_batch(page, old)
    assert not page.locator(".alw-root .alw-error").first.inner_text().strip()
    page.locator(".alw-root").first.screenshot(path=str(SHOTS / "slow_model_after_5.png"))

    # the store (self-contained after each submit) holds exactly what was clicked
    from alwidget import LabelStore

    copy = root / "copy.sqlite"
    shutil.copy(root / "slow.sqlite", copy)
    cur = LabelStore(copy).current()
    cur = cur[cur["kind"].isin(["label", "unsure"])]
    got = {
        int(r.idx): ("unsure" if r.kind == "unsure" else str(int(r.label)))
        for r in cur.itertuples()
    }
    assert got == expected
    n4 = 1 + sum(k != j for k in idx4)  # the map label and the cards of batch 4
    assert len(expected) == 10 + 6 + 3 + n4 + 3
