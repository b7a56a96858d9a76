// Leaderboard charts drawn as inline SVG, no library.
// Data comes from <script type="application/json" id="bench-data"> (cells + variants).
// Every user-supplied string is written with textContent: never innerHTML.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const data = JSON.parse(document.getElementById("bench-data").textContent);

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clear(svg) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
  }

  function size(svg) {
    const box = svg.getBoundingClientRect();
    return { w: Math.max(box.width, 320), h: Math.max(box.height, 200) };
  }

  function niceMax(value) {
    if (!(value > 0)) return 1;
    const step = Math.pow(10, Math.floor(Math.log10(value)));
    return Math.ceil(value / step) * step;
  }

  function message(svg, text) {
    const { w, h } = size(svg);
    svg.appendChild(el("text", { x: w / 2, y: h / 2, "text-anchor": "middle", class: "label" }, text));
  }

  function variantOf(cell) {
    return cell.model + "/" + cell.format + "/" + cell.quantization;
  }

  // Horizontal bars: one per device (and backend) for the chosen model variant.
  function drawFps(svg, variant) {
    clear(svg);
    const rows = data.cells
      .filter((c) => variantOf(c) === variant)
      .sort((a, b) => b.median_fps - a.median_fps);
    if (!rows.length) return message(svg, "No valid report for this variant yet.");
    const { w, h } = size(svg);
    const left = Math.min(220, w * 0.4), right = 50, top = 10, bottom = 24;
    const max = niceMax(Math.max(...rows.map((r) => r.median_fps)));
    const band = (h - top - bottom) / rows.length;
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    rows.forEach((row, i) => {
      const y = top + i * band;
      const width = ((w - left - right) * row.median_fps) / max;
      const bar = el("rect", { class: "bar", x: left, y: y + band * 0.15, width, height: band * 0.7 });
      bar.appendChild(el("title", {}, `${row.device} (${row.backend}): ${row.median_fps.toFixed(1)} FPS, ${row.count} reports`));
      svg.appendChild(bar);
      const label = `${row.device} · ${row.backend}`;
      svg.appendChild(el("text", { x: left - 6, y: y + band / 2 + 4, "text-anchor": "end", class: "tick" }, label));
      const value = row.median_fps.toFixed(1) + (row.low_count ? " (few)" : "");
      svg.appendChild(el("text", { x: left + width + 4, y: y + band / 2 + 4, class: "tick" }, value));
    });
    svg.appendChild(el("line", { class: "axis", x1: left, y1: h - bottom, x2: w - right, y2: h - bottom }));
    svg.appendChild(el("text", { x: w - right, y: h - 6, "text-anchor": "end", class: "label" }, `FPS (axis to ${max})`));
  }

  function axes(svg, box, xMax, yMax, xLabel, yLabel) {
    const { left, top, right, bottom } = box;
    svg.appendChild(el("line", { class: "axis", x1: left, y1: bottom, x2: right, y2: bottom }));
    svg.appendChild(el("line", { class: "axis", x1: left, y1: top, x2: left, y2: bottom }));
    for (let i = 0; i <= 4; i++) {
      const x = left + ((right - left) * i) / 4, y = bottom - ((bottom - top) * i) / 4;
      svg.appendChild(el("text", { x, y: bottom + 14, "text-anchor": "middle", class: "tick" }, ((xMax * i) / 4).toFixed(1)));
      svg.appendChild(el("text", { x: left - 4, y: y + 4, "text-anchor": "end", class: "tick" }, ((yMax * i) / 4).toFixed(2)));
    }
    svg.appendChild(el("text", { x: (left + right) / 2, y: bottom + 30, "text-anchor": "middle", class: "label" }, xLabel));
    svg.appendChild(el("text", { x: 12, y: top - 2, class: "label" }, yLabel));
  }

  // Scatter of variants (x: median latency, y: mAP) with the Pareto frontier as a line.
  function drawPareto(svg) {
    clear(svg);
    const points = data.variants.filter((v) => v.map !== null);
    if (!points.length) return message(svg, "No variant with both reports and a known mAP.");
    const { w, h } = size(svg);
    const box = { left: 50, top: 18, right: w - 20, bottom: h - 40 };
    const xMax = niceMax(Math.max(...points.map((p) => p.median_latency_ms)) * 1.1);
    const yMax = niceMax(Math.max(...points.map((p) => p.map)) * 1.1);
    const sx = (v) => box.left + ((box.right - box.left) * v) / xMax;
    const sy = (v) => box.bottom - ((box.bottom - box.top) * v) / yMax;
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    axes(svg, box, xMax, yMax, "median latency (ms)", "mAP");
    const front = points.filter((p) => p.pareto).sort((a, b) => a.median_latency_ms - b.median_latency_ms);
    const path = front.map((p) => `${sx(p.median_latency_ms)},${sy(p.map)}`).join(" ");
    if (front.length > 1) svg.appendChild(el("polyline", { class: "frontier", points: path }));
    for (const p of points) {
      const x = sx(p.median_latency_ms), y = sy(p.map);
      const dot = el("circle", { class: p.pareto ? "point pareto" : "point", cx: x, cy: y, r: 5 });
      dot.appendChild(el("title", {}, `${p.variant}: ${p.median_latency_ms.toFixed(1)} ms, mAP ${p.map}, ${p.count} reports`));
      svg.appendChild(dot);
      svg.appendChild(el("text", { x: x + 7, y: y - 6, class: "tick" }, p.variant));
    }
  }

  function setup() {
    const select = document.getElementById("variant-select");
    const variants = [...new Set(data.cells.map(variantOf))].sort();
    for (const v of variants) {
      const option = document.createElement("option");
      option.value = v;
      option.textContent = v;
      select.appendChild(option);
    }
    const fps = document.getElementById("fps-chart");
    const redraw = () => {
      drawFps(fps, select.value);
      drawPareto(document.getElementById("pareto-chart"));
    };
    select.addEventListener("change", redraw);
    window.addEventListener("resize", redraw);
    redraw();
  }

  setup();
})();
