// The book's trained LSTM in the page: the published weights (scripts/export_model.py),
// loaded and checked against their sha256, and the cell's equations, one step per
// character, in plain JavaScript. It is the one LSTM of the site, exposed as
// window.rnnBookLSTM: chapter 5's generator (below, with temperature sampling) and
// chapter 7's unit explorer (unit-explorer.js) both run it. Nothing is fetched from
// outside the site.
"use strict";
(function () {
  const MODEL_URL = new URL("model/", document.currentScript.src);

  function halfToFloat(bits) { // IEEE 754 half precision -> number
    const sign = bits & 0x8000 ? -1 : 1, exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0) return sign * fraction * 2 ** -24;
    if (exponent === 31) return fraction ? NaN : sign * Infinity;
    return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }

  function readLayer(buffer, layer, dtype) { // little-endian, as the manifest says
    const count = layer.shape.reduce((a, b) => a * b, 1);
    const view = new DataView(buffer, layer.offset), out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = dtype === "float16"
        ? halfToFloat(view.getUint16(2 * i, true)) : view.getFloat32(4 * i, true);
    }
    return out;
  }

  class CharLSTM {
    constructor(manifest, buffer) {
      if (manifest.byte_order !== "little" || !["float16", "float32"].includes(manifest.dtype)) {
        throw new Error(`cannot read ${manifest.dtype} weights in ${manifest.byte_order} order`);
      }
      const w = {};
      for (const layer of manifest.layers) w[layer.name] = readLayer(buffer, layer, manifest.dtype);
      this.kernel = w["lstm/kernel"];
      this.recurrent = w["lstm/recurrent_kernel"];
      this.bias = w["lstm/bias"];
      this.dense = w["dense/kernel"];
      this.denseBias = w["dense/bias"];
      this.units = manifest.units;
      this.dtype = manifest.dtype;
      this.vocabulary = manifest.vocabulary;
      this.index = new Map(this.vocabulary.map((ch, i) => [ch, i]));
    }

    zeroState() {
      return { h: new Float32Array(this.units), c: new Float32Array(this.units) };
    }

    // One step of the cell: z = K[code] + h R + b, gates i, f, g, o (Keras's order).
    step(code, state) {
      const n = this.units, width = 4 * n, z = new Float64Array(width);
      for (let j = 0; j < width; j++) z[j] = this.kernel[code * width + j] + this.bias[j];
      for (let k = 0; k < n; k++) {
        const hk = state.h[k];
        if (hk === 0) continue;
        const row = k * width;
        for (let j = 0; j < width; j++) z[j] += hk * this.recurrent[row + j];
      }
      const sigmoid = (x) => 1 / (1 + Math.exp(-x));
      const h = new Float32Array(n), c = new Float32Array(n);
      for (let k = 0; k < n; k++) {
        c[k] = sigmoid(z[n + k]) * state.c[k] + sigmoid(z[k]) * Math.tanh(z[2 * n + k]);
        h[k] = sigmoid(z[3 * n + k]) * Math.tanh(c[k]);
      }
      const V = this.vocabulary.length, logits = new Float64Array(V);
      for (let v = 0; v < V; v++) logits[v] = this.denseBias[v];
      for (let k = 0; k < n; k++) {
        for (let v = 0; v < V; v++) logits[v] += h[k] * this.dense[k * V + v];
      }
      return { logits, state: { h, c } };
    }

    encode(text) {
      return Array.from(text.toLowerCase(), (ch) => {
        if (!this.index.has(ch)) {
          throw new Error(`"${ch}" is not one of the corpus's characters; leave it out`);
        }
        return this.index.get(ch);
      });
    }

    trace(text) { // every step's state, from a zero state: {h, c}, one array per step
      let state = this.zeroState();
      const h = [], c = [];
      for (const code of this.encode(text)) {
        ({ state } = this.step(code, state));
        h.push(state.h);
        c.push(state.c);
      }
      if (!h.length) throw new Error("the passage is empty; type a few characters");
      return { h, c };
    }

    read(text) { // the prompt, one character at a time, the state carried
      let state = this.zeroState(), logits = null;
      for (const code of this.encode(text)) ({ logits, state } = this.step(code, state));
      if (logits === null) throw new Error("the prompt is empty; type a few characters");
      return { logits, state };
    }
  }

  function probabilities(logits, temperature) { // softmax(logits / T)
    const top = Math.max(...logits), p = logits.map((z) => Math.exp((z - top) / temperature));
    const total = p.reduce((a, b) => a + b, 0);
    return Array.from(p, (x) => x / total);
  }

  function makeRandom(seed) { // mulberry32: a small seeded generator, for tests
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function sample(p, random) {
    let u = random();
    for (let i = 0; i < p.length; i++) if ((u -= p[i]) < 0) return i;
    return p.length - 1;
  }

  // Lets the page draw: a message to ourselves, which browsers do not throttle as
  // they throttle nested timers.
  function nextTask() {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve();
      channel.port2.postMessage(null);
    });
  }

  // Generates `length` characters after the prompt, calling onText with each batch.
  async function generate(model, prompt, length, temperature, seed, onText) {
    const random = makeRandom(seed);
    let { logits, state } = model.read(prompt), text = "";
    for (let i = 0; i < length; i++) {
      const code = sample(probabilities(logits, temperature), random);
      text += model.vocabulary[code];
      ({ logits, state } = model.step(code, state));
      if (i % 8 === 7 || i === length - 1) {
        onText(text);
        await nextTask();
      }
    }
    return text;
  }

  // SHA-256 (FIPS 180-4) in plain JavaScript: Uint8Array -> hex digest. Browsers give
  // crypto.subtle to secure contexts only (https, or http from this very machine), so a
  // page opened over plain http from another host checks its weights with this instead.
  function sha256Fallback(bytes) {
    const primes = [];
    for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p)) primes.push(n);
    const bits = (x) => (x * 2 ** 32) >>> 0; // the first 32 bits of x's fraction
    const K = primes.map((p) => bits(Math.cbrt(p)));
    const H = primes.slice(0, 8).map((p) => bits(Math.sqrt(p)));
    const length = Math.ceil((bytes.length + 9) / 64) * 64, padded = new Uint8Array(length);
    padded.set(bytes);
    padded[bytes.length] = 0x80;
    const view = new DataView(padded.buffer), w = new Uint32Array(64);
    view.setUint32(length - 8, Math.floor(bytes.length / 2 ** 29)); // the length in bits,
    view.setUint32(length - 4, (bytes.length * 8) >>> 0); // big-endian, 64 bits
    const rotr = (x, n) => (x >>> n) | (x << (32 - n));
    for (let block = 0; block < length; block += 64) {
      for (let t = 0; t < 64; t++) {
        const x = w[t - 15], y = w[t - 2];
        w[t] = t < 16 ? view.getUint32(block + 4 * t)
          : (rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3)) + (rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10)) +
            w[t - 7] + w[t - 16];
      }
      let [a, b, c, d, e, f, g, h] = H;
      for (let t = 0; t < 64; t++) {
        const t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
          K[t] + w[t];
        const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      [a, b, c, d, e, f, g, h].forEach((x, i) => { H[i] = (H[i] + x) >>> 0; });
    }
    return H.map((x) => x.toString(16).padStart(8, "0")).join("");
  }

  async function sha256(buffer) { // hex digest of an ArrayBuffer: the browser's own, if any
    if (!globalThis.crypto?.subtle) return sha256Fallback(new Uint8Array(buffer));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
    return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  async function load(url = MODEL_URL) {
    const found = await fetch(new URL("manifest.json", url));
    if (!found.ok) throw new Error(`manifest: HTTP ${found.status}`);
    const manifest = await found.json();
    const response = await fetch(new URL(manifest.weights_file, url));
    if (!response.ok) throw new Error(`weights: HTTP ${response.status}`);
    const buffer = await response.arrayBuffer();
    if (await sha256(buffer) !== manifest.sha256) { // as load_published checks, in Python
      throw new Error(`the weights file (${manifest.weights_file}) does not match the ` +
        "sha256 that its manifest records, so the model was not run. Reload the page; if " +
        "this persists, the site's model files are out of date.");
    }
    return new CharLSTM(manifest, buffer);
  }

  let shared = null;
  function loadShared() { // one download and check per page, whoever asks first
    shared = shared || load();
    return shared;
  }

  async function attach(widget) {
    const $ = (name) => widget.querySelector(`[data-role="${name}"]`);
    const [prompt, slider, shown, button, status, output] =
      ["prompt", "temperature", "temperature-value", "generate", "status", "output"].map($);
    slider.addEventListener("input", () => { shown.textContent = Number(slider.value).toFixed(2); });
    let model;
    try {
      model = await loadShared();
    } catch (error) {
      status.textContent = `The model could not be loaded: ${error.message}`;
      return;
    }
    status.textContent = `Ready: ${model.units} units, ${model.vocabulary.length} characters, ` +
      `the published ${model.dtype} weights, run in this page (float64 sums, float32 state).`;
    button.disabled = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      const started = performance.now(), T = Number(slider.value), start = prompt.value;
      try {
        const seed = Math.floor(Math.random() * 2 ** 32);
        output.textContent = start;
        const text = await generate(model, start, 300, T, seed, (t) => {
          output.textContent = start + t;
        });
        const seconds = (performance.now() - started) / 1000;
        status.textContent = `${text.length} characters at T = ${T.toFixed(2)} (seed ` +
          `${seed}) in ${seconds.toFixed(1)} s, one LSTM step per character, in this page.`;
      } catch (error) {
        status.textContent = error.message;
      } finally {
        button.disabled = false;
      }
    });
  }

  window.rnnBookLSTM = {
    load, loadShared, probabilities, generate, makeRandom, CharLSTM, sha256, sha256Fallback,
  };
  const start = () => document.querySelectorAll(".lstm-widget").forEach(attach);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
