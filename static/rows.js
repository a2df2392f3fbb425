// tabswarm page: the file rows. render() draws one stats snapshot from the
// peer: a row per file with progress, who it came from and who takes it
// now, its share link and QR code, and a preview once it is complete.
"use strict";

const rows = new Map(); // key -> <li>
let heldBytes = 0; // of the files' chunks this tab holds, from the last snapshot
// Digests this tab is getting: a download may start and end between two
// snapshots, and its row then goes from a placeholder straight to seeding.
const awaited = new Set();
const lastState = new Map(); // digest -> state in the last snapshot
const peerNames = new Map(); // first 8 characters of a peer ID -> name
let selfName = "";

// peerName is the readable name of a peer, or the start of its ID.
function peerName(id) {
  return peerNames.get((id || "").slice(0, 8)) || (id || "?").slice(0, 8);
}

// shareOrigin is where other devices reach this page: set by app.js from
// the tracker's URLs, since "localhost" means nothing to a phone.
let shareOrigin = location.origin;

// shareLink is the peer's own share link for digest (tabswarm.link), so
// the page, the CLI and every parser agree on its form.
function shareLink(digest) {
  return tabswarm.link(digest, shareOrigin) || "";
}

const template = document.createElement("template");
template.innerHTML = `
<li class="file" data-testid="file">
  <div class="head"><span class="name"></span><span class="size"></span><span class="state"></span></div>
  <progress max="1" value="0"></progress>
  <div class="meta"></div>
  <div class="who" data-testid="sources"></div>
  <div class="preview" data-testid="preview" hidden></div>
  <div class="digest"><code></code></div>
  <canvas class="map" width="600" height="14" aria-hidden="true"></canvas>
  <p class="error" role="alert"></p>
  <div class="buttons">
    <button type="button" class="save primary" data-testid="save">Save</button>
    <button type="button" class="copy">Copy link</button>
    <button type="button" class="show-qr" data-testid="show-qr" aria-expanded="false">QR code</button>
    <button type="button" class="p2t">Save .p2t</button>
    <button type="button" class="remove">Remove</button>
  </div>
  <div class="row-qr" hidden><img class="qr" data-testid="row-qr" width="180" height="180" alt=""><a class="link"></a></div>
</li>`;

function makeRow(f) {
  const li = template.content.firstElementChild.cloneNode(true);
  li.dataset.key = f.key;
  $(".copy", li).addEventListener("click", () => copy(shareLink(li.dataset.digest), $(".copy", li)));
  $(".save", li).addEventListener("click", () => {
    tabswarm.save(li.dataset.digest).catch((err) => alert("Save failed: " + err.message));
  });
  $(".p2t", li).addEventListener("click", () => saveManifest(li.dataset.digest, li.dataset.name));
  $(".remove", li).addEventListener("click", () => removeRow(li));
  $(".show-qr", li).addEventListener("click", () => toggleQR(li));
  return li;
}

function removeRow(li) {
  return tabswarm.remove(li.dataset.digest || li.dataset.key).catch((err) => console.warn("remove:", err.message));
}

function toggleQR(li) {
  const box = $(".row-qr", li);
  const open = box.hidden;
  box.hidden = !open;
  $(".show-qr", li).setAttribute("aria-expanded", String(open));
  if (open) {
    const link = shareLink(li.dataset.digest);
    const img = $("img", box);
    img.src = "qr.svg?text=" + encodeURIComponent(link);
    img.alt = "QR code of the share link of " + li.dataset.name;
    $(".link", box).href = link;
    $(".link", box).textContent = link;
  }
}

// render draws one snapshot: s.files as rows, in name order.
function render(s) {
  setText($("#peer"), s.peer_id ? "Connected to the tracker as " + (selfName || s.peer_id.slice(0, 8)) : "Connecting to the tracker…");
  const seen = new Set();
  s.files.sort((a, b) => a.name.localeCompare(b.name) || a.key.localeCompare(b.key));
  const homes = renderCollections(s.collections || [], s.files);
  heldBytes = s.files.reduce((n, f) => n + (f.state === "seeding" ? f.size : f.chunks ? (f.size * f.have) / f.chunks : 0), 0);
  for (const f of s.files) {
    seen.add(f.key);
    let li = rows.get(f.key);
    if (!li) {
      li = makeRow(f);
      rows.set(f.key, li);
    }
    const home = homes.get(f.digest) || $("#files");
    if (li.parentElement !== home) home.prepend(li);
    renderRow(li, f);
  }
  for (const [key, li] of rows) {
    if (!seen.has(key)) {
      if (key === li.dataset.digest) lastState.delete(key); // not a placeholder's
      dropPreview(li);
      li.remove();
      rows.delete(key);
    }
  }
  setHidden($("#empty"), rows.size + collectionRows.size > 0);
  setHidden($("#remove-all"), rows.size + collectionRows.size === 0);
  showTitle(s.files);
}

