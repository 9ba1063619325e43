"""Item text is shown as text: HTML and script payloads in text items (and in class names)
render as visible characters in a real JupyterLab + Chromium, and run nothing."""

from jlab import SHOTS, open_notebook_and_run_all, write_notebook

PAYLOADS = [
    "<img src=x onerror=\"window.__pwned=(window.__pwned||[]).concat(['img'])\">",
    "<script>window.__pwned=(window.__pwned||[]).concat(['script'])</script>",
    "<svg onload=\"window.__pwned=(window.__pwned||[]).concat(['svg'])\"></svg>",
    "<iframe srcdoc=\"<script>parent.__pwned=['iframe']</script>\"></iframe>",
    '<a href="javascript:window.__pwned=[\'link\']" id="alw-evil-link">click me</a>',
]
EVIL_CLASS = "<img src=y onerror=\"window.__pwned=(window.__pwned||[]).concat(['class'])\">"

CODE = f"""
import numpy as np
import alwidget

payloads = {PAYLOADS!r}
items = [f"item {{i}}: " + payloads[i % len(payloads)] for i in range(60)]
X = np.random.default_rng(0).normal(size=(60, 3))
w = alwidget.label(X, items=items, classes=[{EVIL_CLASS!r}, "plain"], batch_size=5,
                   random_state=0, store="evil.sqlite", renderer="text")
w
"""


def test_html_in_items_is_shown_as_text_and_runs_nothing(lab_server, page):
    base, token, root = lab_server
    write_notebook(root / "evil.ipynb", CODE)
    open_notebook_and_run_all(page, f"{base}/lab/tree/evil.ipynb?token={token}", 180_000)
    cards = page.locator(".alw-card")
    cards.first.wait_for(timeout=60_000)
    assert cards.count() == 5

    def check():
        texts = page.locator(".alw-text").all_inner_texts()
        assert len(texts) == 5
        for t in texts:  # the payload is visible, character for character
            assert any(t.endswith(p) for p in PAYLOADS), t
        root_el = page.locator(".alw-root").first
        for sel in [
            "img[src='x']",
            "img[src='y']",
            "script",
            "svg[onload]",
            "iframe",
            "#alw-evil-link",
        ]:
            assert root_el.locator(sel).count() == 0, f"{sel} was parsed as HTML"
        buttons = page.locator(".alw-card .alw-class").all_inner_texts()
        assert EVIL_CLASS in buttons, "the class name is shown as text"
        assert page.evaluate("() => window.__pwned === undefined"), page.evaluate(
            "() => String(window.__pwned)"
        )

    page.wait_for_timeout(1500)  # give any onerror/onload a chance to fire
    check()
    # label the batch (first class everywhere), submit: the next batch is just as inert
    for i in range(5):
        cards.nth(i).locator(".alw-class").nth(1).click()
    page.locator("button", has_text="Submit batch").click()
    page.locator(".alw-status", has_text="5 labeled").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    check()
    assert (root / "evil.sqlite").exists()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".alw-root").first.screenshot(path=str(SHOTS / "security_text_items.png"))
