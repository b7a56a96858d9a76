// Stand-in for the Node built-ins ("fs", "path", "os", "perf_hooks", "worker_threads") that
// the ES module build of @tensorflow/tfjs-backend-wasm imports but only uses under Node: the
// page's import map points those bare names here so the module resolves in the browser.
export default {};
