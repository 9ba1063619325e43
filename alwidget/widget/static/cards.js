// alwidget batch cards: renders one synced state (batch id, cards, marks, cursor, status, error,
// enabled actions) and sends every user action as a custom message carrying the batch id and the
// pool index it was made on. Python checks each action against the session and answers with an
// "ack" message; a refused action is shown in the error line and its optimistic mark is dropped.
//
// Everything happens inside this widget's own element: no page polling, no reaching into other
// widgets' DOM. Item text, class names and captions are set with textContent (never parsed as
// HTML); only the status line, which Python builds and escapes, is set as HTML.

const KEYS = new Set(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "Enter", "ArrowLeft",
  "ArrowRight", "s", "?", "u", "Backspace"]);

function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function itemView(card) {
  const box = h("div", "alw-item");
  if (card.kind === "image") {
    const img = h("img", "alw-img");
    img.src = card.src;
    if (card.width) img.style.width = card.width + "px";
    if (card.height) img.style.height = card.height + "px";
    if (card.pixelated) img.classList.add("alw-pixelated");
    img.alt = "item #" + card.index;
    box.appendChild(img);
  } else if (card.kind === "row") {
    const table = h("table", "alw-row");
    for (const [k, v] of card.rows || []) {
      const tr = h("tr");
      const th = h("th", null, k);
      const td = h("td", null, v);
      th.title = k;
      td.title = v;
      tr.appendChild(th);
      tr.appendChild(td);
      table.appendChild(tr);
    }
    box.appendChild(table);
  } else {
    const text = h("div", "alw-text", card.text || "");
    box.appendChild(text);
    if (card.long) {
      const more = h("button", "alw-more", "show more");
      more.type = "button";
      more.addEventListener("click", (e) => {
        e.stopPropagation();
        const open = text.classList.toggle("alw-text-open");
        more.textContent = open ? "show less" : "show more";
      });
      box.appendChild(more);
    }
  }
  return box;
}

