// Clearway pages: keyboard triage, evidence toggles. The project's own code, no library.
"use strict";

(function () {
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(el.tagName));
  const go = (href) => { if (href) window.location.assign(href); };

  function hazardPage() {
    const head = document.getElementById("hazard");
    if (!head) return;
    const img = document.getElementById("evidence-img");
    const label = document.getElementById("evidence-label");
    const viewer = img ? img.closest(".viewer") : null;
    const originalBtn = document.getElementById("toggle-original");
    const overlayBtn = document.getElementById("toggle-overlay");
    const help = document.getElementById("help");
    let overlayChosen = false;

    function setOverlay(on) {
      if (!viewer) return;
      viewer.classList.toggle("show-overlay", on);
      if (overlayBtn) overlayBtn.setAttribute("aria-pressed", String(on));
    }
    function toggleOriginal() {
      if (!img || !originalBtn) return;
      const showOriginal = originalBtn.getAttribute("aria-pressed") !== "true";
      img.src = showOriginal ? img.dataset.original : img.dataset.annotated;
      originalBtn.setAttribute("aria-pressed", String(showOriginal));
      if (label) label.textContent = showOriginal ? label.dataset.original : label.dataset.annotated;
      if (!overlayChosen) setOverlay(showOriginal); // the original has no drawing: show ours
    }
    function toggleOverlay() {
      overlayChosen = true;
      setOverlay(!(viewer && viewer.classList.contains("show-overlay")));
    }
    // The annotated picture is the frame plus a caption band below it: the overlay's coordinate space follows
    // the picture shown, so the frame's boxes land on the frame's rows whichever picture it is.
    const mainOverlay = viewer ? viewer.querySelector(".ov-main") : null;
    function fitOverlay() {
      if (!mainOverlay || !img.naturalWidth) return;
      const box = mainOverlay.viewBox.baseVal;
      mainOverlay.setAttribute("viewBox", `0 0 ${box.width} ${(img.naturalHeight * box.width) / img.naturalWidth}`);
    }
    if (img) { img.addEventListener("load", fitOverlay); if (img.complete) fitOverlay(); }
    if (originalBtn) originalBtn.addEventListener("click", toggleOriginal);
    if (overlayBtn) overlayBtn.addEventListener("click", toggleOverlay);
    const helpBtn = document.getElementById("show-help");
    if (helpBtn && help) helpBtn.addEventListener("click", () => help.showModal());

    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
      if (help && help.open) return;
      const key = event.key;
      let handled = true;
      if (key === "j" || key === "ArrowRight") go(head.dataset.next);
      else if (key === "k" || key === "ArrowLeft") go(head.dataset.prev);
      else if (key === "c") {
        const form = document.getElementById("form-confirm");
        if (form) form.requestSubmit(); else handled = false;
      } else if (key === "m") {
        const major = document.getElementById("do-confirm-major");
        if (major) major.form.requestSubmit(major); else handled = false;
      } else if (key === "d") {
        const reason = document.getElementById("dismiss-reason");
        if (reason) { reason.scrollIntoView({ block: "center" }); reason.focus(); } else handled = false;
      } else if (key === "o") toggleOriginal();
      else if (key === "b") toggleOverlay();
      else if (key === "u") go(document.querySelector(".hazard-head .back")?.getAttribute("href"));
      else if (key === "?" && help) help.showModal();
      else handled = false;
      if (handled) event.preventDefault();
    });
  }

  function queuePage() {
    const filters = document.getElementById("filter-box");
    const narrow = window.matchMedia("(max-width: 640px)").matches;
    if (filters && narrow && !filters.querySelector(".badge")) filters.open = false; // phones: list first
    const list = document.getElementById("queue");
    if (!list) return;
    const items = Array.from(list.querySelectorAll(".qitem"));
    let index = -1;
    function select(i) {
      if (!items.length) return;
      index = Math.max(0, Math.min(items.length - 1, i));
      items.forEach((el, n) => el.classList.toggle("selected", n === index));
      items[index].focus({ preventScroll: true });
      items[index].scrollIntoView({ block: "nearest" });
    }
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const active = document.activeElement;
      if (typing(active) && !(active && active.classList.contains("qitem"))) return;
      if (event.key === "j") { select(index + 1); event.preventDefault(); }
      else if (event.key === "k") { select(index - 1); event.preventDefault(); }
      else if (event.key === "n") go(document.getElementById("older")?.getAttribute("href"));
      else if (event.key === "p") go(document.getElementById("newer")?.getAttribute("href"));
    });
  }

  document.addEventListener("DOMContentLoaded", () => { hazardPage(); queuePage(); });
})();
