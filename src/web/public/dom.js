/**
 * A tiny DOM builder: h('a', { href, class: 'x' }, 'text', child). Text is always set as text,
 * never parsed as HTML, so data from the API cannot inject markup.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue
      if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value)
      else if (key === 'dataset') Object.assign(el.dataset, value)
      else if (key === 'style') Object.assign(el.style, value)
      else el.setAttribute(key, value === true ? '' : String(value))
    }
  }
  append(el, children)
  return el
}

/** Appends children: nodes, strings and numbers (as text), arrays of them; skips null, undefined, false. */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(parent, child)
    else parent.append(child instanceof Node ? child : String(child))
  }
  return parent
}

/** Replaces an element's content. */
export function replace(parent, ...children) {
  parent.replaceChildren()
  return append(parent, children)
}

/** Wraps the parts of `text` that begin one of `words` (accent- and case-insensitive) in <mark>. */
export function highlight(text, words) {
  if (!words || words.length === 0) return text
  const folded = fold(text)
  const ranges = []
  const re = /[\p{L}\p{N}]+/gu
  for (let m = re.exec(folded); m; m = re.exec(folded)) {
    const token = m[0]
    const hit = words.find((w) => w && token.startsWith(w))
    if (hit) ranges.push([m.index, m.index + hit.length])
  }
  if (ranges.length === 0) return text
  const out = []
  let at = 0
  for (const [start, end] of ranges) {
    if (start > at) out.push(text.slice(at, start))
    out.push(h('mark', null, text.slice(start, end)))
    at = end
  }
  if (at < text.length) out.push(text.slice(at))
  return out
}

/**
 * Lower case without accents, keeping every character at its index (so ranges found in the folded
 * text apply to the original). Characters whose decomposition is not one base letter are kept.
 */
export function fold(text) {
  let out = ''
  for (const ch of text) {
    const base = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()
    out += base.length === ch.length ? base : ch.toLowerCase().length === ch.length ? ch.toLowerCase() : ch
  }
  return out
}