function render({ model, el }) {
  const root = h("div", "alw-cards");
  root.tabIndex = 0;
  // JupyterLab (lumino) leaves key events from inside this element alone
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  el.appendChild(root);
  const mode = model.get("mode");
  root.classList.add("alw-mode-" + mode);
  root.style.setProperty("--alw-columns", String(model.get("columns") || 5));

  const status = h("div", "alw-status");
  const notice = h("div", "alw-notice");
  const error = h("div", "alw-error");
  error.setAttribute("role", "alert");
  const toolbar = h("div", "alw-toolbar");
  const submitBtn = h("button", "alw-btn alw-primary alw-submit", "Submit batch");
  submitBtn.type = "button";
  submitBtn.title = "Record the chosen labels, retrain, next batch (Enter)";
  const undoBtn = h("button", "alw-btn alw-undo", "Undo");
  undoBtn.type = "button";
  undoBtn.title = "Take back your last submit (u)";
  const hint = h("span", "alw-keyhint");
  toolbar.append(submitBtn, undoBtn, hint);
  const grid = h("div", "alw-grid");
  if (mode === "batch") root.append(status, notice, error, toolbar, grid);
  else root.append(error, grid);

  let seq = 0;
  let acked = 0; // the highest seq Python has answered
  let cursor = model.get("cursor");
  let batchId = model.get("batch_id");
  const optimistic = new Map(); // seq -> {index, state, choice}
  let cardEls = []; // per card position: {el, buttons, skip, unsure, index}
  let submitting = false;

  const send = (action, extra) => {
    seq += 1;
    model.send(Object.assign({ type: "action", action, batch_id: batchId, seq }, extra || {}));
    return seq;
  };

  const enabled = (name) => {
    const en = model.get("enabled") || {};
    return model.get("live") && !!en[name];
  };

  function marksNow() {
    const marks = (model.get("marks") || []).map((m) => Object.assign({}, m));
    const cards = model.get("cards") || [];
    const pos = new Map(cards.map((c, i) => [c.index, i]));
    for (const o of optimistic.values()) {
      const i = pos.get(o.index);
      if (i === undefined || !marks[i]) continue;
      if (marks[i].state !== "open" && marks[i].state !== "chosen") continue;
      marks[i].state = o.state;
      marks[i].choice = o.choice;
    }
    return marks;
  }

  function paintMarks() {
    const marks = marksNow();
    const canChoose = enabled("choose");
    cardEls.forEach((c, i) => {
      const m = marks[i] || { state: "open", choice: null };
      const st = m.state;
      c.el.classList.toggle("alw-chosen", st === "chosen");
      c.el.classList.toggle("alw-skipped", st === "skipped");
      c.el.classList.toggle("alw-unsure", st === "unsure");
      c.el.classList.toggle("alw-labeled", st === "labeled");
      c.el.classList.toggle("alw-current", i === cursor && mode === "batch");
      const done = st === "skipped" || st === "unsure" || st === "labeled";
      c.badge.textContent = done ? (m.note || st) : "";
      c.buttons.forEach((b, code) => {
        const on = st === "chosen" && m.choice === code;
        b.classList.toggle("alw-on", on);
        b.setAttribute("aria-pressed", on ? "true" : "false");
        b.disabled = !canChoose || done;
      });
      if (c.skip) c.skip.disabled = !enabled("skip") || done;
      if (c.unsure) c.unsure.disabled = !enabled("unsure") || done;
    });
  }

  function buildCards() {
    const cards = model.get("cards") || [];
    const classes = model.get("classes") || [];
    grid.replaceChildren();
    if (mode === "point") el.style.display = cards.length ? "" : "none";
    cardEls = cards.map((card, i) => {
      const ce = h("div", "alw-card" + (mode === "point" ? " alw-map-card" : ""));
      ce.dataset.index = String(card.index);
      const cap = h("div", "alw-caption", card.caption);
      // why it was picked: one line on the card, every number on hover
      const why = h("div", "alw-why", card.why || "");
      if (card.why_details) { cap.title = card.why_details; why.title = card.why_details; }
      const badge = h("div", "alw-badge");
      const bar = h("div", "alw-classes");
      const buttons = classes.map((name, code) => {
        const b = h("button", "alw-class", name);
        b.type = "button";
        b.title = code < 10 ? "key " + code : name;
        b.dataset.code = String(code);
        b.addEventListener("click", (e) => {
          e.stopPropagation();
          clickClass(i, code);
        });
        bar.appendChild(b);
        return b;
      });
      ce.append(cap, why, itemView(card), badge, bar);
      let skip = null;
      let unsure = null;
      const actions = h("div", "alw-card-actions");
      if (mode === "batch") {
        skip = h("button", "alw-btn alw-small alw-skip", "Skip");
        skip.type = "button";
        skip.title = "Not now (s): the card stays, dimmed, until the next batch";
        unsure = h("button", "alw-btn alw-small alw-unsure-btn", "Unsure");
        unsure.type = "button";
        unsure.title = "I don't know (?): recorded, never trained on";
        skip.addEventListener("click", (e) => { e.stopPropagation(); mark(i, "skip"); });
        unsure.addEventListener("click", (e) => { e.stopPropagation(); mark(i, "unsure"); });
        actions.append(skip, unsure);
      } else {
        const close = h("button", "alw-btn alw-small alw-close", "Close");
        close.type = "button";
        close.addEventListener("click", (e) => { e.stopPropagation(); send("close"); });
        actions.append(close);
      }
      ce.appendChild(actions);
      ce.addEventListener("click", () => {
        if (mode === "batch") setCursor(i, true);
      });
      grid.appendChild(ce);
      return { el: ce, buttons, skip, unsure, badge, index: card.index };
    });
    paintMarks();
  }

  function clickClass(i, code, advance) {
    const c = cardEls[i];
    if (!c || !enabled("choose")) return;
    const marks = marksNow();
    const m = marks[i] || {};
    if (m.state === "skipped" || m.state === "unsure" || m.state === "labeled") return;
    if (mode === "point") {
      const s = send("label", { index: c.index, code });
      optimistic.set(s, { index: c.index, state: "chosen", choice: code });
      paintMarks();
      return;
    }
    // a click on the chosen class again takes the choice back
    const clear = !advance && m.state === "chosen" && m.choice === code;
    const extra = { index: c.index };
    if (!clear) extra.code = code;
    if (advance) extra.advance = true;
    const s = send(clear ? "clear" : "choose", extra);
    optimistic.set(s, clear ? { index: c.index, state: "open", choice: null }
      : { index: c.index, state: "chosen", choice: code });
    if (advance) cursor = Math.min(i + 1, cardEls.length - 1);
    paintMarks(); // the card is marked now; Python confirms (or refuses) with an ack
  }

  function mark(i, what) {
    const c = cardEls[i];
    if (!c || !enabled(what)) return;
    const s = send(what, { index: c.index });
    optimistic.set(s, { index: c.index, state: what === "skip" ? "skipped" : "unsure", choice: null });
    paintMarks();
  }

  function setCursor(i, tell) {
    if (!cardEls.length) return;
    cursor = Math.max(0, Math.min(i, cardEls.length - 1));
    if (tell) send("cursor", { index: cursor });
    paintMarks();
  }

  function submit() {
    if (!enabled("submit") || submitting) return;
    submitting = true; // one submit per batch until Python answers: no double records
    submitBtn.disabled = true;
    send("submit");
  }

  submitBtn.addEventListener("click", () => submit());
  undoBtn.addEventListener("click", () => { if (enabled("undo")) send("undo"); });

  const onKey = (e) => {
    if (mode !== "batch") return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
    if (!KEYS.has(e.key)) return;
    e.preventDefault();
    e.stopPropagation();
    const k = e.key;
    if (k >= "0" && k <= "9") {
      const code = Number(k);
      if (code < (model.get("classes") || []).length) clickClass(cursor, code, true);
    } else if (k === "Enter") submit();
    else if (k === "ArrowRight") setCursor(cursor + 1, true);
    else if (k === "ArrowLeft") setCursor(cursor - 1, true);
    else if (k === "s") mark(cursor, "skip");
    else if (k === "?") mark(cursor, "unsure");
    else if (k === "u" || k === "Backspace") { if (enabled("undo")) send("undo"); }
  };
  root.addEventListener("keydown", onKey);

  let timer = null;
  function paintStatus() {
    status.innerHTML = model.get("status") || "";
    const since = model.get("busy_since");
    const fit = status.querySelector(".alw-fit-timer");
    if (fit && since > 0) fit.textContent = Math.max(0, Math.round(Date.now() / 1000 - since)) + " s";
    if (since > 0 && !timer) timer = setInterval(paintStatus, 1000);
    if (!(since > 0) && timer) { clearInterval(timer); timer = null; }
  }

  function paintTop() {
    paintStatus();
    notice.textContent = model.get("notice") || "";
    error.textContent = model.get("error") || "";
    const live = model.get("live");
    root.classList.toggle("alw-dead", !live);
    submitBtn.disabled = submitting || !enabled("submit");
    undoBtn.disabled = !enabled("undo");
    const focused = root.contains(document.activeElement);
    hint.textContent = (focused ? "⌨ keys on: " : "⌨ click inside the cards to use keys: ")
      + (model.get("help") || "");
    hint.classList.toggle("alw-keys-on", focused);
  }

  root.addEventListener("focusin", paintTop);
  root.addEventListener("focusout", () => setTimeout(paintTop, 0));

  let building = false;
  const onBatch = () => {
    // batch_id, cards and marks arrive in one message: build once, after all of them
    if (building) return;
    building = true;
    queueMicrotask(() => {
      building = false;
      batchId = model.get("batch_id");
      optimistic.clear();
      submitting = false;
      cursor = model.get("cursor");
      buildCards();
      paintTop();
    });
  };
  const onMarks = () => paintMarks();
  // Python's cursor is taken only once it has answered every action sent: while keys are in
  // flight the page's own cursor is newer (an older echo must not move it back)
  const onCursor = () => {
    if (acked >= seq) cursor = model.get("cursor");
    paintMarks();
  };
  const onMsg = (msg) => {
    if (!msg || msg.type !== "ack") return;
    optimistic.delete(msg.seq);
    acked = Math.max(acked, msg.seq);
    if (acked >= seq) cursor = model.get("cursor");
    if (msg.action === "submit") submitting = false;
    paintTop();
    paintMarks();
  };
  const subs = [];
  const on = (ev, fn) => { model.on(ev, fn); subs.push([ev, fn]); };
  on("change:cards", onBatch);
  on("change:batch_id", onBatch);
  on("change:classes", onBatch);
  on("change:marks", onMarks);
  on("change:cursor", onCursor);
  on("change:enabled", () => { paintTop(); paintMarks(); });
  for (const name of ["status", "notice", "error", "live", "busy_since", "help"]) {
    on("change:" + name, paintTop);
  }
  on("msg:custom", onMsg);
  buildCards();
  paintTop();
  return () => {
    root.removeEventListener("keydown", onKey);
    if (timer) clearInterval(timer);
    for (const [ev, fn] of subs) model.off(ev, fn);
  };
}

export default { render };
