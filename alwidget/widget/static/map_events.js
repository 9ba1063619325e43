// Forwards plotly_click / plotly_selected / plotly_deselect of the map inside the same
// labeling widget (.alw-root) to Python as custom messages. The plot is created by another
// widget (plotly's FigureWidget), so it is looked up once it exists.
function render({ model, el }) {
  el.style.display = "none";
  let stopped = false;
  const hookPlot = (tries) => {
    if (stopped) return;
    const root = el.closest(".alw-root");
    const gd = root && root.querySelector(".js-plotly-plot");
    if (!gd || !gd.on) {
      if (tries > 0) setTimeout(() => hookPlot(tries - 1), 250);
      return;
    }
    if (gd.__alwHooked) return;
    gd.__alwHooked = true;
    const send = (type, e) => {
      const pts = (e && e.points) || [];
      model.send({ type, traces: pts.map((p) => p.curveNumber),
                   points: pts.map((p) => p.pointNumber) });
    };
    gd.on("plotly_selected", (e) => { if (e) send("selected", e); });
    gd.on("plotly_click", (e) => send("click", e));
    gd.on("plotly_deselect", () => send("deselect", null));
  };
  hookPlot(240);
  return () => { stopped = true; };
}
export default { render };
