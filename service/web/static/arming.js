// The zone editor's arming schedules (editor.html #prop-arming): a zone is armed except in its disarmed
// windows, in site time; its own schedule replaces the camera's. editor.js owns the zones and calls
// `window.clearwayArming(api)` with {data, t, $, clone, zone() (the selected zone or null), changed()}.
"use strict";

window.clearwayArming = function (api) {
  const { data, t, $, clone } = api;
  const arming = data.arming;
  const dayNames = (days) => (days.length === 7 ? t("arming.every_day") : days.map((d) => t(`arming.day.${d}`)).join(" "));
  const crosses = (w) => /^\d\d:\d\d$/.test(w.from) && /^\d\d:\d\d$/.test(w.to) && w.to < w.from;

  function describe(schedule) {
    if (!schedule || !schedule.disarmed.length) return [t("arming.always")];
    const lines = schedule.disarmed.map((w) => t("arming.window", {
      days: dayNames(w.days), start: w.from, end: crosses(w) ? t("arming.next_day", { time: w.to }) : w.to }));
    if (arming.holidays.length) {
      lines.push(t("arming.holidays_line", { n: arming.holidays.length, rule: t(`arming.holidays.${schedule.holidays}`) }));
    }
    return lines;
  }

  function fillArming(z) {
    const own = z.arming != null;
    const effective = own ? z.arming : arming.camera;
    $("prop-arming-mode").value = own ? "own" : "inherit";
    $("arming-own").hidden = !own;
    fillSummary(effective);
    const now = $("arming-now");
    const atLoad = data.zones.find((s) => s.id === z.id); // armed_now is of the schedules the page was loaded with
    const state = arming.armed_now[z.id];
    now.hidden = state === undefined || !atLoad || JSON.stringify(atLoad.arming ?? null) !== JSON.stringify(z.arming ?? null);
    now.className = `arming-now small${state === false ? " disarmed" : ""}`;
    now.textContent = t(state === false ? "arming.now_disarmed" : "arming.now_armed", { time: arming.now });
    if (own) { $("prop-arming-holidays").value = z.arming.holidays || "as_sunday"; renderWindows(z); }
  }

  function fillSummary(schedule) {
    $("arming-summary").replaceChildren(...describe(schedule).map((line) => {
      const li = document.createElement("li");
      li.textContent = line;
      return li;
    }));
  }

  function renderWindows(z) {
    const list = $("arming-windows");
    list.replaceChildren();
    z.arming.disarmed.forEach((w, i) => {
      const li = document.createElement("li");
      li.className = "arming-window";
      li.dataset.window = i;
      const days = document.createElement("div");
      days.className = "arming-days";
      days.setAttribute("role", "group");
      days.setAttribute("aria-label", t("arming.days"));
      arming.days.forEach((d) => {
        const label = document.createElement("label");
        label.className = "check";
        const box = document.createElement("input");
        box.type = "checkbox";
        box.value = d;
        box.checked = w.days.includes(d);
        box.addEventListener("change", windowProp(i, (win) => {
          win.days = arming.days.filter((day) => (day === d ? box.checked : win.days.includes(day)));
        }));
        label.append(box, document.createTextNode(t(`arming.day.${d}`)));
        days.append(label);
      });
      const times = document.createElement("div");
      times.className = "arming-times";
      const time = (key, field) => {
        const label = document.createElement("label");
        const input = document.createElement("input");
        input.className = `arming-${field}`;
        input.value = w[field];
        input.required = true;
        input.pattern = "([01][0-9]|2[0-3]):[0-5][0-9]|24:00";
        input.inputMode = "numeric";
        input.autocomplete = "off";
        input.placeholder = field === "from" ? "06:00" : "10:00";
        input.addEventListener("input", windowProp(i, (win) => { win[field] = input.value.trim(); }, false));
        label.append(document.createTextNode(t(key)), input);
        return label;
      };
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "danger-outline arming-remove";
      remove.textContent = t("arming.remove_window");
      remove.addEventListener("click", windowProp(i, null));
      times.append(time("arming.start", "from"), time("arming.end", "to"), remove);
      li.append(days, times);
      list.append(li);
    });
  }

  // A change to window i (fn edits it; null removes it); `redraw` false keeps the focused input while typing.
  function windowProp(i, fn, redraw = true) {
    return () => {
      const z = api.zone();
      if (!z) return;
      if (fn) fn(z.arming.disarmed[i]); else z.arming.disarmed.splice(i, 1);
      api.changed();
      if (redraw) fillArming(z);
      else { fillSummary(z.arming); $("arming-now").hidden = true; } // no longer the schedule "now" was of
    };
  }

  /** The editor's `zoneProp(fn)` wraps a change to the selected zone (then marks the editor changed). */
  function listen(zoneProp) {
    $("prop-arming-mode").addEventListener("change", zoneProp((z) => {
      const base = data.arming.camera || { disarmed: [], holidays: "as_sunday" };
      z.arming = $("prop-arming-mode").value === "own" ? clone(base) : null;
      fillArming(z);
    }));
    $("prop-arming-holidays").addEventListener("change", zoneProp((z) => {
      z.arming.holidays = $("prop-arming-holidays").value;
      fillArming(z);
    }));
    $("arming-add").addEventListener("click", zoneProp((z) => {
      z.arming.disarmed.push({ days: data.arming.days.slice(), from: "06:00", to: "10:00" });
      fillArming(z);
      const inputs = document.querySelectorAll("#arming-windows .arming-from");
      if (inputs.length) inputs[inputs.length - 1].focus();
    }));
  }

  return {
    fill: fillArming,
    listen,
    scheduled: (z) => {
      const schedule = z.arming != null ? z.arming : arming.camera;
      return !!(schedule && schedule.disarmed.length);
    },
    payload: (schedule) => ({
      disarmed: schedule.disarmed.map((w) => ({ days: w.days, from: w.from, to: w.to })),
      holidays: schedule.holidays || "as_sunday",
    }),
  };
};
