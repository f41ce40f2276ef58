// The link picture: a document's neighbourhood as a clickable SVG graph.
// Radial layout, no library: the document in the centre, depth-1 neighbours on a
// ring, depth-2 ones on an outer ring near the node that reached them.
"use strict";

window.loreGraph = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = { ADR: "#b45309", Epic: "#7c3aed", Feature: "#2563eb", UserStory: "#0891b2",
                   Task: "#059669", Bug: "#dc2626", Note: "#64748b" };
  const svgEl = (tag, attrs = {}) => {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    return node;
  };
  const short = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

  function layout(nodes, edges) {
    const size = 400, centre = size / 2, pos = new Map();
    const first = nodes.filter((n) => n.depth === 1);
    const second = nodes.filter((n) => n.depth === 2);
    pos.set(nodes[0].rowid, [centre, centre]);
    first.forEach((node, i) => {
      const angle = (2 * Math.PI * i) / Math.max(first.length, 1) - Math.PI / 2;
      pos.set(node.rowid, [centre + 110 * Math.cos(angle), centre + 110 * Math.sin(angle)]);
    });
    second.forEach((node, i) => {
      const parentEdge = edges.find((e) => e.target === node.rowid && pos.has(e.source) && e.source !== nodes[0].rowid);
      const base = parentEdge ? Math.atan2(pos.get(parentEdge.source)[1] - centre, pos.get(parentEdge.source)[0] - centre)
        : (2 * Math.PI * i) / Math.max(second.length, 1);
      const angle = base + ((i % 5) - 2) * 0.16;
      pos.set(node.rowid, [centre + 175 * Math.cos(angle), centre + 175 * Math.sin(angle)]);
    });
    return { size, pos };
  }

  function draw(container, data, open) {
    const { nodes, edges } = data;
    if (nodes.length <= 1) { container.textContent = "No linked documents."; return; }
    const { size, pos } = layout(nodes, edges);
    const svg = svgEl("svg", { viewBox: `0 0 ${size} ${size}`, "aria-label": `${nodes.length - 1} linked documents` });
    const depth = new Map(nodes.map((n) => [n.rowid, n.depth]));
    const drawn = new Set();
    for (const edge of edges) {
      const a = pos.get(edge.source), b = pos.get(edge.target);
      // One line per pair: a link and its inverse (parent/child) are one relation.
      const key = [edge.source, edge.target].sort().join("-");
      if (!a || !b || drawn.has(key)) continue;
      drawn.add(key);
      const group = svgEl("g", { class: "edge", "data-kind": edge.kind, "data-source": edge.source, "data-target": edge.target });
      group.append(svgEl("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }));
      const tip = svgEl("title");
      tip.textContent = edge.kind.replace("_", " ");
      group.append(tip);
      if (Math.max(depth.get(edge.source), depth.get(edge.target)) <= 1) {
        // Only the first ring's edges are labelled: beyond it labels overlap.
        const label = svgEl("text", { x: (a[0] + b[0]) / 2, y: (a[1] + b[1]) / 2 - 2, "text-anchor": "middle" });
        label.textContent = edge.kind.replace("_", " ");
        group.append(label);
      }
      svg.insertBefore(group, svg.firstChild);
    }
    for (const node of nodes) {
      const [x, y] = pos.get(node.rowid);
      const group = svgEl("g", { class: "node", tabindex: 0, role: "link", "data-path": node.path,
                                 "aria-label": `${node.doc_id}: ${node.title}` });
      group.append(svgEl("circle", { cx: x, cy: y, r: [11, 8, 5][node.depth], fill: COLORS[node.doctype] ?? "#475569" }));
      const tip = svgEl("title");
      tip.textContent = `${node.doc_id !== node.path ? node.doc_id + ": " : ""}${node.title}`;
      group.append(tip);
      if (node.depth <= 1) {
        const label = svgEl("text", { x, y: y + (node.depth === 0 ? 22 : 18), "text-anchor": "middle" });
        label.textContent = short(node.doc_id && node.doc_id !== node.path ? node.doc_id : node.title, 22);
        group.append(label);
      }
      if (node.depth > 0) {
        group.addEventListener("click", () => open(node.path));
        group.addEventListener("keydown", (event) => { if (event.key === "Enter") open(node.path); });
      }
      svg.append(group);
    }
    container.replaceChildren(svg);
  }

  return { draw };
})();
