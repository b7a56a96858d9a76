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
    return { w: Math.max(box.width, 240), h: Math.max(box.height, 200) };
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

  // Cut a label to about `width` pixels of 11 px text (SVG text does not wrap or ellipsize);
  // the full text stays in the element's <title>.
  function fit(text, width) {
    const chars = Math.max(4, Math.floor(width / 6.3));
    return text.length <= chars ? text : text.slice(0, chars - 1) + "…";
  }

  // Horizontal bars: one per device (and engine, backend) for the chosen model variant. On a narrow
  // screen each label sits above its bar, using the whole width; the chart grows with the
  // number of bars so that each stays readable.
  function drawFps(svg, variant) {
    clear(svg);
    const rows = data.cells
      .filter((c) => variantOf(c) === variant)
      .sort((a, b) => b.median_fps - a.median_fps);
    const w = Math.max(svg.getBoundingClientRect().width, 240);
    const stacked = w < 520;
    const band = stacked ? 36 : 24, top = 8, bottom = 26;
    const h = rows.length ? top + rows.length * band + bottom : 120;
    svg.style.height = `${h}px`;
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    if (!rows.length) return message(svg, "No valid report for this variant yet.");
    const left = stacked ? 4 : Math.min(220, w * 0.4), right = 56;
    const max = niceMax(Math.max(...rows.map((r) => r.median_fps)));
    rows.forEach((row, i) => {
      const y = top + i * band;
      const barY = stacked ? y + 15 : y + band * 0.15, barH = stacked ? band - 19 : band * 0.7;
      const width = Math.max(1, ((w - left - right) * row.median_fps) / max);
      const full = `${row.device} · ${row.runtime} ${row.backend}`;
      const bar = el("rect", { class: "bar", x: left, y: barY, width, height: barH });
      bar.appendChild(el("title", {}, `${full}: ${row.median_fps.toFixed(1)} FPS, ${row.count} reports`));
      svg.appendChild(bar);
      const label = stacked
        ? el("text", { x: left, y: y + 11, class: "tick" }, fit(full, w - left))
        : el("text", { x: left - 6, y: y + band / 2 + 4, "text-anchor": "end", class: "tick" }, fit(full, left - 8));
      label.appendChild(el("title", {}, full));
      svg.appendChild(label);
      const value = row.median_fps.toFixed(1) + (row.low_count ? " (few)" : "");
      svg.appendChild(el("text", { x: left + width + 4, y: barY + barH / 2 + 4, class: "tick" }, value));
    });
    svg.appendChild(el("line", { class: "axis", x1: left, y1: h - bottom, x2: w - right, y2: h - bottom }));
    svg.appendChild(el("text", { x: w - 4, y: h - 8, "text-anchor": "end", class: "label" }, `FPS (axis to ${max})`));
  }

  function axes(svg, box, x, y, xLabel, yLabel) {
    const { left, top, right, bottom } = box;
    svg.appendChild(el("line", { class: "axis", x1: left, y1: bottom, x2: right, y2: bottom }));
    svg.appendChild(el("line", { class: "axis", x1: left, y1: top, x2: left, y2: bottom }));
    for (let i = 0; i <= 4; i++) {
      const px = left + ((right - left) * i) / 4, py = bottom - ((bottom - top) * i) / 4;
      const xv = x.min + ((x.max - x.min) * i) / 4, yv = y.min + ((y.max - y.min) * i) / 4;
      svg.appendChild(el("text", { x: px, y: bottom + 14, "text-anchor": "middle", class: "tick" }, xv.toFixed(xv < 10 ? 1 : 0)));
      svg.appendChild(el("text", { x: left - 4, y: py + 4, "text-anchor": "end", class: "tick" }, yv.toFixed(2)));
    }
    svg.appendChild(el("text", { x: (left + right) / 2, y: bottom + 30, "text-anchor": "middle", class: "label" }, xLabel));
    svg.appendChild(el("text", { x: 4, y: top - 6, class: "label" }, yLabel));
  }

  // mAP axis around the data (variants differ by a few points: from 0 they would overlap).
  function mapRange(values) {
    const lo = Math.min(...values), hi = Math.max(...values);
    const min = Math.max(0, Math.floor((lo - 0.02) * 20) / 20);
    const max = Math.min(1, Math.ceil((hi + 0.02) * 20) / 20);
    return { min, max: max > min ? max : min + 0.05 };
  }

  // Scatter of variants (x: median latency, y: mAP) with the Pareto frontier as a line. Each
  // point carries a number; the legend below the chart names it, so labels never overlap
  // however many variants there are.
  function drawPareto(svg, legend) {
    clear(svg);
    while (legend.firstChild) legend.removeChild(legend.firstChild);
    const points = data.variants.filter((v) => v.map !== null)
      .sort((a, b) => a.median_latency_ms - b.median_latency_ms);
    const { w, h } = size(svg);
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    if (!points.length) return message(svg, "No variant with both reports and a known mAP.");
    const box = { left: 42, top: 20, right: w - 12, bottom: h - 40 };
    const x = { min: 0, max: niceMax(Math.max(...points.map((p) => p.median_latency_ms)) * 1.1) };
    const y = mapRange(points.map((p) => p.map));
    const sx = (v) => box.left + ((box.right - box.left) * (v - x.min)) / (x.max - x.min);
    const sy = (v) => box.bottom - ((box.bottom - box.top) * (v - y.min)) / (y.max - y.min);
    axes(svg, box, x, y, "median latency (ms)", "mAP");
    const front = points.filter((p) => p.pareto);
    const path = front.map((p) => `${sx(p.median_latency_ms)},${sy(p.map)}`).join(" ");
    if (front.length > 1) svg.appendChild(el("polyline", { class: "frontier", points: path }));
    points.forEach((p, i) => {
      const cx = sx(p.median_latency_ms), cy = sy(p.map);
      const text = `${p.variant} on ${p.runtime}: ${p.median_latency_ms.toFixed(1)} ms (${p.median_fps.toFixed(1)} FPS), mAP ${p.map.toFixed(3)}, ${p.count} reports`;
      const dot = el("circle", { class: p.pareto ? "point pareto" : "point", cx, cy, r: 5 });
      dot.appendChild(el("title", {}, text));
      svg.appendChild(dot);
      svg.appendChild(el("text", { x: cx + 6, y: cy - 6 - (i % 2) * 9, class: "tick" }, String(i + 1)));
      const item = document.createElement("li");
      item.textContent = text + (p.pareto ? " (frontier)" : "");
      if (p.pareto) item.className = "pareto";
      legend.appendChild(item);
    });
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
      drawPareto(document.getElementById("pareto-chart"), document.getElementById("pareto-legend"));
    };
    select.addEventListener("change", redraw);
    window.addEventListener("resize", redraw);
    redraw();
  }

  setup();
})();
