// Views, paging, filters and keyboard moves for the pushcal calendar page. It never builds
// markup from calendar text: everything it shows is already in the page, escaped.
"use strict";
(function () {
  const views = { month: [...document.querySelectorAll("section.month")],
                  week: [...document.querySelectorAll("section.week")] };
  const opening = (list) => Math.max(0, list.findIndex((s) => "opens" in s.dataset));
  const state = { view: "month", index: { month: opening(views.month), week: opening(views.week) },
                  account: "", provider: "" };
  const account = document.getElementById("account");
  const provider = document.getElementById("provider");

  function read() {
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.get("view") === "week") state.view = "week";
    for (const name of ["month", "week"]) {
      const at = views[name].findIndex((s) => s.dataset.id === hash.get(name));
      if (at >= 0) state.index[name] = at;
    }
    state.account = hash.get("account") || "";
    state.provider = hash.get("provider") || "";
    account.value = state.account;
    provider.value = state.provider;
  }

  function show() {
    for (const name of ["month", "week"]) {
      views[name].forEach((s, i) => { s.hidden = name !== state.view || i !== state.index[name]; });
    }
    document.getElementById("show-month").setAttribute("aria-pressed", String(state.view === "month"));
    document.getElementById("show-week").setAttribute("aria-pressed", String(state.view === "week"));
    for (const card of document.querySelectorAll("article.card")) {
      card.hidden = (state.account && card.dataset.account !== state.account) ||
                    (state.provider && card.dataset.provider !== state.provider);
    }
    const hash = new URLSearchParams({ view: state.view });
    const current = views[state.view][state.index[state.view]];
    if (current) hash.set(state.view, current.dataset.id);
    if (state.account) hash.set("account", state.account);
    if (state.provider) hash.set("provider", state.provider);
    history.replaceState(null, "", "#" + hash.toString());
  }

  function page(step) {
    const list = views[state.view];
    state.index[state.view] = Math.max(0, Math.min(list.length - 1, state.index[state.view] + step));
    show();
  }

  function switchTo(view) {
    // keep the same days in sight: the week of the month's first shown day, or the week's month
    const from = views[state.view][state.index[state.view]];
    const day = from && from.querySelector(".day:not(.outside)");
    state.view = view;
    if (day) {
      const at = views[view].findIndex((s) => s.querySelector(`.day[data-date="${day.dataset.date}"]:not(.outside)`));
      if (at >= 0) state.index[view] = at;
    }
    show();
  }

  function move(event) {
    // arrow keys walk the days of the shown grid; Enter or the first Tab goes into a day's cards
    const cell = event.target.closest(".day");
    if (!cell || event.target.closest("a, button, select")) return false;
    const cells = [...cell.parentElement.children];
    const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
    const to = cells[cells.indexOf(cell) + steps[event.key]];
    if (!to) return false;
    const target = to.querySelector("article.card:not([hidden])") || to;
    if (target === to) to.tabIndex = -1;
    target.focus();
    return true;
  }

  document.getElementById("prev").addEventListener("click", () => page(-1));
  document.getElementById("next").addEventListener("click", () => page(1));
  document.getElementById("show-month").addEventListener("click", () => switchTo("month"));
  document.getElementById("show-week").addEventListener("click", () => switchTo("week"));
  account.addEventListener("change", () => { state.account = account.value; show(); });
  provider.addEventListener("change", () => { state.provider = provider.value; show(); });
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.target.closest("select")) return;
    const keys = { n: () => page(1), p: () => page(-1), m: () => switchTo("month"), w: () => switchTo("week") };
    if (keys[event.key]) { keys[event.key](); event.preventDefault(); return; }
    if (event.key.startsWith("Arrow") && move(event)) event.preventDefault();
  });
  read();
  show();
})();
