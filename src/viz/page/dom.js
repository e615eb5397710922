// Building the page's elements. Text from the log is only ever set as text
// (textContent, attribute values), never parsed as HTML.

/** An element with attributes and children (strings become text nodes). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

/** A canvas sized to its box at the screen's pixel density, and its 2D context (scaled to CSS pixels). */
export function sizeCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 150;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext('2d');
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { context, width, height };
}

/**
 * A list that draws only the rows in view: a session's hundred thousand
 * events scroll as fast as ten. `renderRow(index, rowElement)` fills a row.
 */
export function virtualList(container, rowHeight, renderRow) {
  const spacer = el('div', { class: 'spacer' });
  const rows = el('div', { class: 'rows' });
  container.append(spacer, rows);
  let count = 0;
  let drawn = '';
  const draw = (force = false) => {
    const first = Math.max(0, Math.floor(container.scrollTop / rowHeight) - 2);
    const visible = Math.ceil((container.clientHeight || 300) / rowHeight) + 4;
    const last = Math.min(count, first + visible);
    const key = `${first}:${last}:${count}`;
    if (!force && key === drawn) return;
    drawn = key;
    rows.replaceChildren();
    rows.style.transform = `translateY(${first * rowHeight}px)`;
    for (let i = first; i < last; i++) {
      const row = el('div', { class: 'row' });
      row.style.height = `${rowHeight}px`;
      renderRow(i, row);
      rows.append(row);
    }
  };
  container.addEventListener('scroll', () => draw());
  return {
    setCount(n) {
      count = n;
      spacer.style.height = `${n * rowHeight}px`;
      draw(true);
    },
    refresh: () => draw(true),
    /** Scroll so that row `i` is in view (centred when it was out of view). */
    reveal(i) {
      const top = i * rowHeight;
      if (top < container.scrollTop || top + rowHeight > container.scrollTop + container.clientHeight) {
        container.scrollTop = Math.max(0, top - container.clientHeight / 2);
      }
      draw(true);
    },
  };
}
