"""The practice panels in a real JupyterLab (issue 18): "Review N suspicious labels" relabels a
slip by clicks; stream mode shows only the asked items; a rule's labels are accepted in bulk.
Python reads back what the store holds."""

import json
import re

from jlab import SHOTS, open_notebook_and_run_all, write_notebook

SETUP = """
import numpy as np, alwidget
from sklearn.datasets import load_digits
from alwidget.widget.review import ReviewPanel
from alwidget.widget.stream_panel import StreamPanel
from alwidget.widget.rules_panel import RulesPanel
from alwidget.rules import feature_rule
from alwidget.stream import VariableUncertainty
d = load_digits()
X, y = d.data[:600], d.target[:600]
classes = [str(c) for c in range(10)]
"""

REVIEW = """
w = alwidget.label(X, items=d.images[:600], classes=classes, store="review.sqlite", batch_size=5)
answers = {i: str(y[i]) for i in range(300)}
answers[7] = str((y[7] + 1) % 10)  # the slip
w.session.submit(answers, source="map")
review = ReviewPanel(w, max_items=8)
display(review)
"""

STREAM = """
w2 = alwidget.label(X, items=d.images[:600], classes=classes, store=":memory:", batch_size=5)
w2.session.submit({0: str(y[0]), 1: str(y[1]), 2: str(y[2])}, source="map")
stream = StreamPanel(w2, chunk_size=30, rule=VariableUncertainty(budget=0.2, random_state=0))
display(w2, stream)
"""

RULES = """
w3 = alwidget.label(X, classes=classes, store=":memory:", batch_size=5)
panel = RulesPanel(w3, [feature_rule("ink", lambda r: r[36] > 14, "0")])
display(panel)
"""


_reads = iter(range(1_000_000))


def _read(page, expr):
    """Evaluate a Python expression in the kernel (a new cell) and return its JSON value."""
    tag = f"ALWJSON{next(_reads)}:"
    page.evaluate(
        """(code) => {
        const nb = window.jupyterapp.shell.currentWidget.content;
        window.jupyterapp.commands.execute('notebook:insert-cell-below');
        nb.activeCell.model.sharedModel.setSource(code);
        return window.jupyterapp.commands.execute('notebook:run-cell');
      }""",
        f"import json; print({tag!r} + json.dumps({expr}))",
    )
    out = page.locator(".jp-OutputArea-output", has_text=tag).last
    out.wait_for(timeout=60_000)
    return json.loads(out.inner_text().split(tag, 1)[1].strip())


def test_review_stream_and_rules_panels_by_clicks(lab_server, page):
    base, token, root = lab_server
    write_notebook(root / "practice.ipynb", SETUP, REVIEW, STREAM, RULES)
    page.set_viewport_size({"width": 1500, "height": 1100})
    open_notebook_and_run_all(page, f"{base}/lab/tree/practice.ipynb?token={token}", 180_000)
    SHOTS.mkdir(parents=True, exist_ok=True)

    # --- review: the button runs the check and shows the slip as a card; relabel it by clicks
    page.locator("button", has_text="Review suspicious labels").click()
    page.locator("button", has_text=re.compile(r"Review \d+ suspicious labels")).wait_for(
        timeout=60_000
    )
    card = page.locator(".alw-card", has=page.locator(".alw-caption", has_text="#7 ·")).first
    card.wait_for(timeout=60_000)
    assert "given" in card.locator(".alw-caption").inner_text()
    true7 = _read(page, "int(y[7])")
    card.locator(".alw-class").nth(true7).click()
    review_root = card.locator("xpath=ancestor::div[contains(@class,'alw-cards')][1]")
    review_root.locator("button", has_text="Submit").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.alw-badge')]"
        ".some(b => b.textContent.startsWith('recorded'))",
        timeout=60_000,
    )
    page.screenshot(path=str(SHOTS / "practice_review.png"), full_page=False)
    got = _read(
        page,
        "[int(w.session.y[7]), w.session.labels_table().set_index('index').loc[7, 'source']]",
    )
    assert got == [true7, "review"]

    # --- stream: one click lets 30 items arrive; the cards show asked items only
    page.locator("button", has_text="Next 30 items arrive").click()
    page.locator("text=new items asked").first.wait_for(timeout=60_000)
    asked, batch = _read(page, "[stream.asked.tolist(), w2.batch.tolist()]")
    assert batch and set(batch) <= set(asked)
    page.locator("text=new items asked").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "practice_stream.png"), full_page=False)

    # --- rules: the Accept button records the rule's labels as weak labels
    accept = page.locator("button", has_text="labels from ink")
    accept.scroll_into_view_if_needed()
    n_todo = int(accept.inner_text().split()[1])
    accept.click()
    page.locator("text=weak labels as").first.wait_for(timeout=60_000)
    page.screenshot(path=str(SHOTS / "practice_rules.png"), full_page=False)
    sources = _read(page, "w3.session.labels_table()['source'].value_counts().to_dict()")
    assert sources == {"rule:ink": n_todo} and n_todo > 0
