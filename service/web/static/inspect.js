// The inspection page: preview the photo, ask the model for a proposal (kind and boxes), keep the camera and
// zone choices to the chosen compound, and need the after photo when fixed on the spot. The project's own code.
"use strict";

(function () {
  const form = document.getElementById("inspect-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const photo = $("photo"), img = $("preview-img"), svg = $("preview-boxes"), proposeBtn = $("propose");
  const status = $("proposal"), kind = $("kind"), boxes = $("boxes");
  const compound = $("compound"), camera = $("camera"), zone = $("zone"), fixed = $("fixed"), after = $("after-photo");
  const SVG = "http://www.w3.org/2000/svg";

  function drawBoxes(found, width, height) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("preserveAspectRatio", "none");
    for (const b of found) {
      const r = document.createElementNS(SVG, "rect");
      r.setAttribute("x", b.box[0]); r.setAttribute("y", b.box[1]);
      r.setAttribute("width", b.box[2] - b.box[0]); r.setAttribute("height", b.box[3] - b.box[1]);
      svg.appendChild(r);
    }
  }

  photo.addEventListener("change", () => {
    const file = photo.files && photo.files[0];
    boxes.value = "";
    status.textContent = ""; status.classList.remove("found");
    drawBoxes([], 1, 1);
    proposeBtn.disabled = !file;
    if (!file) { $("preview").hidden = true; return; }
    img.src = URL.createObjectURL(file);
    $("preview").hidden = false;
  });

  proposeBtn.addEventListener("click", async () => {
    const file = photo.files && photo.files[0];
    if (!file) return;
    const body = new FormData();
    body.append("photo", file);
    const chosen = zone.selectedOptions[0];
    if (chosen && chosen.dataset.type) body.append("zone_type", chosen.dataset.type);
    proposeBtn.disabled = true;
    status.textContent = form.dataset.proposing; status.classList.remove("found");
    try {
      const answer = await fetch("/api/v1/hazards/propose", {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-CSRF-Token": document.body.dataset.csrf, "Accept": "application/json" },
      });
      if (!answer.ok) throw new Error(String(answer.status));
      const found = await answer.json();
      drawBoxes(found.boxes, found.width, found.height);
      boxes.value = JSON.stringify(found.boxes.map((b) => b.box));
      if (found.kind) {
        kind.value = found.kind;
        const label = kind.selectedOptions[0] ? kind.selectedOptions[0].textContent : found.kind;
        status.textContent = form.dataset.proposed.replace("{kind}", label).replace("{n}", found.boxes.length);
        status.classList.add("found");
      } else {
        status.textContent = form.dataset.nothing;
      }
    } catch (error) {
      status.textContent = form.dataset.failed;
    } finally {
      proposeBtn.disabled = false;
    }
  });

  function filterOptions() {
    for (const o of camera.options) if (o.value) o.hidden = o.dataset.compound !== compound.value;
    if (camera.selectedOptions[0] && camera.selectedOptions[0].hidden) camera.value = "";
    for (const o of zone.options) if (o.value) o.hidden = o.dataset.camera !== camera.value;
    if (zone.selectedOptions[0] && zone.selectedOptions[0].hidden) zone.value = "";
  }
  compound.addEventListener("change", filterOptions);
  camera.addEventListener("change", filterOptions);
  filterOptions();

  function needAfter() {
    after.required = fixed.checked;
    $("after-label").hidden = !fixed.checked;
  }
  fixed.addEventListener("change", needAfter);
  needAfter();
})();
