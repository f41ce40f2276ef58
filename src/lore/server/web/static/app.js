// lore's web page: search as you type, facets, documents with their links, index status.
// Everything the folder's files say is put into the page as text nodes (never as HTML),
// except a document body, which the server renders to safe HTML (raw HTML escaped).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  };

  const DEBOUNCE_MS = 120;
  const state = { q: "", mode: "hybrid", explain: false, filters: {}, doc: null, depth: 1 };
  let selected = -1;
  let hits = [];
  let searchSeq = 0;
  let lastKeystroke = 0;
  window.loreTimings = [];   // keystroke-to-rendered-results times, read by the browser tests

  async function api(path, body) {
    const headers = body === undefined ? {} : { "Content-Type": "application/json" };
    const token = sessionStorage.getItem("lore-token");
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) };
    const response = await fetch(path, init);
    if (response.status === 401) {
      // A server bound beyond loopback needs its token (`lore serve --token-env VAR`).
      const given = window.prompt("This lore server needs its access token:");
      if (given) { sessionStorage.setItem("lore-token", given.trim()); return api(path, body); }
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = data.detail ?? data.error?.message ?? response.statusText;
      throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    }
    return data;
  }

  // ---- URL <-> state: a result page or a document can be bookmarked and shared.
  function readUrl() {
    const params = new URLSearchParams(location.search);
    state.q = params.get("q") ?? "";
    state.mode = params.get("mode") ?? "hybrid";
    state.explain = params.get("explain") === "1";
    state.doc = params.get("doc");
    state.depth = params.get("depth") === "2" ? 2 : 1;
    state.filters = {};
    for (const item of params.getAll("f")) {
      const at = item.indexOf(":");
      if (at > 0) (state.filters[item.slice(0, at)] ??= []).push(item.slice(at + 1));
    }
  }

  function writeUrl(push) {
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    if (state.mode !== "hybrid") params.set("mode", state.mode);
    if (state.explain) params.set("explain", "1");
    for (const [key, values] of Object.entries(state.filters)) {
      for (const value of values) params.append("f", `${key}:${value}`);
    }
    if (state.doc) params.set("doc", state.doc);
    if (state.doc && state.depth === 2) params.set("depth", "2");
    const url = `${location.pathname}${params.toString() ? "?" + params : ""}`;
    if (url !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", url);
  }

  // ---- Search and results.
  function snippetNode(hit) {
    const p = el("p", { class: "snippet" });
    let last = 0;
    for (const [start, end] of hit.highlights ?? []) {
      p.append(hit.snippet.slice(last, start), el("mark", { text: hit.snippet.slice(start, end) }));
      last = end;
    }
    p.append(hit.snippet.slice(last));
    return p;
  }

  function explainText(explain) {
    if (!explain) return "";
    const parts = [];
    for (const [leg, info] of Object.entries(explain.legs ?? {})) {
      parts.push(`${leg} #${info.rank ?? "?"} +${Number(info.contribution ?? 0).toFixed(3)}`);
    }
    for (const [boost, value] of Object.entries(explain.boosts ?? {})) parts.push(`${boost} ${Number(value).toFixed(3)}`);
    return parts.length ? parts.join(" · ") : JSON.stringify(explain);
  }

  function hitNode(hit, position) {
    const meta = hit.metadata ?? {};
    const title = el("a", { class: "hit-title", href: `?doc=${encodeURIComponent(hit.path)}`, text: hit.title || hit.path });
    title.addEventListener("click", (event) => { event.preventDefault(); openDoc(hit.path); });
    const line = el("div", { class: "hit-line" });
    if (hit.doc_id && hit.doc_id !== hit.path) line.append(el("span", { class: "badge", text: hit.doc_id }));
    line.append(el("span", { class: "badge", text: hit.doctype }));
    if (meta.state) line.append(el("span", { class: "badge state", text: String(meta.state) }));
    line.append(el("span", { class: "path", text: hit.path }));
    const item = el("li", { class: "hit", id: `hit-${position}`, role: "option", "aria-selected": "false" },
      title, line, snippetNode(hit));
    if (state.explain && hit.explain) item.append(el("div", { class: "explain", text: explainText(hit.explain) }));
    item.addEventListener("click", (event) => { if (event.target === item) openDoc(hit.path); });
    return item;
  }

  function select(position) {
    const nodes = $("hits").children;
    if (!nodes.length) return;
    selected = Math.max(0, Math.min(nodes.length - 1, position));
    for (const [i, node] of Array.from(nodes).entries()) node.setAttribute("aria-selected", String(i === selected));
    nodes[selected].scrollIntoView({ block: "nearest" });
    $("q").setAttribute("aria-activedescendant", `hit-${selected}`);
  }

  async function runSearch() {
    const seq = ++searchSeq;
    const hasFilters = Object.keys(state.filters).length > 0;
    if (!state.q.trim() && !hasFilters) {
      hits = [];
      $("hits").replaceChildren();
      $("result-count").textContent = "Type to search: words, phrases in quotes, ids, or filters like type:Task.";
      renderFacets({});
      return;
    }
    const body = { query: state.q, mode: state.mode, filters: state.filters, limit: 20, explain: state.explain };
    let data;
    try {
      data = await api("/search", body);
    } catch (error) {
      if (seq !== searchSeq) return;
      hits = [];
      $("hits").replaceChildren();
      $("result-count").textContent = String(error.message);
      return;
    }
    if (seq !== searchSeq) return;   // a newer keystroke already asked again
    hits = Array.isArray(data) ? data : (data.hits ?? []);
    const notices = Array.isArray(data) ? [] : (data.notices ?? []);
    $("hits").replaceChildren(...hits.map(hitNode));
    $("hits").setAttribute("role", "listbox");
    const count = el("span", { text: hits.length ? `${hits.length} result${hits.length === 1 ? "" : "s"}` : "No matches." });
    $("result-count").replaceChildren(count, ...notices.map((n) => el("span", { class: "notice", text: ` — ${n}` })));
    selected = -1;
    if (lastKeystroke) {
      window.loreTimings.push({ query: state.q, ms: performance.now() - lastKeystroke });
      lastKeystroke = 0;
    }
    document.body.dataset.renderedQuery = state.q;
    api("/web/facets", { query: state.q, mode: state.mode, filters: state.filters })
      .then((f) => { if (seq === searchSeq) renderFacets(f.facets ?? {}); })
      .catch(() => renderFacets({}));
  }

  // ---- Facets.
  function toggleFilter(key, value) {
    const values = state.filters[key] ?? [];
    const at = values.findIndex((v) => v.toLowerCase() === value.toLowerCase());
    if (at >= 0) values.splice(at, 1); else values.push(value);
    if (values.length) state.filters[key] = values; else delete state.filters[key];
    state.doc = null;
    writeUrl(true);
    showResults();
    runSearch();
  }

  function renderFacets(facets) {
    const chips = [];
    for (const [key, values] of Object.entries(state.filters)) {
      for (const value of values) {
        const chip = el("button", { class: "chip", type: "button", "aria-label": `Remove filter ${key} ${value}`, text: `${key}: ${value} ✕` });
        chip.addEventListener("click", () => toggleFilter(key, value));
        chips.push(chip);
      }
    }
    $("active-filters").replaceChildren(...chips);
    const groups = [];
    for (const [key, values] of Object.entries(facets)) {
      const list = el("div", { role: "group", "aria-label": key });
      for (const item of values) {
        const button = el("button", { type: "button", "aria-pressed": String(item.selected), "data-key": key, "data-value": item.value },
          el("span", { text: item.value }), el("span", { class: "n", text: String(item.count) }));
        button.addEventListener("click", () => toggleFilter(key, item.value));
        list.append(button);
      }
      groups.push(el("div", { class: "facet" }, el("h3", { text: key }), list));
    }
    $("facets").replaceChildren(...groups);
  }

  // ---- Document view.
  function docLink(doc) {
    const a = el("a", { href: `?doc=${encodeURIComponent(doc.path)}`, "data-doc": doc.path, text: doc.title || doc.path });
    const item = el("li", {}, a);
    if (doc.doc_id && doc.doc_id !== doc.path) item.append(" ", el("span", { class: "badge", text: doc.doc_id }));
    return item;
  }

  function renderValue(value) {
    if (value === null || value === undefined) return "";
    if (Array.isArray(value)) return value.map(renderValue).join(", ");
    if (typeof value === "object") {
      return Object.entries(value).filter(([, v]) => v !== null && !(Array.isArray(v) && !v.length))
        .map(([k, v]) => `${k}: ${renderValue(v)}`).join("; ");
    }
    return String(value);
  }

  async function openDoc(ref, push = true) {
    state.doc = ref;
    writeUrl(push);
    $("hits").hidden = true;
    $("result-count").hidden = true;
    $("doc").hidden = false;
    let view;
    try {
      view = await api(`/web/document?ref=${encodeURIComponent(ref)}`);
    } catch (error) {
      $("doc-title").textContent = "Not found";
      $("doc-meta").textContent = String(error.message);
      for (const id of ["doc-body", "doc-worklog", "doc-frontmatter", "doc-links", "doc-graph"]) $(id).replaceChildren();
      return;
    }
    document.title = `${view.title} · lore`;
    $("doc-title").textContent = view.title;
    $("doc-meta").replaceChildren(el("span", { class: "badge", text: view.doctype }), " ",
      el("span", { class: "path", text: view.path }), view.doc_id !== view.path ? ` · ${view.doc_id}` : "");
    $("doc-body").innerHTML = view.html;   // rendered server-side with raw HTML escaped
    const rows = Object.entries(view.metadata).map(([key, value]) =>
      el("tr", {}, el("th", { scope: "row", text: key }), el("td", { text: renderValue(value) })));
    $("doc-frontmatter").replaceChildren(...rows);
    const groups = view.links.map((group) => el("div", { class: "links-group", "data-kind": group.kind },
      el("h3", { text: group.label }), el("ul", {}, ...group.docs.map(docLink))));
    $("doc-links").replaceChildren(...(groups.length ? groups : [el("p", { class: "count", text: "No links." })]));
    const days = view.worklog.map((entry) => el("div", { class: "day" }, el("h3", { text: entry.day }), el("p", { text: entry.text })));
    $("doc-worklog").replaceChildren(...(days.length ? [el("h2", { text: "Worklog" }), ...days] : []));
    $("graph-depth").value = String(state.depth);
    drawGraph();
    $("doc-title").focus?.();
    window.scrollTo(0, 0);
  }

  async function drawGraph() {
    try {
      const data = await api(`/web/graph?ref=${encodeURIComponent(state.doc)}&depth=${state.depth}`);
      window.loreGraph.draw($("doc-graph"), data, (path) => openDoc(path));
    } catch (error) {
      $("doc-graph").textContent = String(error.message);
    }
  }

  function showResults() {
    state.doc = null;
    $("doc").hidden = true;
    $("hits").hidden = false;
    $("result-count").hidden = false;
    document.title = "lore";
  }

  // ---- Index status and re-index.
  function fmt(value) {
    if (typeof value === "number" && value > 1e9 && value < 1e11) return new Date(value * 1000).toLocaleString();
    return renderValue(value);
  }

  async function loadStatus() {
    const status = await api("/status");
    const entries = Object.entries(status).filter(([, v]) => v === null || typeof v !== "object");
    for (const [key, value] of Object.entries(status)) {
      if (value && typeof value === "object" && !Array.isArray(value)) {
        for (const [sub, subValue] of Object.entries(value)) {
          if (subValue === null || typeof subValue !== "object") entries.push([`${key}.${sub}`, subValue]);
        }
      }
    }
    $("status-list").replaceChildren(...entries.flatMap(([key, value]) =>
      [el("dt", { text: key.replaceAll("_", " ") }), el("dd", { text: fmt(value) })]));
  }

  async function pollReindex() {
    const job = await api("/web/reindex");
    const bar = $("reindex-progress");
    bar.hidden = !job.running;
    if (job.total) { bar.max = job.total; bar.value = job.done; }
    if (job.running) {
      $("reindex-text").textContent = `${job.phase}: ${job.done} / ${job.total}`;
      setTimeout(pollReindex, 400);
      return;
    }
    $("reindex-button").disabled = false;
    if (job.error) $("reindex-text").textContent = `Re-index failed: ${job.error}`;
    else if (job.report) {
      const r = job.report;
      $("reindex-text").textContent = `Done in ${Number(r.duration ?? 0).toFixed(2)} s: ` +
        `${(r.added ?? []).length} added, ${(r.updated ?? []).length} updated, ${(r.removed ?? []).length} removed.`;
    }
    loadStatus();
  }

  async function startReindex() {
    $("reindex-button").disabled = true;
    $("reindex-text").textContent = "Starting…";
    try { await api("/web/reindex", {}); } catch (error) { $("reindex-text").textContent = String(error.message); }
    pollReindex();
  }

  // ---- Wiring.
  let timer = 0;
  $("q").addEventListener("input", () => {
    lastKeystroke = performance.now();
    state.q = $("q").value;
    clearTimeout(timer);
    timer = setTimeout(() => { writeUrl(false); if (state.doc) showResults(); runSearch(); }, DEBOUNCE_MS);
  });
  $("search-form").addEventListener("submit", (event) => { event.preventDefault(); if (selected >= 0) openDoc(hits[selected].path); });
  $("mode").addEventListener("change", () => { state.mode = $("mode").value; writeUrl(true); runSearch(); });
  $("explain").addEventListener("change", () => { state.explain = $("explain").checked; writeUrl(true); runSearch(); });
  $("doc-back").addEventListener("click", () => { showResults(); writeUrl(true); });
  $("graph-depth").addEventListener("change", () => { state.depth = Number($("graph-depth").value); writeUrl(false); drawGraph(); });
  $("reindex-button").addEventListener("click", startReindex);
  $("status-button").addEventListener("click", () => {
    const panel = $("status-panel");
    panel.hidden = !panel.hidden;
    $("status-button").setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) loadStatus().catch((error) => { $("status-list").textContent = String(error.message); });
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest?.("a[data-doc]");
    if (link) { event.preventDefault(); openDoc(link.dataset.doc); }
  });
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName);
    if (event.key === "/" && !typing) { event.preventDefault(); $("q").focus(); $("q").select(); return; }
    if (event.key === "Escape" && state.doc) { showResults(); writeUrl(true); $("q").focus(); return; }
    if (!$("doc").hidden) return;
    if (event.key === "ArrowDown") { event.preventDefault(); select(selected + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); select(selected - 1); }
    else if (event.key === "Enter" && selected >= 0 && document.activeElement?.id !== "q") { event.preventDefault(); openDoc(hits[selected].path); }
  });
  window.addEventListener("popstate", () => { readUrl(); start(false); });

  function start() {
    $("q").value = state.q;
    $("mode").value = state.mode;
    $("explain").checked = state.explain;
    runSearch();
    if (state.doc) openDoc(state.doc, false); else showResults();
  }

  if (window.matchMedia("(max-width: 700px)").matches) $("facets-box").open = false;
  readUrl();
  start();
})();
