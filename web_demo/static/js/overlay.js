// Boxes, labels and scores drawn on a canvas that covers the video (or still image).
// The media element uses `object-fit: contain`, so its picture is a centred rectangle
// inside the element; boxes are mapped through that same rectangle, which keeps them on
// the objects at any aspect ratio and orientation.

const COLOURS = ["#22c55e", "#3b82f6", "#f59e0b", "#ef4444", "#a855f7", "#06b6d4", "#ec4899"];

/** Where a mediaW x mediaH picture lands inside a boxW x boxH element with object-fit: contain. */
export function containRect(boxW, boxH, mediaW, mediaH) {
  const scale = Math.min(boxW / mediaW, boxH / mediaH);
  const width = mediaW * scale;
  const height = mediaH * scale;
  return { x: (boxW - width) / 2, y: (boxH - height) / 2, scale };
}

/** Resize the canvas backing store to its CSS size x devicePixelRatio; returns a context. */
function prepare(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const { width, height } = canvas.getBoundingClientRect();
  const w = Math.round(width * dpr);
  const h = Math.round(height * dpr);
  if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h];
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}

/** Draw detections ({bbox: [x, y, w, h] in media pixels, label, score, classId}). */
export function drawDetections(canvas, detections, mediaW, mediaH) {
  const { ctx, width, height } = prepare(canvas);
  if (!mediaW || !mediaH) return;
  const r = containRect(width, height, mediaW, mediaH);
  const font = Math.max(12, Math.round(Math.min(width, height) / 28));
  ctx.font = `600 ${font}px system-ui, sans-serif`;
  ctx.lineWidth = Math.max(2, font / 6);
  for (const det of detections) {
    const [x, y, w, h] = det.bbox;
    const left = r.x + x * r.scale;
    const top = r.y + y * r.scale;
    const colour = COLOURS[(det.classId ?? 0) % COLOURS.length];
    ctx.strokeStyle = colour;
    ctx.strokeRect(left, top, w * r.scale, h * r.scale);
    const text = `${det.label} ${Math.round(det.score * 100)}%`;
    const tw = ctx.measureText(text).width + 8;
    const ty = top - font - 4 >= 0 ? top - font - 4 : top; // keep the label on screen
    ctx.fillStyle = colour;
    ctx.fillRect(left, ty, tw, font + 4);
    ctx.fillStyle = "#000";
    ctx.fillText(text, left + 4, ty + font);
  }
}

/** Remove every box. */
export function clearOverlay(canvas) {
  prepare(canvas);
}
