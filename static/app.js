// tabswarm page: loads the Go peer (dist/tabswarm.wasm) and forwards what a
// person does to window.tabswarm. All the work happens in Go; rows.js draws
// what it reports. Anything done before the peer is ready (a drop, a paste,
// a pick, a share link) waits in a queue and runs once it is.
"use strict";

const status = $("#status");
const queue = []; // functions waiting for the peer
let ready = false;

// setStatus shows a message; bad styles it as an error the person can act on
// (a wrong file picked), which leaves the page's state as it was.
function setStatus(text, bad) {
  status.textContent = text;
  status.classList.toggle("bad", !!bad);
}

// fail shows an error the page cannot go on from, and says so in its state.
function fail(text) {
  setStatus(text, true);
  status.dataset.state = "error";
}

// whenReady runs fn now if the peer is ready, or once it is.
function whenReady(fn) {
  if (ready) {
    fn();
    return;
  }
  queue.push(fn);
  if (status.dataset.state === "loading") {
    setStatus(`Starting… (${queue.length} waiting to start)`);
  }
}

async function boot() {
  wire();
  if (!window.WebAssembly || !window.Go) {
    fail("This browser cannot run tabswarm (no WebAssembly).");
    return;
  }
  try {
    window.tabswarmConfig = await loadConfig();
  } catch (err) {
    fail(err.message);
    return;
  }
  showJoin(window.tabswarmConfig.urls);
  const go = new Go();
  const started = new Promise((resolve) => addEventListener("tabswarm-ready", resolve, { once: true }));
  addEventListener("tabswarm-error", (e) => fail("Storage unavailable: " + e.detail));
  // An older tabswarm in another tab holds the database: say what we wait for.
  addEventListener("tabswarm-waiting", (e) => { if (!ready) setStatus(e.detail); });
  // A newer tabswarm in another tab took the database over.
  addEventListener("tabswarm-updated", (e) => {
    setStatus(e.detail, true);
    status.dataset.state = "updated";
  });
  try {
    const [{ instance }, sha256] = await Promise.all([
      WebAssembly.instantiateStreaming(fetch("dist/tabswarm.wasm"), go.importObject),
      pageSHA256(),
    ]);
    lendMemory(instance.exports.mem, sha256);
    go.run(instance).then(() => fail("The peer stopped. Reload the page."));
  } catch (err) {
    fail("Could not load the peer: " + err);
    return;
  }
  await started;
  ready = true;
  setStatus("Ready.");
  // Stable readiness hooks for people and tests alike.
  status.dataset.state = "ready";
  document.documentElement.dataset.ready = "";
  setName($("#name-input").value);
  tick();
  tabswarm.onchange = tick; // called after each change, at most every 250 ms
  setInterval(showStorage, 5000);
  showStorage();
  setInterval(showNetwork, 5000);
  showNetwork();
  for (const fn of queue.splice(0)) fn();
}

function tick() {
  const s = tabswarm.stats();
  for (const f of [...s.files, ...(s.collections || [])]) f.name = plain(f.name);
  render(s);
}

// pageSHA256 resolves to hash-wasm's SHA-256 (see sha256.js), or to null
// where it cannot load: the peer then hashes in Go.
async function pageSHA256() {
  try {
    return await newSHA256(window.hashwasm);
  } catch (err) {
    console.warn("hash-wasm unavailable, hashing in Go:", err);
    return null;
  }
}

function authHeaders() {
  const token = window.tabswarmConfig.token;
  return token ? { Authorization: "Bearer " + token } : {};
}

// loadConfig asks the tracker for its settings. A private tracker answers
// 401 until the page sends its token, which is asked for once and kept.
async function loadConfig() {
  for (;;) {
    const token = stored("tabswarm.token") || "";
    const r = await fetch("api/config", { headers: token ? { Authorization: "Bearer " + token } : {} });
    if (r.status === 401) {
      const t = prompt(token ? "That token was refused. Enter this tracker's access token:" : "This tracker is private. Enter its access token:");
      if (t === null) throw new Error("This tracker is private: reload and enter its access token.");
      store("tabswarm.token", t.trim());
      continue;
    }
    if (!r.ok) throw new Error("Cannot read the tracker's settings (HTTP " + r.status + ").");
    const c = await r.json();
    return { token, iceServers: c.ice_servers || [], urls: c.urls || [] };
  }
}

