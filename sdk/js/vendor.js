// How the runtime reaches the engines' npm packages (TF.js, LiteRT.js, onnxruntime-web).
//
// Each package is imported on first use with a literal bare specifier: in a page the import
// map resolves it (the web demo maps it to the package's own files, no CDN), and a bundler
// resolves it at build time. Workers have no import map (browsers resolve bare specifiers
// only through the page's), so a worker receives the page's resolved URLs (pageImports())
// and imports each package from its URL; a package module that itself names another package
// by bare specifier (@litertjs/core -> @litertjs/wasm-utils, the TF.js wasm backend ->
// @tensorflow/tfjs-core) is loaded from a copy with those specifiers replaced by URLs.

/** Bare specifiers the runtime and the engine packages import. */
export const SPECIFIERS = Object.freeze([
  "@tensorflow/tfjs", "@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-backend-webgpu", "@litertjs/core", "@litertjs/wasm-utils",
  "onnxruntime-web/wasm", "onnxruntime-web/webgpu",
  // Node built-ins the TF.js wasm ES module names (used only under Node): mapped to a stub.
  "fs", "path", "os", "perf_hooks", "worker_threads",
]);

// Package names importPackage() takes -> their bare specifiers.
const SPECIFIER_OF = {
  tfjs: "@tensorflow/tfjs", "tfjs-wasm": "@tensorflow/tfjs-backend-wasm",
  "tfjs-webgpu": "@tensorflow/tfjs-backend-webgpu", litert: "@litertjs/core",
  "ort-wasm": "onnxruntime-web/wasm", "ort-webgpu": "onnxruntime-web/webgpu",
};

let resolved = null; // specifier -> absolute URL, set in workers by useImports()
const blobModules = new Map(); // specifier -> Promise of the module loaded from a rewritten copy

/**
 * The page's resolution of every specifier its import map names (absolute URLs), to hand to
 * a worker. Empty in a bundle (nothing to resolve at run time).
 * @returns {Record<string, string>}
 */
export function pageImports() {
  const out = {};
  if (typeof import.meta.resolve !== "function") return out;
  for (const name of SPECIFIERS) {
    try {
      const url = import.meta.resolve(name);
      if (!url.startsWith("node:")) out[name] = url;
    } catch {
      // not in the import map: that engine is simply unavailable
    }
  }
  return out;
}

/** Use these URLs for bare specifiers (in a worker; see pageImports()). */
export function useImports(imports) {
  resolved = { ...imports };
}

/** The URL a specifier resolves to here, or null when it is unknown. */
export function resolveUrl(specifier) {
  if (resolved) return resolved[specifier] ?? null;
  try {
    return import.meta.resolve(specifier);
  } catch {
    return null;
  }
}

const BARE = /\b(from|import)(\s*\(?\s*)(["'])([^"'./][^"']*)\3/g;

/** Import `specifier` from its resolved URL, rewriting bare imports of known packages. */
async function importResolved(specifier) {
  const url = resolved?.[specifier];
  if (!url) {
    throw new Error(`'${specifier}' is not available: the page's import map does not name it`);
  }
  if (!blobModules.has(specifier)) {
    blobModules.set(specifier, (async () => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      const source = await response.text();
      let changed = false;
      const rewritten = source.replace(BARE, (all, keyword, gap, quote, name) => {
        if (!(name in resolved)) return all;
        changed = true;
        return `${keyword}${gap}${quote}${resolved[name]}${quote}`;
      });
      if (!changed) return import(url); // same URL, same module instance as everyone else's
      const blob = URL.createObjectURL(new Blob([rewritten], { type: "text/javascript" }));
      return import(blob);
    })());
  }
  return blobModules.get(specifier);
}

function isResolutionError(err) {
  return err instanceof TypeError && /specifier|resolve/i.test(String(err.message));
}

/**
 * Import one engine package. Literal specifiers, so that bundlers see them.
 * @param {"tfjs"|"tfjs-wasm"|"tfjs-webgpu"|"litert"|"ort-wasm"|"ort-webgpu"} name
 */
export async function importPackage(name) {
  if (resolved) return importResolved(SPECIFIER_OF[name]);
  try {
    switch (name) {
      case "tfjs": return await import("@tensorflow/tfjs");
      case "tfjs-wasm": return await import("@tensorflow/tfjs-backend-wasm");
      case "tfjs-webgpu": return await import("@tensorflow/tfjs-backend-webgpu");
      case "litert": return await import("@litertjs/core");
      case "ort-wasm": return await import("onnxruntime-web/wasm");
      case "ort-webgpu": return await import("onnxruntime-web/webgpu");
      default: throw new Error(`unknown package ${name}`);
    }
  } catch (err) {
    if (isResolutionError(err)) {
      throw new Error(`${SPECIFIER_OF[name]} is not available here: install it (npm) and ` +
        `map it in the page's import map, or bundle it (${err.message})`);
    }
    throw err;
  }
}

/**
 * The folder holding a package's .wasm files: `explicit` when given, else beside the
 * package's module (`relative` to it), else null.
 */
export function wasmFolder(explicit, specifier, relative = ".") {
  if (explicit) return explicit.endsWith("/") ? explicit : `${explicit}/`;
  const url = resolveUrl(specifier);
  return url && !url.startsWith("node:") ? new URL(relative, url).href : null;
}
