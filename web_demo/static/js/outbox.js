// Reports wait here until the collector acknowledges them (201 created / 200 already had it).
// Kept in localStorage, so a report survives a network failure, a reload or a closed tab;
// the report_id is the collector's idempotency key, so resending is always safe.

const KEY = "sdk-demo.outbox.v1";
const FIRST_RETRY_MS = 2000;
const MAX_RETRY_MS = 60000;
// Answers that will never change on resend: drop the report instead of retrying forever.
const PERMANENT = new Set([400, 401, 403, 404, 413, 415, 422]);

export function pending() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "[]");
  } catch {
    return [];
  }
}

function save(reports) {
  localStorage.setItem(KEY, JSON.stringify(reports));
}

export function enqueue(report) {
  save([...pending().filter((r) => r.report_id !== report.report_id), report]);
}

function remove(reportId) {
  save(pending().filter((r) => r.report_id !== reportId));
}

/** Try to send one report; returns "sent", "rejected" (dropped) or "retry". */
async function send(url, report) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(report),
    });
  } catch {
    return { outcome: "retry", detail: "network error" };
  }
  const body = await response.json().catch(() => ({}));
  if (response.status === 201 || response.status === 200) return { outcome: "sent", body };
  if (PERMANENT.has(response.status)) return { outcome: "rejected", body, status: response.status };
  return { outcome: "retry", detail: `HTTP ${response.status}` };
}

/** Send every pending report once; acknowledged or rejected ones leave the outbox. */
export async function flush(url) {
  const results = [];
  for (const report of pending()) {
    const result = await send(url, report);
    if (result.outcome !== "retry") remove(report.report_id);
    results.push({ reportId: report.report_id, ...result });
  }
  return results;
}

/** Keep flushing with exponential backoff while anything is pending. */
export class Retrier {
  constructor(url, onResult) {
    this.url = url;
    this.onResult = onResult;
    this.delay = FIRST_RETRY_MS;
    this.timer = null;
    window.addEventListener("online", () => this.now());
  }

  /** Flush now and schedule the next attempt if something is still waiting. */
  async now() {
    clearTimeout(this.timer);
    this.timer = null;
    const results = await flush(this.url);
    const failed = results.some((r) => r.outcome === "retry");
    this.delay = failed ? Math.min(this.delay * 2, MAX_RETRY_MS) : FIRST_RETRY_MS;
    if (pending().length) this.timer = setTimeout(() => this.now(), this.delay);
    this.onResult(results, pending().length);
    return results;
  }
}