function renderRow(li, f) {
  const was = lastState.get(f.digest);
  if (f.digest) lastState.set(f.digest, f.state);
  setData(li, "digest", f.digest || "");
  setData(li, "name", f.name);
  setData(li, "state", f.state);
  setText($(".name", li), f.name);
  setText($(".size", li), f.state === "error" && !f.size ? "" : bytes(f.size));
  setText($(".state", li), f.state);
  // While preparing, received counts the bytes read and hashed so far.
  const done = f.state === "preparing" ? f.received / (f.size || 1) : f.chunks ? f.have / f.chunks : f.state === "seeding" ? 1 : 0;
  const bar = $("progress", li);
  if (bar.value !== done) bar.value = done;
  const label = "Progress of " + f.name;
  if (bar.getAttribute("aria-label") !== label) bar.setAttribute("aria-label", label);
  const peers = (f.peers || []).filter((p) => p.connected);
  const parts = [];
  if (f.chunks || f.state === "seeding") parts.push(`${f.have}/${f.chunks} chunks`);
  if (f.state !== "preparing" && f.state !== "error") parts.push(`${peers.length} peer${peers.length === 1 ? "" : "s"}`);
  if (f.down_rate > 1 && f.state !== "seeding") parts.push("↓ " + bytes(f.down_rate) + "/s");
  if (f.up_rate > 1) parts.push("↑ " + bytes(f.up_rate) + "/s");
  if (f.state === "downloading" && f.down_rate > 1) {
    const left = f.size * (1 - f.have / Math.max(1, f.chunks));
    parts.push("ETA " + duration(left / f.down_rate));
  }
  if (f.sent) parts.push("sent " + bytes(f.sent));
  setText($(".meta", li), parts.join(" · "));
  const from = who(f);
  setText($(".who", li), from);
  setHidden($(".who", li), !from);
  setHidden($(".digest", li), !f.digest);
  setText($(".digest code", li), f.digest || "");
  setText($(".error", li), f.error || "");
  setHidden($(".error", li), !f.error);
  const complete = f.state === "seeding";
  setHidden($(".save", li), !complete);
  const noLink = !f.digest || f.state === "error";
  setHidden($(".copy", li), noLink);
  setHidden($(".show-qr", li), noLink);
  setHidden($(".p2t", li), !f.chunks && !complete);
  drawMap($(".map", li), f);
  if (complete) showPreview(li, f);
  if (complete && (was === "downloading" || was === "stalled" || awaited.has(f.digest))) {
    awaited.delete(f.digest);
    $("#announce").textContent = `Downloaded ${f.name} (${bytes(f.size)}).`;
  }
}

// who says where a file's bytes came from, by share, and who takes it now.
function who(f) {
  const peers = f.peers || [];
  const total = peers.reduce((n, p) => n + p.received, 0);
  const parts = [];
  const from = peers.filter((p) => p.received > 0).sort((a, b) => b.received - a.received);
  if (from.length) {
    parts.push("From " + from.map((p) => `${peerName(p.id)} ${Math.round((100 * p.received) / total)}%`).join(", "));
  }
  const to = peers.filter((p) => p.connected && p.up_rate > 1);
  if (to.length) parts.push("Sending to " + to.map((p) => peerName(p.id)).join(", ") + " now");
  return parts.join(" · ");
}

// showTitle puts the progress of what downloads into the tab's title.
function showTitle(files) {
  let size = 0, have = 0;
  for (const f of files) {
    if ((f.state !== "downloading" && f.state !== "stalled") || !f.chunks) continue;
    size += f.size;
    have += (f.size * f.have) / f.chunks;
  }
  const title = size ? `(${Math.floor((100 * have) / size)}%) tabswarm` : "tabswarm";
  if (document.title !== title) document.title = title;
}

