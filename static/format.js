// tabswarm page: small helpers the other scripts share: element lookup,
// names without bidirectional controls, binary units (B, KiB, MiB, GiB, as the dashboard and the CLI use), and
// the readable name a new browser profile gets.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);

// el makes an element with a class and text content (never markup).
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = String(text);
  return e;
}

// setText and setHidden change node's text or hidden flag only where it
// differs: a row is redrawn four times a second during a transfer, and
// every write makes the browser restyle it.
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function setHidden(node, hide) {
  if (node.hidden !== hide) node.hidden = hide;
}

// plain removes the bidirectional controls (U+202E and its kin) from a
// name a peer or a file gave, so that "evil\u202egpj.exe" cannot show as
// "evilexe.jpg".
function plain(name) {
  return String(name ?? "").replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "");
}

function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : Math.round(n)) + " " + u[i];
}

function duration(s) {
  if (!isFinite(s)) return "?";
  if (s < 60) return Math.ceil(s) + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
}

const adjectives = ["Amber", "Brave", "Calm", "Clever", "Cosy", "Eager", "Gentle", "Golden", "Happy", "Jolly",
  "Kind", "Lively", "Lucky", "Merry", "Misty", "Nimble", "Quiet", "Rapid", "Silver", "Sunny", "Swift", "Witty"];
const animals = ["Badger", "Beaver", "Crane", "Dolphin", "Falcon", "Ferret", "Fox", "Gecko", "Heron", "Koala",
  "Lynx", "Marten", "Otter", "Owl", "Panda", "Puffin", "Raven", "Robin", "Seal", "Tiger", "Walrus", "Wren"];

function randomName() {
  const pick = (a) => a[Math.floor(Math.random() * a.length)];
  return pick(adjectives) + " " + pick(animals);
}

// localStorage may be unavailable (some private modes): fall back to memory.
const memStore = new Map();
function stored(key) {
  try { return localStorage.getItem(key); } catch { return memStore.get(key) ?? null; }
}
function store(key, value) {
  try { localStorage.setItem(key, value); } catch { memStore.set(key, value); }
}
