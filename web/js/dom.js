// Tiny DOM helpers. Everything the UI builds goes through h(), which only ever sets
// textContent and attributes, so server data can never become markup.

/** Create an element: h('a', {href: '/', class: 'x'}, 'text', childNode). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** querySelector that fails loudly: a missing hook is a bug in the page, not in the data. */
export function $(selector, root = document) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return el;
}

export function $all(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

/** Read one cookie value (undefined when absent). */
export function readCookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...rest] = part.trim().split('=');
    if (k === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

/** Add or remove one id in an aria-describedby style id list. */
export function toggleIdRef(el, attr, id, present) {
  const ids = (el.getAttribute(attr) || '').split(/\s+/).filter(Boolean).filter((x) => x !== id);
  if (present) ids.push(id);
  if (ids.length) el.setAttribute(attr, ids.join(' '));
  else el.removeAttribute(attr);
}

/** True when the user asked the system for less motion. */
export function prefersReducedMotion() {
  return window.matchMedia('(prefers-reduced-motion: reduce)').matches;
}

/** Move focus to a heading (tabindex="-1") and bring it into view. */
export function focusHeading(el) {
  if (!el) return;
  el.focus({ preventScroll: true });
  el.scrollIntoView({ block: 'start', behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
}
