// Camera access with the reasons a phone refuses it spelled out for the person.

/** Why the camera cannot be used at all here, or null when getUserMedia is available. */
export function cameraUnavailableReason() {
  if (!window.isSecureContext) {
    return "The camera needs a secure page: open this demo over HTTPS (sdk serve --https) " +
      "or on localhost. Meanwhile, upload an image or pick a sample.";
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    return "This browser has no camera API. Upload an image or pick a sample instead.";
  }
  return null;
}

/** A sentence for a getUserMedia error. */
export function explainCameraError(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Camera permission was denied. Allow it in the browser's site settings and " +
        "reload, or upload an image / pick a sample.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No camera was found. Upload an image or pick a sample instead.";
    case "NotReadableError":
      return "The camera is in use by another app. Close it and tap Use camera again.";
    default:
      return `The camera could not start (${error?.name || error}). Upload an image or pick a sample.`;
  }
}

/** Open the camera facing "environment" (rear) or "user" (front). */
export async function openCamera(facing) {
  return navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { facingMode: { ideal: facing }, width: { ideal: 1280 }, height: { ideal: 720 } },
  });
}

export function stopStream(stream) {
  stream?.getTracks().forEach((track) => track.stop());
}

/** Attach a stream to the video element and wait until frames have a size. */
export async function play(video, stream) {
  video.srcObject = stream;
  if (video.readyState < 2) {
    await new Promise((resolve) => video.addEventListener("loadeddata", resolve, { once: true }));
  }
  await video.play();
}
