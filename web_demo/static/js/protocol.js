// The device benchmark protocol's arithmetic, ported from sdk/bench/protocol.py.
// The constants (loop bounds, IoU, recall) are not repeated here: the page fetches them
// from GET /api/v1/protocol, so the browser runs exactly what the Python CLI runs.

/** True once a loop has done enough runs and time, or hit a cap (LoopBounds.should_stop). */
export function shouldStop(bounds, runs, elapsedS) {
  if (runs >= bounds.max_runs || elapsedS >= bounds.max_seconds) return true;
  return runs >= bounds.min_runs && elapsedS >= bounds.min_seconds;
}

/** q-th percentile (0..100) of sorted values, linear interpolation (numpy's default). */
export function percentile(sorted, q) {
  if (!sorted.length) throw new Error("percentile of an empty list");
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** p50, p90, p99, min, max and mean of latencies in ms. */
export function summarize(latencies) {
  const v = [...latencies].sort((a, b) => a - b);
  const sum = v.reduce((acc, x) => acc + x, 0);
  return {
    p50: percentile(v, 50), p90: percentile(v, 90), p99: percentile(v, 99),
    min: v[0], max: v[v.length - 1], mean: sum / v.length,
  };
}

/** Median of a list (the per-stage times are reported as medians). */
export function median(values) {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function fpsFromP50(p50) {
  return p50 > 0 ? 1000 / p50 : 0;
}

/** Intersection over union of two [x1, y1, x2, y2] boxes. */
export function iou(a, b) {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedily match reference boxes (best score first); returns matched score deltas. */
function matchImage(reference, measured, iouMin) {
  const free = [...measured];
  const deltas = [];
  for (const ref of [...reference].sort((a, b) => b.score - a.score)) {
    let best = -1;
    let bestIou = iouMin;
    free.forEach((cand, i) => {
      const overlap = iou(ref.box, cand.box);
      if (cand.label === ref.label && overlap >= bestIou) [best, bestIou] = [i, overlap];
    });
    if (best >= 0) deltas.push(Math.abs(ref.score - free.splice(best, 1)[0].score));
  }
  return deltas;
}

/** Accuracy fingerprint: recall of the reference boxes per image (compare_detections). */
export function compareDetections(reference, measured, accuracy) {
  const total = reference.reduce((n, dets) => n + dets.length, 0);
  const deltas = reference.flatMap((ref, i) => matchImage(ref, measured[i], accuracy.iou));
  const fraction = total ? deltas.length / total : 1;
  return {
    probe_images: reference.length,
    matched_fraction: fraction,
    max_score_delta: deltas.length ? Math.max(...deltas) : 0,
    passed: reference.length >= accuracy.min_probe_images && fraction >= accuracy.min_recall,
  };
}