// maxP2TBytes is above the largest .p2t (swarm.MaxCollectionBytes, 6.1 MiB).
const maxP2TBytes = 8 << 20;

function wire() {
  for (const [button, id] of [["#pick", "#share-input"], ["#pick-folder", "#folder-input"], ["#pick-p2t", "#p2t-input"]]) {
    $(button).addEventListener("click", () => $(id).click());
  }
  for (const id of ["#share-input", "#folder-input"]) {
    const input = $(id);
    input.addEventListener("change", () => {
      shareFiles([...input.files]);
      input.value = "";
    });
  }
  wireDrop();
  document.addEventListener("paste", onPaste);
  $("#get-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const v = $("#get-input").value.trim();
    if (v) get(v);
    $("#get-input").value = "";
  });
  $("#p2t-input").addEventListener("change", async (e) => {
    for (const f of e.target.files) {
      // A .p2t is a few MiB at most (swarm.MaxCollectionBytes): a large
      // file picked by mistake is refused before it is read into memory.
      if (f.size > maxP2TBytes) {
        setStatus(`${f.name} is not a .p2t file (${bytes(f.size)}; a .p2t is at most ${bytes(maxP2TBytes)}).`, true);
        continue;
      }
      const text = await f.text();
      whenReady(() => tabswarm.open(text, f.name).catch((err) => console.warn(err.message)));
    }
    e.target.value = "";
  });
  addEventListener("hashchange", fromHash);
  fromHash();
  $("#remove-all").addEventListener("click", removeAll);
  wireName();
}

// fromHash starts the download a share link names: the page opened (or
// its fragment changed) as HOST/#DIGEST or HOST/?d=DIGEST.
function fromHash() {
  if (location.hash.length > 1 || /[?&]d=/.test(location.search)) get(location.href);
}

// wireDrop makes the whole window a drop target. Every dragover and drop
// is cancelled, so a file dropped anywhere (even before the peer is ready,
// or beside the overlay) is shared and never opened by the browser.
function wireDrop() {
  const overlay = $("#drop-overlay");
  let depth = 0;
  const types = (e) => Array.from((e.dataTransfer && e.dataTransfer.types) || []);
  const hasFiles = (e) => types(e).includes("Files");
  const hasLink = (e) => types(e).includes("text/uri-list");
  addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth++;
    overlay.hidden = false;
  });
  addEventListener("dragover", (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = hasFiles(e) || hasLink(e) ? "copy" : "none";
  });
  addEventListener("dragleave", () => {
    if (--depth <= 0) {
      depth = 0;
      overlay.hidden = true;
    }
  });
  addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    const dt = e.dataTransfer;
    if (!dt) return;
    // A dragged share link (from another tab or a chat) downloads.
    if (!dt.files.length) getLink(dt.getData("text/uri-list").split("\n")[0] || dt.getData("text/plain"));
    else shareDropped(dt);
  });
}

// onPaste shares pasted files, and downloads a pasted digest or share link
// unless it is being pasted into a text field.
function onPaste(e) {
  const data = e.clipboardData;
  if (!data) return;
  if (data.files && data.files.length) {
    e.preventDefault();
    shareFiles([...data.files]);
    return;
  }
  const t = e.target;
  if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
  if (getLink(data.getData("text/plain"))) e.preventDefault();
}

// getLink downloads what text names, if it is a digest or share link, and
// says whether it was. The peer's parser decides; before it is ready,
// anything holding 64 hex characters waits for it.
function getLink(text) {
  text = (text || "").trim();
  const ok = ready ? tabswarm.parseLink(text) !== null : /[0-9a-f]{64}/i.test(text);
  if (ok) get(text);
  return ok;
}

function share(file) {
  whenReady(() => tabswarm.share(file).catch((err) => console.warn("share:", err.message)));
}

function get(text) {
  whenReady(() => {
    const d = tabswarm.parseLink(text);
    const held = [...rows.values()].some((li) => li.dataset.digest === d && li.dataset.state === "seeding");
    if (d && !held) awaited.add(d);
    tabswarm.get(text).catch((err) => console.warn("get:", err.message));
  });
}

async function removeAll() {
  if (!confirm(`Remove all ${rows.size} files from this browser? Others can no longer get them from this tab.`)) return;
  const sets = [...collectionRows.keys()].map((d) => tabswarm.remove(d).catch((err) => console.warn("remove:", err.message)));
  await Promise.all([...sets, ...[...rows.values()].map(removeRow)]);
  showStorage();
}