// previewKind says how a file can be shown in its row, from its media type
// or, failing that, its name.
function previewKind(f) {
  const t = (f.type || "").toLowerCase();
  const ext = (f.name.match(/\.([a-z0-9]+)$/i) || ["", ""])[1].toLowerCase();
  if (t.startsWith("image/") || /^(png|jpe?g|gif|webp|avif|bmp|svg)$/.test(ext)) return "image";
  if (t.startsWith("video/") || /^(mp4|webm|ogv|mov|m4v)$/.test(ext)) return "video";
  if (t.startsWith("audio/") || /^(mp3|ogg|oga|wav|flac|m4a|opus)$/.test(ext)) return "audio";
  if (t.startsWith("text/") || t === "application/json" || /^(txt|md|csv|log|json)$/.test(ext)) return "text";
  return "";
}

// textPreviewBytes is how much of a text file its preview reads.
const textPreviewBytes = 16 << 10;

// showPreview fills a complete file's preview once. The file is a Blob of
// its stored parts: an image or a player reads it through an object URL
// as it needs, and a text preview reads only its start.
function showPreview(li, f) {
  const kind = previewKind(f);
  if (!kind || !f.size || li.dataset.preview) return;
  li.dataset.preview = "loading";
  tabswarm.blob(f.digest).then(async (blob) => {
    const box = $(".preview", li);
    let node;
    if (kind === "text") {
      const head = await blob.slice(0, textPreviewBytes).text();
      node = el("pre", "", head + (f.size > textPreviewBytes ? "\n…" : ""));
      node.tabIndex = 0;
      node.setAttribute("aria-label", "Start of " + f.name);
    } else {
      li.previewURL = URL.createObjectURL(blob);
      node = document.createElement(kind === "image" ? "img" : kind);
      node.src = li.previewURL;
      if (kind === "image") node.alt = "Preview of " + f.name;
      else {
        node.controls = true;
        node.preload = "metadata";
        node.setAttribute("aria-label", "Play " + f.name);
      }
    }
    box.replaceChildren(node);
    box.dataset.kind = kind;
    box.hidden = false;
    li.dataset.preview = kind;
  }).catch((err) => {
    li.dataset.preview = "failed";
    console.warn("preview:", err.message);
  });
}

function dropPreview(li) {
  if (li.previewURL) URL.revokeObjectURL(li.previewURL);
}

// setData changes a data attribute only where it differs (see setText).
function setData(node, key, value) {
  if (node.dataset[key] !== value) node.dataset[key] = value;
}

// drawMap paints one cell per chunk (or per group of chunks), coloured by
// the peer each came from; grey for chunks this tab had already. It draws
// only when the map changed since the last time, and paints a run of
// cells of one colour as one rectangle where cells have no gaps.
function drawMap(canvas, f) {
  const map = f.map || [];
  setHidden(canvas, map.length === 0);
  if (!map.length) return;
  const sig = `${f.have} ${map.length} ${(f.sources || []).join()}`;
  if (canvas.dataset.sig === sig) return;
  canvas.dataset.sig = sig;
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  const cells = Math.min(map.length, w);
  const gaps = cells < w / 3;
  const fills = ["", "#8a9bb0", ...(f.sources || []).map(colour)];
  ctx.clearRect(0, 0, w, h);
  for (let c = 0; c < cells; ) {
    const v = map[Math.floor((c * map.length) / cells)];
    let end = c + 1;
    while (!gaps && end < cells && map[Math.floor((end * map.length) / cells)] === v) end++;
    if (v) {
      ctx.fillStyle = fills[v];
      const x0 = Math.floor((c * w) / cells), x1 = Math.floor((end * w) / cells);
      ctx.fillRect(x0, 0, Math.max(1, x1 - x0 - (gaps ? 1 : 0)), h);
    }
    c = end;
  }
}

function colour(id) {
  let h = 0;
  for (const ch of id || "") h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h} 65% 50%)`;
}

function saveManifest(digest, name) {
  const text = tabswarm.manifest(digest);
  if (!text) return;
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  a.download = (name || digest) + ".p2t";
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Plain-http LAN pages have no clipboard API: select the text instead.
    const t = document.createElement("textarea");
    t.value = text;
    document.body.appendChild(t);
    t.select();
    document.execCommand("copy");
    t.remove();
  }
  if (button) {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  }
}
