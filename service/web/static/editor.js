// Zone editor: polygons over the camera's latest frame, edited with the mouse (or a finger).
// Coordinates are normalised 0..1 like the site file; saving posts JSON with the session's CSRF token,
// the server validates, stores and applies to the running pipeline, and answers with exact-path errors.
"use strict";

(function () {
  const root = document.getElementById("editor");
  if (!root) return;
  const data = JSON.parse(root.dataset.editor);
  const msg = JSON.parse(root.dataset.messages);
  const t = (key, values) =>
    (msg[key] || key).replace(/\{(\w+)\}/g, (m, k) => (values && k in values ? String(values[k]) : m));
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.getElementById("editor-svg");
  const W = data.frame ? data.frame.w : 1600;
  const H = data.frame ? data.frame.h : 900;
  const R = Math.max(W, H) / 100; // handle radius, image pixels
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const editable = data.editable;
  const clone = (x) => JSON.parse(JSON.stringify(x));
  const clamp = (v) => Math.min(1, Math.max(0, v));
  const round = (p) => [Math.round(p[0] * 10000) / 10000, Math.round(p[1] * 10000) / 10000];
  const $ = (id) => document.getElementById(id);

  let zones = clone(data.zones);
  let masks = clone(data.masks);
  let saved = clone({ zones, masks });
  let revision = data.revision;
  let selected = null; // {kind: "zone" | "mask", index}
  let activePoint = null;
  let drawing = null; // {kind, points, cursor}
  let drag = null;
  let lastDown = { point: null, at: 0 };
  let dirty = false;
  let invalid = new Set();
  // The arming schedule part of the zone panel (arming.js): fill, listen, payload; it edits zones[selected].
  const schedules = window.clearwayArming({
    data, t, $, clone,
    zone: () => (selected && selected.kind === "zone" ? zones[selected.index] : null),
    changed: () => changed(),
  });

  const polygonOf = (sel) => (sel.kind === "zone" ? zones[sel.index].polygon : masks[sel.index]);
  const isSelected = (kind, i) => selected && selected.kind === kind && selected.index === i;

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  const pts = (poly) => poly.map(([x, y]) => `${(x * W).toFixed(1)},${(y * H).toFixed(1)}`).join(" ");
  const centroid = (poly) => poly.reduce((a, p) => [a[0] + p[0] / poly.length, a[1] + p[1] / poly.length], [0, 0]);

  function drawShape(kind, i) {
    const poly = kind === "zone" ? zones[i].polygon : masks[i];
    const type = kind === "zone" ? ` t-${zones[i].type}` : "";
    const cls = `shape ${kind}${type}${isSelected(kind, i) ? " selected" : ""}${invalid.has(`${kind}:${i}`) ? " invalid" : ""}`;
    svg.append(el("polygon", { points: pts(poly), class: cls, "data-kind": kind, "data-index": i }));
    const [cx, cy] = centroid(poly);
    const label = kind === "zone" ? zones[i].id : t("editor.mask", { n: i + 1 });
    svg.append(el("text", { x: cx * W, y: cy * H, class: "shape-label", "text-anchor": "middle",
      "dominant-baseline": "middle", "font-size": Math.round(H / 28) }, label));
  }

  function drawHandles(poly) {
    poly.forEach((p, j) => {
      const q = poly[(j + 1) % poly.length];
      svg.append(el("circle", { cx: ((p[0] + q[0]) / 2) * W, cy: ((p[1] + q[1]) / 2) * H, r: R * 0.6,
        class: "handle mid", "data-mid": j }));
    });
    poly.forEach((p, j) => {
      svg.append(el("circle", { cx: p[0] * W, cy: p[1] * H, r: R, class: `handle${activePoint === j ? " active" : ""}`,
        "data-point": j }));
    });
  }

  function drawDraft() {
    const line = drawing.points.concat(drawing.cursor ? [drawing.cursor] : []);
    if (line.length > 1) svg.append(el("polyline", { points: pts(line), class: "draft" }));
    drawing.points.forEach((p, j) => {
      svg.append(el("circle", { cx: p[0] * W, cy: p[1] * H, r: j === 0 ? R * 1.2 : R * 0.8,
        class: `handle${j === 0 ? " active" : ""}`, ...(j === 0 ? { "data-draft-first": 1 } : {}) }));
    });
  }

  function render() {
    svg.replaceChildren();
    masks.forEach((m, i) => { if (!isSelected("mask", i)) drawShape("mask", i); });
    zones.forEach((z, i) => { if (!isSelected("zone", i)) drawShape("zone", i); });
    if (selected) {
      drawShape(selected.kind, selected.index);
      if (editable) drawHandles(polygonOf(selected));
    }
    if (drawing) drawDraft();
    renderList();
    updateButtons();
  }

  function renderList() {
    const list = $("shape-list");
    list.replaceChildren();
    const add = (kind, i, label, swatch) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.setAttribute("aria-pressed", String(isSelected(kind, i)));
      button.dataset.kind = kind;
      button.dataset.index = i;
      const sw = document.createElement("span");
      sw.className = `swatch ${swatch}`;
      button.append(sw, document.createTextNode(label));
      button.addEventListener("click", () => select({ kind, index: i }));
      li.append(button);
      list.append(li);
    };
    zones.forEach((z, i) => {
      add("zone", i, `${z.id} · ${t("zone." + z.type)}`, `t-${z.type}`);
      if (schedules.scheduled(z)) {
        const badge = document.createElement("span");
        badge.className = "badge plain";
        badge.textContent = t("arming.badge");
        list.lastChild.firstChild.append(badge);
      }
    });
    masks.forEach((m, i) => add("mask", i, t("editor.mask", { n: i + 1 }), "mask"));
    if (!zones.length && !masks.length) {
      const li = document.createElement("li");
      li.className = "muted small";
      li.textContent = t("editor.empty");
      list.append(li);
    }
  }

  function updateButtons() {
    if (!editable) return;
    $("delete-shape").disabled = !selected;
    $("save").disabled = !dirty || !!drawing;
    $("revert").disabled = !dirty;
  }

  function fillProps() {
    const panel = $("zone-props");
    if (!selected || selected.kind !== "zone") { panel.hidden = true; return; }
    const z = zones[selected.index];
    const defaults = data.defaults[z.type];
    panel.hidden = false;
    $("prop-id").value = z.id;
    $("prop-name").value = z.name || "";
    $("prop-type").value = z.type;
    $("prop-dwell").value = z.dwell_seconds == null ? "" : z.dwell_seconds;
    $("prop-dwell").placeholder = t("editor.default_dwell", { s: defaults.dwell });
    const effective = z.categories == null ? defaults.categories : z.categories;
    document.querySelectorAll("#prop-categories input").forEach((box) => { box.checked = effective.includes(box.value); });
    schedules.fill(z);
  }

  function select(sel) {
    selected = sel;
    activePoint = null;
    fillProps();
    render();
  }

  function status(kind, text, items) {
    const box = $("editor-status");
    box.className = `editor-status ${kind}`;
    box.replaceChildren(document.createTextNode(text || ""));
    if (items && items.length) {
      const ul = document.createElement("ul");
      items.forEach((line) => { const li = document.createElement("li"); li.textContent = line; ul.append(li); });
      box.append(ul);
    }
  }

  function changed() {
    dirty = true;
    invalid = new Set();
    if (!drawing) status("", "");
    render();
  }

  function toNorm(event) {
    const point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    const p = point.matrixTransform(svg.getScreenCTM().inverse());
    return [clamp(p.x / W), clamp(p.y / H)];
  }

  function uniqueId(base) {
    let n = zones.length + 1;
    while (zones.some((z) => z.id === `${base}-${n}`)) n += 1;
    return `${base}-${n}`;
  }

  function finishDrawing() {
    if (!drawing) return;
    if (drawing.points.length < 3) { status("error", t("editor.min_points")); return; }
    const polygon = drawing.points.map(round);
    const kind = drawing.kind;
    drawing = null;
    if (kind === "zone") {
      zones.push({ id: uniqueId("zone"), type: "fire_lane", name: "", polygon, dwell_seconds: null, categories: null, min_overlap: 0.5 });
      select({ kind, index: zones.length - 1 });
    } else {
      masks.push(polygon);
      select({ kind, index: masks.length - 1 });
    }
    changed();
  }

  function startDrawing(kind) {
    drawing = { kind, points: [], cursor: null };
    selected = null;
    fillProps();
    status("", t("editor.drawing"));
    render();
    svg.focus();
  }

  function deletePoint(j) {
    const poly = polygonOf(selected);
    if (poly.length <= 3) { status("error", t("editor.min_points")); return; }
    poly.splice(j, 1);
    activePoint = null;
    changed();
  }

  svg.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    const target = event.target;
    const pos = toNorm(event);
    event.preventDefault();
    if (drawing) {
      if (target.dataset.draftFirst !== undefined && drawing.points.length >= 3) finishDrawing();
      else { drawing.points.push(pos); render(); }
      return;
    }
    if (!editable) { select(target.dataset.kind ? { kind: target.dataset.kind, index: +target.dataset.index } : null); return; }
    if (target.dataset.point !== undefined && selected) {
      const j = +target.dataset.point;
      const now = performance.now();
      if (lastDown.point === j && now - lastDown.at < 450) { lastDown = { point: null, at: 0 }; deletePoint(j); return; }
      lastDown = { point: j, at: now };
      activePoint = j;
      drag = { type: "point", index: j, moved: false };
    } else if (target.dataset.mid !== undefined && selected) {
      const j = +target.dataset.mid;
      polygonOf(selected).splice(j + 1, 0, pos);
      activePoint = j + 1;
      drag = { type: "point", index: j + 1, moved: true };
      changed();
    } else if (target.dataset.kind) {
      const sel = { kind: target.dataset.kind, index: +target.dataset.index };
      if (!isSelected(sel.kind, sel.index)) select(sel);
      drag = { type: "shape", start: pos, origin: clone(polygonOf(selected)), moved: false };
    } else {
      select(null);
      return;
    }
    svg.setPointerCapture(event.pointerId);
    render();
  });

  svg.addEventListener("pointermove", (event) => {
    if (drawing) { drawing.cursor = toNorm(event); render(); return; }
    if (!drag || !selected) return;
    const pos = toNorm(event);
    const poly = polygonOf(selected);
    if (drag.type === "point") {
      poly[drag.index] = round(pos);
    } else {
      const xs = drag.origin.map((p) => p[0]);
      const ys = drag.origin.map((p) => p[1]);
      const dx = Math.min(1 - Math.max(...xs), Math.max(-Math.min(...xs), pos[0] - drag.start[0]));
      const dy = Math.min(1 - Math.max(...ys), Math.max(-Math.min(...ys), pos[1] - drag.start[1]));
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 0.004) return;
      drag.origin.forEach((p, j) => { poly[j] = round([p[0] + dx, p[1] + dy]); });
    }
    drag.moved = true;
    dirty = true;
    render();
  });

  const endDrag = (event) => {
    if (!drag) return;
    if (svg.hasPointerCapture(event.pointerId)) svg.releasePointerCapture(event.pointerId);
    const moved = drag.moved;
    drag = null;
    if (moved) changed();
  };
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);

  document.addEventListener("keydown", (event) => {
    const tag = document.activeElement && document.activeElement.tagName;
    if (/^(INPUT|SELECT|TEXTAREA)$/.test(tag)) return;
    if (drawing && event.key === "Enter") { finishDrawing(); event.preventDefault(); }
    else if (event.key === "Escape") { drawing = null; status("", ""); select(null); }
    else if ((event.key === "Delete" || event.key === "Backspace") && editable && selected && activePoint !== null) {
      deletePoint(activePoint);
      event.preventDefault();
    }
  });

  if (editable) {
    $("add-zone").addEventListener("click", () => startDrawing("zone"));
    $("add-mask").addEventListener("click", () => startDrawing("mask"));
    $("delete-shape").addEventListener("click", () => {
      if (!selected) return;
      (selected.kind === "zone" ? zones : masks).splice(selected.index, 1);
      select(null);
      changed();
    });
    $("revert").addEventListener("click", () => {
      zones = clone(saved.zones);
      masks = clone(saved.masks);
      dirty = false;
      invalid = new Set();
      status("", "");
      select(null);
    });
    $("save").addEventListener("click", save);
    const zoneProp = (fn) => () => { if (selected && selected.kind === "zone") { fn(zones[selected.index]); changed(); } };
    $("prop-id").addEventListener("input", zoneProp((z) => { z.id = $("prop-id").value.trim(); }));
    $("prop-name").addEventListener("input", zoneProp((z) => { z.name = $("prop-name").value; }));
    $("prop-type").addEventListener("change", zoneProp((z) => { z.type = $("prop-type").value; fillProps(); }));
    $("prop-dwell").addEventListener("input", zoneProp((z) => {
      const v = $("prop-dwell").value;
      z.dwell_seconds = v === "" ? null : Number(v);
    }));
    document.querySelectorAll("#prop-categories input").forEach((box) => box.addEventListener("change", zoneProp((z) => {
      z.categories = Array.from(document.querySelectorAll("#prop-categories input:checked")).map((b) => b.value);
    })));
    $("prop-categories-default").addEventListener("click", zoneProp((z) => { z.categories = null; fillProps(); }));
    schedules.listen(zoneProp);
  }

  function payload() {
    return {
      revision,
      zones: zones.map((z) => {
        const out = { id: z.id, type: z.type, name: z.name || "", polygon: z.polygon.map(round), min_overlap: z.min_overlap ?? 0.5 };
        if (z.dwell_seconds != null) out.dwell_seconds = z.dwell_seconds;
        if (z.categories != null) out.categories = z.categories;
        if (z.arming != null) out.arming = schedules.payload(z.arming);
        return out;
      }),
      masks: masks.map((m) => m.map(round)),
    };
  }

  async function save() {
    status("", t("editor.saving"));
    $("save").disabled = true;
    let response;
    let body = {};
    try {
      response = await fetch(data.save_url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf, Accept: "application/json" },
        body: JSON.stringify(payload()),
      });
      body = await response.json().catch(() => ({}));
    } catch (err) {
      status("error", t("editor.failed"));
      updateButtons();
      return;
    }
    if (response.ok) {
      revision = body.revision;
      $("revision-label").textContent = t("editor.revision", { n: revision });
      saved = clone({ zones, masks });
      dirty = false;
      invalid = new Set();
      status("ok", t("editor.saved", { n: revision }));
    } else if (response.status === 409) {
      status("error", t("editor.stale"));
    } else {
      const errors = body.errors || [String(response.status)];
      invalid = new Set();
      errors.forEach((line) => {
        const m = /(zones|masks)\[(\d+)\]/.exec(line);
        if (m) invalid.add(`${m[1] === "zones" ? "zone" : "mask"}:${m[2]}`);
      });
      status("error", t("editor.invalid"), errors);
    }
    render();
  }

  window.addEventListener("beforeunload", (event) => { if (dirty) { event.preventDefault(); event.returnValue = ""; } });
  render();
})();
