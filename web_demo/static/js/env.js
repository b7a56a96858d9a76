// What the benchmark report says about the device and browser (docs/DESIGN.md section 6).

const NAME_KEY = "sdk-demo.device-name";

/** The GPU renderer string, or null where the browser hides it. */
export function gpuRenderer() {
  try {
    const gl = document.createElement("canvas").getContext("webgl");
    if (!gl) return null;
    const ext = gl.getExtension("WEBGL_debug_renderer_info");
    const value = gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
    gl.getExtension("WEBGL_lose_context")?.loseContext(); // free the context right away
    return value ? String(value).slice(0, 300) : null;
  } catch {
    return null;
  }
}

/** A readable device name guessed from the user agent ("Pixel 7", "iPhone", "Linux"). */
export function guessDeviceName(ua = navigator.userAgent) {
  const android = ua.match(/Android [\d.]+; ([^;)]+?)(?: Build\/[^;)]*)?[;)]/);
  if (android && android[1] !== "K") return android[1].trim();
  for (const name of ["iPhone", "iPad", "Macintosh", "Windows", "CrOS", "Linux"]) {
    if (ua.includes(name)) return name === "CrOS" ? "Chromebook" : name;
  }
  return "Unknown device";
}

/** The device name the person typed earlier, or a guess. */
export function deviceName() {
  return localStorage.getItem(NAME_KEY) || guessDeviceName();
}

export function rememberDeviceName(name) {
  if (name.trim()) localStorage.setItem(NAME_KEY, name.trim().slice(0, 200));
}

/** The `device` part of a report. */
export function deviceInfo(name) {
  const cores = Number.isInteger(navigator.hardwareConcurrency) ? navigator.hardwareConcurrency : null;
  const memory = typeof navigator.deviceMemory === "number" ? navigator.deviceMemory : null;
  return {
    name: (name || guessDeviceName()).slice(0, 200),
    user_agent: navigator.userAgent.slice(0, 1000),
    platform: (navigator.userAgentData?.platform || navigator.platform || "").slice(0, 100) || null,
    cores,
    memory_gb: memory,
  };
}

/** A v4 UUID; crypto.randomUUID exists only in secure contexts (not on plain-http LAN). */
export function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
