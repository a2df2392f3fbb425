// tabswarm page: loads the Go peer (dist/tabswarm.wasm) and renders what it
// reports. All the work happens in Go; this script only draws and forwards
// clicks to window.tabswarm.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const rows = new Map(); // key -> <li>
const status = $("#status");

function setStatus(text, bad) {
  status.textContent = text;
  status.classList.toggle("bad", !!bad);
  if (bad) status.dataset.state = "error";
}

async function boot() {
  if (!window.WebAssembly || !window.Go) {
    setStatus("This browser cannot run tabswarm (no WebAssembly).", true);
    return;
  }
  try {
    window.tabswarmConfig = await loadConfig();
  } catch (err) {
    setStatus(err.message, true);
    return;
  }
  const go = new Go();
  const ready = new Promise((resolve) => addEventListener("tabswarm-ready", resolve, { once: true }));
  addEventListener("tabswarm-error", (e) => setStatus("Storage unavailable: " + e.detail, true));
  try {
    const { instance } = await WebAssembly.instantiateStreaming(fetch("dist/tabswarm.wasm"), go.importObject);
    lendMemory(instance.exports.mem);
    go.run(instance).then(() => setStatus("The peer stopped. Reload the page.", true));
  } catch (err) {
    setStatus("Could not load the peer: " + err, true);
    return;
  }
  await ready;
  wire();
  for (const el of document.querySelectorAll("input, button")) el.disabled = false;
  setStatus("Ready.");
  // Stable readiness hooks for people and tests alike.
  status.dataset.state = "ready";
  document.documentElement.dataset.ready = "";
  tick();
  setInterval(tick, 250);
  setInterval(showStorage, 5000);
  showStorage();
  setInterval(showNetwork, 5000);
  showNetwork();
  const d = location.hash.slice(1);
  if (d) get(d);
}

// lendMemory lets the peer pass its bytes to Blob and RTCDataChannel.send,
// which copy them, straight from its memory: without it each chunk is first
// copied into a new JS array. The view is made here, inside the call, so it
// always sees the memory's current buffer.
function lendMemory(mem) {
  const view = (ptr, len) => new Uint8Array(mem.buffer, ptr, len);
  window.tabswarmMemory = {
    blob: (ptr, len, type) => new Blob([view(ptr, len)], { type }),
    send: (channel, ptr, len) => channel.send(view(ptr, len)),
  };
}

// loadConfig asks the tracker for its settings. A private tracker answers
// 401 until the page sends its token, which is asked for once and kept.
async function loadConfig() {
  for (;;) {
    const token = localStorage.getItem("tabswarm.token") || "";
    const r = await fetch("api/config", { headers: token ? { Authorization: "Bearer " + token } : {} });
    if (r.status === 401) {
      const t = prompt(token ? "That token was refused. Enter this tracker's access token:" : "This tracker is private. Enter its access token:");
      if (t === null) throw new Error("This tracker is private: reload and enter its access token.");
      localStorage.setItem("tabswarm.token", t.trim());
      continue;
    }
    if (!r.ok) throw new Error("Cannot read the tracker's settings (HTTP " + r.status + ").");
    const c = await r.json();
    return { token, iceServers: c.ice_servers || [] };
  }
}

function wire() {
  for (const id of ["#share-input", "#folder-input"]) {
    $(id).addEventListener("change", (e) => {
      shareFiles([...e.target.files]);
      e.target.value = "";
    });
  }
  const drop = $("#drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    shareFiles([...e.dataTransfer.files]);
  });
  $("#get-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const v = $("#get-input").value.trim();
    if (v) get(v);
    $("#get-input").value = "";
  });
  $("#p2t-input").addEventListener("change", async (e) => {
    for (const f of e.target.files) {
      tabswarm.open(await f.text()).catch((err) => console.warn(err.message));
    }
    e.target.value = "";
  });
  addEventListener("hashchange", () => {
    const d = location.hash.slice(1);
    if (d) get(d);
  });
}

function share(file) {
  tabswarm.share(file).catch((err) => console.warn("share:", err.message));
}

function get(text) {
  tabswarm.get(text).catch((err) => console.warn("get:", err.message));
}

function tick() {
  let s;
  try {
    s = JSON.parse(tabswarm.stats());
  } catch (err) {
    return;
  }
  $("#peer").textContent = s.peer_id ? "Connected to the tracker as " + s.peer_id.slice(0, 8) : "Connecting to the tracker…";
  const seen = new Set();
  s.files.sort((a, b) => a.name.localeCompare(b.name) || a.key.localeCompare(b.key));
  const homes = renderCollections(s.collections || [], s.files);
  for (const f of s.files) {
    seen.add(f.key);
    let li = rows.get(f.key);
    if (!li) {
      li = makeRow(f);
      rows.set(f.key, li);
    }
    const home = homes.get(f.digest) || $("#files");
    if (li.parentElement !== home) home.prepend(li);
    render(li, f);
  }
  for (const [key, li] of rows) {
    if (!seen.has(key)) {
      li.remove();
      rows.delete(key);
    }
  }
  $("#empty").hidden = rows.size > 0;
}