// wireName keeps this profile's name: made up on the first visit, kept in
// localStorage, editable, and told to the tracker so others see it.
function wireName() {
  let name = stored("tabswarm.name");
  if (!name) {
    name = randomName();
    store("tabswarm.name", name);
  }
  const input = $("#name-input");
  input.value = name;
  const save = () => setName(input.value);
  input.addEventListener("change", save);
  $("#name-form").addEventListener("submit", (e) => {
    e.preventDefault();
    save();
    input.blur();
  });
}

function setName(name) {
  whenReady(() => tabswarm.setName(name).then((clean) => {
    selfName = clean;
    $("#name-input").value = clean;
    $("#name-input").setCustomValidity("");
    store("tabswarm.name", clean);
  }).catch((err) => {
    $("#name-input").setCustomValidity(err.message);
    $("#name-input").reportValidity();
  }));
}

// showJoin lists where other devices reach this page, with a QR code of
// the first: the page's own address unless that is this machine only,
// then the tracker's LAN addresses.
function showJoin(urls) {
  const local = /^(localhost|127\.|\[::1\])/.test(location.host);
  const all = [...new Set([...(local ? [] : [location.origin]), ...urls.filter((u) => !/\/\/(localhost|127\.|\[::1\])/.test(u))])];
  if (all.length) shareOrigin = all[0].replace(/\/$/, "");
  const list = $("#join-urls");
  list.replaceChildren(...all.map((u) => {
    const li = el("li");
    const a = el("a", "", u);
    a.href = u;
    li.append(a);
    return li;
  }));
  if (!all.length) list.append(el("li", "empty", "No network address: the tracker listens on this machine only."));
  const qr = $("#join-qr");
  qr.hidden = !all.length;
  if (all.length) qr.src = "qr.svg?text=" + encodeURIComponent(all[0]);
}

// showNetwork learns peer names and lists the files that peers on this
// network seed and this tab does not hold, such as those of
// `tabswarm serve --share DIR`.
async function showNetwork() {
  let stats;
  try {
    const r = await fetch("api/stats", { headers: authHeaders() });
    if (!r.ok) return;
    stats = await r.json();
  } catch {
    return;
  }
  for (const sw of stats.swarms || []) {
    sw.name = plain(sw.name);
    for (const p of sw.peers || []) if (p.name) peerNames.set(p.id, p.name);
  }
  const held = new Set([...rows.values()].map((li) => li.dataset.digest).concat([...collectionRows.keys()]));
  const list = $("#network");
  list.replaceChildren();
  for (const sw of stats.swarms || []) {
    if (!sw.seeders || held.has(sw.digest)) continue;
    const li = el("li");
    li.dataset.testid = "network-file";
    li.dataset.digest = sw.digest;
    // In a cluster of trackers, each seeder says which node it is on.
    const onNode = (p) => (stats.nodes > 1 && p.node ? ` (node ${p.node})` : "");
    const seeders = (sw.peers || []).filter((p) => p.complete).map((p) => (p.name || p.id) + onNode(p));
    const from = seeders.length
      ? `from ${seeders.slice(0, 3).join(", ")}${seeders.length > 3 ? ` and ${seeders.length - 3} more` : ""}`
      : `${sw.seeders} seeder${sw.seeders === 1 ? "" : "s"}`;
    const meta = `${bytes(sw.size)} · ${from}`;
    const btn = el("button", "", "Get");
    btn.type = "button";
    btn.setAttribute("aria-label", "Get " + (sw.name || sw.short_digest));
    btn.addEventListener("click", () => get(sw.digest));
    li.append(el("span", "name", sw.name || sw.short_digest), el("span", "meta", meta), btn);
    list.append(li);
  }
  $("#network-section").hidden = list.children.length === 0;
}

// showStorage tells how much this browser keeps and how much room is
// left. navigator.storage exists only in secure contexts, so on a plain
// http LAN page the files' own sizes stand in for the usage.
async function showStorage() {
  if (!navigator.storage || !navigator.storage.estimate) {
    $("#storage").textContent = `${bytes(heldBytes)} stored here`;
    $("#storage").title = "A plain http page cannot ask the browser how much room is left; over https it shows that too.";
    return;
  }
  const e = await navigator.storage.estimate();
  const free = Math.max(0, (e.quota || 0) - (e.usage || 0));
  $("#storage").textContent = `${bytes(e.usage || 0)} used · ${bytes(free)} available`;
}

boot();
