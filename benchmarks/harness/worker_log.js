// Loaded as a classic script before any runtime starts: every Worker is logged under the
// contender being set up (window.phase), showing how many workers each WASM runtime spawned.
window.workerLog = [];
window.phase = "page";
const NativeWorker = window.Worker;
window.Worker = class extends NativeWorker {
  constructor(url, options) {
    super(url, options);
    window.workerLog.push({ phase: window.phase, url: String(url), name: options?.name });
  }
};