const template = document.createElement("template");
template.innerHTML = `
<li class="file" data-testid="file">
  <div class="head"><span class="name"></span><span class="size"></span><span class="state"></span></div>
  <progress max="1" value="0"></progress>
  <div class="meta"></div>
  <div class="digest"><code></code> <button type="button" class="copy">Copy</button> <a class="link">share link</a></div>
  <canvas class="map" width="600" height="14"></canvas>
  <p class="error"></p>
  <div class="buttons">
    <button type="button" class="save" data-testid="save">Save</button>
    <button type="button" class="p2t">Save .p2t</button>
    <button type="button" class="remove">Remove</button>
  </div>
</li>`;

function makeRow(f) {
  const li = template.content.firstElementChild.cloneNode(true);
  li.dataset.key = f.key;
  $(".copy", li).addEventListener("click", () => copy(li.dataset.digest));
  $(".save", li).addEventListener("click", () => {
    tabswarm.save(li.dataset.digest).catch((err) => alert("Save failed: " + err.message));
  });
  $(".p2t", li).addEventListener("click", () => saveManifest(li.dataset.digest, li.dataset.name));
  $(".remove", li).addEventListener("click", () => tabswarm.remove(li.dataset.digest || li.dataset.key));
  return li;
}

function render(li, f) {
  li.dataset.digest = f.digest || "";
  li.dataset.name = f.name;
  li.dataset.state = f.state;
  $(".name", li).textContent = f.name;
  $(".size", li).textContent = f.state === "error" && !f.size ? "" : bytes(f.size);
  $(".state", li).textContent = f.state;
  // While preparing, received counts the bytes read and hashed so far.
  const done = f.state === "preparing" ? f.received / (f.size || 1) : f.chunks ? f.have / f.chunks : f.state === "seeding" ? 1 : 0;
  $("progress", li).value = done;
  const peers = (f.peers || []).filter((p) => p.connected);
  const parts = [];
  if (f.chunks || f.state === "seeding") parts.push(`${f.have}/${f.chunks} chunks`);
  if (f.state !== "preparing" && f.state !== "error") parts.push(`${peers.length} peer${peers.length === 1 ? "" : "s"}`);
  if (f.down_rate > 1) parts.push("↓ " + bytes(f.down_rate) + "/s");
  if (f.up_rate > 1) parts.push("↑ " + bytes(f.up_rate) + "/s");
  if (f.state === "downloading" && f.down_rate > 1) {
    const left = f.size * (1 - f.have / Math.max(1, f.chunks));
    parts.push("ETA " + duration(left / f.down_rate));
  }
  if (f.sent) parts.push("sent " + bytes(f.sent));
  $(".meta", li).textContent = parts.join(" · ");
  $(".digest", li).hidden = !f.digest;
  $(".digest code", li).textContent = f.digest || "";
  $(".link", li).href = f.digest ? location.origin + "/#" + f.digest : "";
  $(".error", li).textContent = f.error || "";
  $(".error", li).hidden = !f.error;
  $(".save", li).hidden = f.state !== "seeding";
  $(".p2t", li).hidden = !f.chunks && f.state !== "seeding";
  drawMap($(".map", li), f);
}

// drawMap paints one cell per chunk (or per group of chunks), coloured by
// the peer each came from; grey for chunks this tab had already.
function drawMap(canvas, f) {
  const map = f.map || [];
  canvas.hidden = map.length === 0;
  if (!map.length) return;
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  const cells = Math.min(map.length, w);
  ctx.clearRect(0, 0, w, h);
  for (let c = 0; c < cells; c++) {
    const i = Math.floor((c * map.length) / cells);
    const v = map[i];
    if (!v) continue;
    ctx.fillStyle = v === 1 ? "#8a9bb0" : colour(f.sources[v - 2]);
    const x0 = Math.floor((c * w) / cells), x1 = Math.floor(((c + 1) * w) / cells);
    ctx.fillRect(x0, 0, Math.max(1, x1 - x0 - (cells < w / 3 ? 1 : 0)), h);
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

async function copy(text) {
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
}

// showNetwork lists the files that peers on this network seed and this tab
// does not hold, such as those of `tabswarm serve --share DIR`.
async function showNetwork() {
  const token = window.tabswarmConfig.token;
  let stats;
  try {
    const r = await fetch("api/stats", { headers: token ? { Authorization: "Bearer " + token } : {} });
    if (!r.ok) return;
    stats = await r.json();
  } catch {
    return;
  }
  const held = new Set([...rows.values()].map((li) => li.dataset.digest).concat([...collectionRows.keys()]));
  const list = $("#network");
  list.replaceChildren();
  for (const sw of stats.swarms || []) {
    if (!sw.seeders || held.has(sw.digest)) continue;
    const li = document.createElement("li");
    li.dataset.testid = "network-file";
    li.dataset.digest = sw.digest;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = sw.name || sw.short_digest;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = `${bytes(sw.size)} · ${sw.seeders} seeder${sw.seeders === 1 ? "" : "s"}`;
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = "Get";
    btn.addEventListener("click", () => get(sw.digest));
    li.append(name, meta, btn);
    list.append(li);
  }
  $("#network-section").hidden = list.children.length === 0;
}

async function showStorage() {
  if (!navigator.storage || !navigator.storage.estimate) return;
  const e = await navigator.storage.estimate();
  $("#storage").textContent = `${bytes(e.usage || 0)} stored of ${bytes(e.quota || 0)} allowed`;
}

function bytes(n) {
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : Math.round(n)) + " " + u[i];
}

function duration(s) {
  if (!isFinite(s)) return "?";
  if (s < 60) return Math.ceil(s) + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
}

boot();
