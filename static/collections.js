// tabswarm page: collections, several files shared as one (one digest, one
// link). Each file of a collection is still its own file row, drawn by
// app.js inside its collection's row.
"use strict";

const collectionRows = new Map(); // collection digest -> <li>

const collectionTemplate = document.createElement("template");
collectionTemplate.innerHTML = `
<li class="file collection" data-testid="collection">
  <div class="head"><span class="name"></span><span class="size"></span><span class="state"></span></div>
  <progress max="1" value="0"></progress>
  <div class="meta"></div>
  <div class="digest"><code></code> <button type="button" class="copy">Copy</button> <a class="link">share link</a></div>
  <p class="error"></p>
  <div class="buttons">
    <button type="button" class="save-all" data-testid="save-all">Save all</button>
    <button type="button" class="show-qr" data-testid="show-qr" aria-expanded="false">QR code</button>
    <button type="button" class="p2t">Save .p2t</button>
    <button type="button" class="remove">Remove</button>
  </div>
  <div class="row-qr" hidden><img class="qr" data-testid="row-qr" width="180" height="180" alt=""><a class="link"></a></div>
  <ul class="members" data-testid="members"></ul>
</li>`;

// shareFiles shares one File as a file and several as one collection;
// paths, when given, are the files' paths in dropped folders. No files
// (an empty folder, picked or dropped) is said, not passed over.
function shareFiles(files, paths) {
  if (files.length === 0) {
    setStatus("Nothing shared: that folder has no files.");
  } else if (files.length === 1 && !paths) {
    share(files[0]);
  } else {
    whenReady(() => tabswarm.shareSet(files, paths).catch((err) => console.warn("share:", err.message)));
  }
}

// shareDropped shares what a drop brought: files as they are, and folders
// walked to their files, which keep their paths. The entries are taken
// during the drop event; walking them may take longer.
function shareDropped(dt) {
  const entries = [...(dt.items || [])].map((it) => it.webkitGetAsEntry && it.webkitGetAsEntry()).filter(Boolean);
  if (!entries.some((e) => e.isDirectory)) {
    shareFiles([...dt.files]);
    return;
  }
  const files = [], paths = [];
  Promise.all(entries.map((e) => walkEntry(e, files, paths)))
    .then(() => shareFiles(files, paths))
    .catch((err) => setStatus("Could not read the dropped folder: " + err.message, true));
}

// walkEntry adds the files under a dropped entry, with their paths.
async function walkEntry(entry, files, paths) {
  if (entry.isFile) {
    files.push(await new Promise((ok, fail) => entry.file(ok, fail)));
    paths.push(entry.fullPath.replace(/^\/+/, ""));
    return;
  }
  const reader = entry.createReader();
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) return;
    for (const e of batch) await walkEntry(e, files, paths);
  }
}

// renderCollections draws one row per collection and returns, for each
// file that belongs to one, the list its row goes in.
function renderCollections(list, files) {
  const byDigest = new Map(files.map((f) => [f.digest, f]));
  const homes = new Map();
  const seen = new Set();
  for (const c of list) {
    seen.add(c.digest);
    let li = collectionRows.get(c.digest);
    if (!li) {
      li = makeCollectionRow(c);
      collectionRows.set(c.digest, li);
      $("#files").prepend(li);
    }
    let have = 0;
    for (const e of c.files) {
      homes.set(e.digest, $(".members", li));
      const f = byDigest.get(e.digest);
      if (f && f.chunks) have += e.size * (f.have / f.chunks);
      else if (f && f.state === "seeding") have += e.size;
    }
    li.dataset.state = c.state;
    $(".name", li).textContent = c.name;
    $(".size", li).textContent = bytes(c.size);
    $(".state", li).textContent = c.state;
    $("progress", li).value = c.state === "seeding" ? 1 : have / (c.size || 1);
    $(".meta", li).textContent = `${c.files.length} file${c.files.length === 1 ? "" : "s"}: ` + c.files.map((e) => e.path).join(", ");
    $(".error", li).textContent = c.error || "";
    $(".error", li).hidden = !c.error;
    $(".save-all", li).hidden = c.state !== "seeding";
  }
  for (const [d, li] of collectionRows) {
    if (!seen.has(d)) {
      li.remove();
      collectionRows.delete(d);
    }
  }
  return homes;
}

function makeCollectionRow(c) {
  const li = collectionTemplate.content.firstElementChild.cloneNode(true);
  li.dataset.digest = c.digest;
  li.dataset.name = c.name;
  $(".digest code", li).textContent = c.digest;
  $(".link", li).href = shareLink(c.digest);
  $(".show-qr", li).addEventListener("click", () => toggleQR(li));
  $(".copy", li).addEventListener("click", () => copy(c.digest, $(".copy", li)));
  $(".p2t", li).addEventListener("click", () => saveManifest(c.digest, c.name));
  $(".remove", li).addEventListener("click", () => tabswarm.remove(c.digest));
  $(".save-all", li).addEventListener("click", async () => {
    for (const e of c.files) {
      try {
        await tabswarm.save(e.digest);
      } catch (err) {
        alert("Save failed: " + e.path + ": " + err.message);
        return;
      }
    }
  });
  return li;
}
