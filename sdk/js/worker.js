// Web Worker entry of the browser runtime (see worker-client.js). A classic worker, not a
// module worker: LiteRT.js loads its wasm glue with importScripts(), which module workers
// lack; the runtime itself comes in by dynamic import(). Messages that arrive while it loads
// are kept and handled once it is there.
self.pendingMessages = [];
self.onmessage = (event) => self.pendingMessages.push(event);
import("./worker-main.js").catch((err) => {
  self.postMessage({ type: "fatal", error: `the detector worker did not start: ${err}` });
});
