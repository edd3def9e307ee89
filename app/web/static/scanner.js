// Camera QR reading for the tablet: the browser's BarcodeDetector where it exists, else the
// vendored jsQR (static/jsQR.js, Apache-2.0). Calls onText(text) for every code seen; the page
// decides what a repeated code means. Cameras need a secure context (https or localhost).
"use strict";
window.JipiaoScanner = (function () {
  let stream = null;
  let timer = null;

  function available() {
    return !!(window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  function loadJsQR() {
    if (window.jsQR) return Promise.resolve(window.jsQR);
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/web/static/jsQR.js";
      script.onload = () => resolve(window.jsQR);
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  async function makeDetector() {
    if ("BarcodeDetector" in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes("qr_code")) {
          const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
          api.engine = "BarcodeDetector";
          return async (video) => {
            const codes = await detector.detect(video);
            return codes.length ? codes[0].rawValue : null;
          };
        }
      } catch (e) {
        /* fall back to jsQR */
      }
    }
    const jsQR = await loadJsQR();
    api.engine = "jsQR";
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    return async (video) => {
      const width = video.videoWidth;
      const height = video.videoHeight;
      if (!width || !height) return null;
      const scale = Math.min(1, 640 / Math.max(width, height));
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      return code ? code.data : null;
    };
  }

  async function start(video, onText) {
    stop();
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment" },
      audio: false,
    });
    video.srcObject = stream;
    video.setAttribute("playsinline", "");
    await video.play();
    const detect = await makeDetector();
    const tick = async () => {
      if (!stream) return;
      try {
        const text = await detect(video);
        if (text) onText(text);
      } catch (e) {
        /* a frame that could not be read */
      }
      timer = setTimeout(tick, 200);
    };
    tick();
  }

  function stop() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
  }

  function running() {
    return stream !== null;
  }

  const api = { available, start, stop, running, engine: null };
  return api;
})();
