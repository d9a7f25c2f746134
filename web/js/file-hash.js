// A file's SHA-256, computed in the browser (WebCrypto): the verification page compares a PDF
// with the issued one without the file ever leaving the device.

/** True where WebCrypto's digest exists (HTTPS, or a loopback address during development). */
export function canHash() {
  return Boolean(window.isSecureContext && window.crypto && window.crypto.subtle);
}

/** The SHA-256 of a Blob or File (or bytes) as 64 lower-case hex digits. */
export async function sha256Hex(data) {
  const buffer = data instanceof Blob ? await data.arrayBuffer() : data;
  const digest = new Uint8Array(await window.crypto.subtle.digest('SHA-256', buffer));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Equal hex digests, ignoring case (the server may print them in upper case). */
export function sameDigest(a, b) {
  return typeof a === 'string' && typeof b === 'string' && a.length === 64 && a.toLowerCase() === b.toLowerCase();
}
