// Chapter 7's unit explorer: a passage read by the book's LSTM in the page, each
// character shaded by one unit's h or tanh(c) after reading it. The LSTM, its weights
// and their sha256 check are lstm-widget.js's (window.rnnBookLSTM), loaded first; this
// file only reads the page's gallery data, draws the shading and answers the controls.
"use strict";
(function () {
  // matplotlib's RdBu_r at 0, 0.1, ..., 1, as unit_contexts and shade_text use it,
  // mixed with white (0.45 colour, 0.55 white) so that black text stays readable.
  const RDBU_R = [
    [0.02, 0.188, 0.38], [0.127, 0.396, 0.669], [0.263, 0.576, 0.765],
    [0.566, 0.769, 0.869], [0.82, 0.898, 0.941], [0.969, 0.966, 0.965],
    [0.992, 0.859, 0.78], [0.955, 0.642, 0.506], [0.839, 0.376, 0.302],
    [0.692, 0.092, 0.168], [0.404, 0.0, 0.122],
  ];

  function colour(value) { // -1 blue, 0 white, +1 red
    const x = 5 * (Math.max(-1, Math.min(1, value)) + 1), i = Math.min(9, Math.floor(x));
    const rgb = RDBU_R[i].map((a, k) => a + (x - i) * (RDBU_R[i + 1][k] - a));
    return `rgb(${rgb.map((a) => Math.round(255 * (0.45 * a + 0.55))).join(",")})`;
  }

  const TEXT_STYLE = "font-family:monospace;white-space:pre-wrap;overflow-wrap:anywhere;" +
    "line-height:1.5;color:#000;background:#fff;padding:0.3em 0.5em;margin:0.3em 0";

  function shade(box, text, values) { // one span per character, its value as tooltip
    box.replaceChildren();
    box.style.cssText = TEXT_STYLE;
    Array.from(text).forEach((ch, t) => {
      const span = document.createElement("span");
      span.textContent = ch === "\n" ? "↵\n" : ch;
      span.style.background = colour(values[t]);
      span.title = values[t].toFixed(3);
      box.append(span);
    });
  }

  function galleryData() { // written by the chapter's gallery cell; absent in Jupyter
    const tag = document.querySelector("script.unit-gallery-data");
    if (!tag) return { units: [], passages: [] };
    try {
      return JSON.parse(tag.textContent);
    } catch (error) {
      return { units: [], passages: [] };
    }
  }

  function option(value, label) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    return o;
  }

  async function attach(widget) {
    const $ = (name) => widget.querySelector(`[data-role="${name}"]`);
    const [gallery, layer, unit, preset, input, button, status, output, contexts] =
      ["gallery", "layer", "unit", "preset", "text", "shade", "status", "output",
        "contexts"].map($);
    const data = galleryData();
    data.units.forEach((u, k) => gallery.append(option(k, `${u.layer}[${u.unit}]: ${u.label}`)));
    data.passages.forEach((p, k) => preset.append(option(k, p.label)));
    if (data.passages.length && !input.value.trim()) input.value = data.passages[0].text;

    function showContexts(entry) { // the unit's top contexts, from the notebook's run
      contexts.replaceChildren();
      if (!entry) return;
      const heading = document.createElement("p");
      heading.textContent = `Where ${entry.layer}[${entry.unit}] is highest in the ` +
        "held-out text, as the chapter recorded it (same shading):";
      contexts.append(heading);
      for (const context of entry.contexts) {
        const box = document.createElement("div");
        shade(box, context.text, context.values);
        contexts.append(box);
      }
    }

    let model;
    try {
      model = await window.rnnBookLSTM.loadShared();
    } catch (error) {
      status.textContent = `The model could not be loaded: ${error.message}`;
      return;
    }

    function run() {
      const k = Number(unit.value), which = layer.value;
      if (!Number.isInteger(k) || k < 0 || k >= model.units) {
        status.textContent = `Give a unit number from 0 to ${model.units - 1}.`;
        return;
      }
      const text = input.value.slice(0, 2000);
      try {
        const started = performance.now(), { h, c } = model.trace(text);
        const values = which === "h" ? h.map((s) => s[k]) : c.map((s) => Math.tanh(s[k]));
        widget.explorerValues = values; // for the tests: what the shading shows
        shade(output, text, values);
        const seconds = (performance.now() - started) / 1000;
        status.textContent = `${which}[${k}] over ${text.length} characters, read from a ` +
          `zero state in this page in ${seconds.toFixed(2)} s.`;
      } catch (error) {
        output.replaceChildren();
        status.textContent = error.message;
      }
    }

    gallery.addEventListener("change", () => {
      const entry = data.units[Number(gallery.value)];
      if (gallery.value !== "" && entry) {
        layer.value = entry.layer;
        unit.value = entry.unit;
        showContexts(entry);
        run();
      } else {
        showContexts(null);
      }
    });
    preset.addEventListener("change", () => {
      const passage = data.passages[Number(preset.value)];
      if (preset.value !== "" && passage) {
        input.value = passage.text;
        run();
      }
    });
    button.addEventListener("click", run);
    button.disabled = false;
    status.textContent = `Ready: ${model.units} units, the published ${model.dtype} ` +
      `weights, run in this page. ${data.units.length} units in the gallery.`;
  }

  const start = () => document.querySelectorAll(".unit-explorer").forEach(attach);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
