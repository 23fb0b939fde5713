// A picture the visitor zooms into and reads values from (explorer/zoomable_picture.py).
//
// Drag a box on a picture: it and every picture linked with it (same link name, same
// size) show that part of the picture, magnified; a double click shows the whole picture
// again. Hovering a pixel marks it on every linked picture and shows each one's value
// there. The data (JSON): title, link, text size, the picture's address and the address
// of its values (little-endian float32, row by row; fetched when the visitor first
// hovers, so a visit or a new colour map does not carry them), height and width.
//
// The zoom belongs to the link, not to one picture: a picture drawn again (a new colour
// map, a new run) keeps the zoom its link has.

const links = new Map();  // link key -> {view: {x, y, scale} | null, hovered, members: Set}
const WHOLE = {x: 0, y: 0, scale: 1};

function linkOf(key) {
  if (!links.has(key)) links.set(key, {view: null, hovered: null, members: new Set()});
  return links.get(key);
}

// An address of the server's (the page may be served under a path of its own).
function served(base, address) {
  return new URL(`${base}${address}`, window.location.origin).href;
}

// A value as the readout shows it: four significant digits, no trailing zeros.
function formatValue(value) {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

function build(parent) {
  const root = document.createElement("figure");
  root.className = "zoomable-picture";
  root.innerHTML = '<div class="zp-frame" title="Drag a box to zoom (the linked pictures follow); ' +
    'double-click to see the whole picture; hover for a pixel\'s value">' +
    '<img class="zp-image" alt="" draggable="false"><div class="zp-marker"></div>' +
    '<div class="zp-box"></div><span class="zp-value"></span></div><figcaption></figcaption>';
  parent.appendChild(root);
  return root;
}

// The member's values, fetched once per address; the link is drawn again when they come.
function needValues(member) {
  if (member.values || member.loading === member.valuesAddress) return;
  const address = member.valuesAddress;
  member.loading = address;
  fetch(address).then((response) => {
    if (!response.ok) throw new Error(`${response.status}`);
    return response.arrayBuffer();
  }).then((buffer) => {
    // Float32Array reads the platform's byte order: every browser this runs in is little-endian.
    if (member.valuesAddress !== address || buffer.byteLength !== 4 * member.width * member.height) return;
    member.values = new Float32Array(buffer);
    drawLink(member.link);
  }).catch(() => { if (member.loading === address) member.loading = null; });
}

// The view (the part of the picture shown: its top-left pixel and the magnification)
// applied to one picture, and the link's hovered pixel marked on it.
function draw(member, view, hovered) {
  const {frame, image, marker, label, width, height} = member;
  const shown = view || WHOLE;
  image.style.transform = view ? `scale(${shown.scale}) translate(${-100 * shown.x / width}%, ${-100 * shown.y / height}%)` : "";
  image.classList.toggle("zp-zoomed", Boolean(view));
  if (!hovered || hovered.row >= height || hovered.column >= width) {
    marker.style.display = "none";
    label.style.display = "none";
    return;
  }
  const pixel = frame.clientWidth * shown.scale / width;
  marker.style.display = "block";
  marker.style.left = `${(hovered.column - shown.x) * pixel}px`;
  marker.style.top = `${(hovered.row - shown.y) * pixel}px`;
  marker.style.width = marker.style.height = `${pixel}px`;
  needValues(member);
  const value = member.values ? formatValue(member.values[hovered.row * width + hovered.column]) : "\u2026";
  label.textContent = member === hovered.source ? `(${hovered.column}, ${hovered.row}) ${value}` : value;
  label.style.display = "block";
}

function drawLink(link) {
  for (const member of [...link.members]) {
    if (!member.root.isConnected) link.members.delete(member);
    else draw(member, link.view, link.hovered);
  }
}

// The pixel (row, column) under a pointer event, and its position in pixels of the picture.
function pixelAt(member, event, view) {
  const rect = member.frame.getBoundingClientRect();
  const shown = view || WHOLE;
  const x = shown.x + (event.clientX - rect.left) / rect.width * member.width / shown.scale;
  const y = shown.y + (event.clientY - rect.top) / rect.height * member.height / shown.scale;
  return {x, y, row: Math.floor(y), column: Math.floor(x)};
}

// The view that shows the box between two points (pixels of the picture): magnified as
// much as the box allows, at least 4 pixels across, kept inside the picture; null when
// that is the whole picture.
function viewOf(member, a, b) {
  const {width, height} = member;
  const scale = Math.min(width / Math.max(Math.abs(b.x - a.x), 1e-9), height / Math.max(Math.abs(b.y - a.y), 1e-9),
                         Math.min(width, height) / 4);
  if (scale <= 1) return null;
  const clamp = (value, high) => Math.min(Math.max(value, 0), high);
  return {scale, x: clamp((a.x + b.x) / 2 - width / scale / 2, width - width / scale),
          y: clamp((a.y + b.y) / 2 - height / scale / 2, height - height / scale)};
}

function hover(member, event) {
  const at = pixelAt(member, event, member.link.view);
  const inside = at.row >= 0 && at.column >= 0 && at.row < member.height && at.column < member.width;
  member.link.hovered = inside ? {row: at.row, column: at.column, source: member} : null;
  drawLink(member.link);
}

function listen(member) {
  const {frame, box} = member;
  let start = null;
  frame.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    start = {clientX: event.clientX, clientY: event.clientY, at: pixelAt(member, event, member.link.view)};
    frame.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  frame.addEventListener("pointermove", (event) => {
    if (start) {
      const rect = frame.getBoundingClientRect();
      const left = Math.max(Math.min(start.clientX, event.clientX) - rect.left, 0);
      const top = Math.max(Math.min(start.clientY, event.clientY) - rect.top, 0);
      box.style.display = "block";
      box.style.left = `${left}px`;
      box.style.top = `${top}px`;
      box.style.width = `${Math.min(Math.abs(event.clientX - start.clientX), rect.width - left)}px`;
      box.style.height = `${Math.min(Math.abs(event.clientY - start.clientY), rect.height - top)}px`;
    }
    hover(member, event);
  });
  frame.addEventListener("pointerup", (event) => {
    if (!start) return;
    const moved = Math.hypot(event.clientX - start.clientX, event.clientY - start.clientY);
    box.style.display = "none";
    if (moved >= 4) {
      member.link.view = viewOf(member, start.at, pixelAt(member, event, member.link.view));
      hover(member, event);
    }
    start = null;
  });
  frame.addEventListener("pointercancel", () => { start = null; box.style.display = "none"; });
  frame.addEventListener("pointerleave", () => {
    if (start) return;
    member.link.hovered = null;
    drawLink(member.link);
  });
  frame.addEventListener("dblclick", () => {
    member.link.view = null;
    drawLink(member.link);
  });
}

export default function (component) {
  const {data, parentElement} = component;
  let root = parentElement.querySelector(":scope > figure.zoomable-picture");
  const fresh = !root;
  if (fresh) root = build(parentElement);
  const member = root.zoomable || {root, frame: root.querySelector(".zp-frame"), image: root.querySelector(".zp-image"),
    marker: root.querySelector(".zp-marker"), box: root.querySelector(".zp-box"), label: root.querySelector(".zp-value")};
  root.zoomable = member;
  const link = linkOf(`${data.link} ${data.height}x${data.width}`);
  if (member.link && member.link !== link) member.link.members.delete(member);
  const valuesAddress = served(data.base, data.values);
  if (valuesAddress !== member.valuesAddress) member.values = null;
  Object.assign(member, {width: data.width, height: data.height, link, valuesAddress});
  link.members.add(member);
  if (fresh) listen(member);
  root.style.setProperty("--zp-text", `${data.text_size}px`);
  root.querySelector("figcaption").textContent = data.title;
  member.frame.style.aspectRatio = `${data.width} / ${data.height}`;
  const pictureAddress = served(data.base, data.picture);
  if (member.image.src !== pictureAddress) member.image.src = pictureAddress;
  draw(member, link.view, link.hovered);
  return () => {
    link.members.delete(member);
    root.remove();
  };
}
