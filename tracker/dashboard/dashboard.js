// The tracker's /stats page: keeps the server-rendered statistics live from
// /api/stats/events. It shares the app's format.js (el, bytes in binary
// units), loaded before it. Every string from the tracker goes in with
// textContent, never as markup. A private tracker's token is the one the
// app keeps in localStorage under "tabswarm.token"; this page asks for it
// when there is none or it is wrong, and remembers it likewise.
"use strict";

(() => {
  const tokenKey = "tabswarm.token";
  const $ = (sel) => document.querySelector(sel);
  let source = null;
  let poll = null;
  let memToken = ""; // when localStorage is unavailable
  let nodes = 1; // tracker nodes in the last statistics; peers show theirs when more than one

  function uptime(s) {
    s = Math.floor(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + "h" : "") + (h || m ? m + "m" : "") + (s % 60) + "s";
  }

  function swarm(s) {
    const sec = el("section", "swarm");
    sec.dataset.testid = "swarm";
    sec.append(el("h2", "name", plain(s.name)));
    const meta = el("p", "meta");
    const code = el("code", "", s.short_digest);
    code.title = s.digest;
    const health = el("span", "health", healthText(s.seeders));
    health.dataset.testid = "health";
    health.dataset.copies = String(Math.min(s.seeders, 2));
    meta.append(el("span", "", bytes(s.size)), " · ", code, " · ",
      el("span", "", s.seeders + " seeders"), " · ", el("span", "", s.leechers + " leechers"), " · ", health);
    sec.append(meta);
    const table = el("table");
    const head = el("tr");
    for (const h of ["Peer", "Progress", "Chunks", "Up", "Down"]) head.append(el("th", "", h));
    table.append(el("thead"));
    table.tHead.append(head);
    const body = el("tbody");
    for (const p of s.peers) {
      const tr = el("tr");
      const bar = el("progress");
      bar.max = 1;
      bar.value = p.progress;
      const prog = el("td");
      prog.append(bar, " " + Math.round(100 * p.progress) + "%");
      const id = el("td");
      if (p.name) id.append(el("span", "peer-name", p.name), " ");
      id.append(el("code", "", p.id));
      if (nodes > 1) {
        const node = el("span", "node", "on " + p.node);
        node.title = "the tracker node it is connected to";
        id.append(" ", node);
      }
      tr.append(id, prog, el("td", "", p.have + "/" + s.chunks), el("td", "", bytes(p.uploaded)), el("td", "", bytes(p.downloaded)));
      body.append(tr);
    }
    table.append(body);
    sec.append(table);
    return sec;
  }

  // healthText words how many full copies are online, as the server does.
  function healthText(n) {
    return n === 0 ? "no full copy online" : n === 1 ? "1 full copy online" : n + " full copies online";
  }

  // history holds the charts' points of the last historySeconds: first
  // the tracker's own (GET api/stats/history), then one per snapshot the
  // stream sends, so the charts draw here, from what already arrived.
  const historySeconds = 300;
  let history = [];
  let totals = null; // the byte totals of the last snapshot, and when

  function remember(st) {
    const t = Date.now();
    if (totals && t > totals.t) {
      const rate = (now, before) => (now > before ? ((now - before) * 1000) / (t - totals.t) : 0); // a restart counts from zero
      history.push({ t, up: rate(st.bytes_uploaded, totals.up), down: rate(st.bytes_downloaded, totals.down),
        peers: st.peers, swarms: st.swarm_count });
    }
    totals = { t, up: st.bytes_uploaded, down: st.bytes_downloaded };
    while (history.length && history[0].t < t - historySeconds * 1000) history.shift();
  }

  // loadHistory starts the charts with the tracker's samples, moved onto
  // this device's clock (its last sample was taken just now).
  async function loadHistory(headers) {
    try {
      const resp = await fetch("api/stats/history", { headers, cache: "no-store" });
      if (!resp.ok) return;
      const samples = await resp.json();
      if (!samples.length) return;
      const shift = Date.now() - samples[samples.length - 1].t;
      history = samples.map((p) => ({ ...p, t: p.t + shift }));
    } catch {
      // the stream fills the charts alone
    }
  }

  // chart draws series (keys of the history points) on canvas over the
  // last historySeconds, with a scale labelled by label.
  function chart(canvas, series, label) {
    const css = getComputedStyle(document.documentElement);
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (!w || !h) return;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    let top = 0;
    for (const p of history) for (const k of series) top = Math.max(top, p[k]);
    top = niceCeil(top);
    const now = Date.now(), left = 64, bottom = h - 16;
    const x = (t) => left + ((w - left - 4) * (t - (now - historySeconds * 1000))) / (historySeconds * 1000);
    const y = (v) => bottom - ((bottom - 6) * v) / top;
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = css.getPropertyValue("color") || "#888";
    g.strokeStyle = css.getPropertyValue("--grid").trim() || "#8884";
    g.lineWidth = 1;
    g.textBaseline = "middle";
    for (const f of [0, 0.5, 1]) {
      const yy = Math.round(y(top * f)) + 0.5;
      g.beginPath();
      g.moveTo(left, yy);
      g.lineTo(w, yy);
      g.stroke();
      g.fillText(label(top * f), 2, yy);
    }
    g.textBaseline = "alphabetic";
    g.fillText("5 min ago", left, h - 2);
    g.fillText("now", w - 24, h - 2);
    g.lineWidth = 2;
    for (const k of series) {
      g.strokeStyle = css.getPropertyValue("--" + k).trim() || "#888";
      g.beginPath();
      history.forEach((p, i) => (i ? g.lineTo(x(p.t), y(p[k])) : g.moveTo(x(p.t), y(p[k]))));
      g.stroke();
    }
  }

  // niceCeil rounds a chart's top up to 1, 2 or 5 times a power of ten.
  function niceCeil(v) {
    if (v <= 1) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function draw() {
    chart($("#chart-bytes"), ["up", "down"], (v) => bytes(Math.round(v)) + "/s");
    chart($("#chart-counts"), ["peers", "swarms"], (v) => String(Math.round(v)));
  }

  function render(st) {
    nodes = st.nodes || 1;
    remember(st);
    draw();
    $("#uptime").textContent = uptime(st.uptime_seconds);
    $("#peers").textContent = String(st.peers);
    $("#nodes").textContent = String(nodes);
    $("#swarm-count").textContent = String(st.swarm_count);
    $("#rate").textContent = st.messages_per_second.toFixed(1);
    $("#uploaded").textContent = bytes(st.bytes_uploaded);
    $("#downloaded").textContent = bytes(st.bytes_downloaded);
    const main = $("#swarms");
    if (!st.swarms.length) {
      main.replaceChildren(el("p", "empty", "No swarms yet."));
    } else {
      main.replaceChildren(...st.swarms.map(swarm));
    }
  }

  function token() {
    try { return localStorage.getItem(tokenKey) || memToken; } catch { return memToken; }
  }

  function askToken(message) {
    stop();
    $("#live").textContent = "private tracker";
    $("#token-form").hidden = false;
    $("#token-error").textContent = message || "";
    $("#token-input").focus();
  }

  function stop() {
    if (source) source.close();
    if (poll) clearInterval(poll);
    source = null;
    poll = null;
  }

  // check asks /api/stats once; on success it renders and goes live.
  async function check() {
    const headers = token() ? { Authorization: "Bearer " + token() } : {};
    let resp;
    try {
      resp = await fetch("api/stats", { headers, cache: "no-store" });
    } catch {
      $("#live").textContent = "tracker unreachable; retrying";
      setTimeout(check, 5000);
      return;
    }
    if (resp.status === 401) {
      askToken(token() ? "That token is wrong." : "");
      return;
    }
    if (!resp.ok) {
      $("#live").textContent = "tracker answered " + resp.status + "; retrying";
      setTimeout(check, 5000);
      return;
    }
    $("#token-form").hidden = true;
    const st = await resp.json();
    await loadHistory(headers);
    render(st);
    live();
  }

  // live follows the event stream, or polls when the stream fails.
  function live() {
    stop();
    const q = token() ? "?token=" + encodeURIComponent(token()) : "";
    source = new EventSource("api/stats/events" + q);
    source.addEventListener("stats", (ev) => {
      $("#live").textContent = "live";
      render(JSON.parse(ev.data));
    });
    source.onerror = () => {
      if (source && source.readyState === EventSource.CLOSED) {
        stop();
        $("#live").textContent = "polling";
        poll = setInterval(async () => {
          try {
            const resp = await fetch("api/stats", { headers: token() ? { Authorization: "Bearer " + token() } : {}, cache: "no-store" });
            if (resp.status === 401) return askToken("The token changed.");
            if (resp.ok) render(await resp.json());
          } catch {
            $("#live").textContent = "tracker unreachable";
          }
        }, 3000);
      } else {
        $("#live").textContent = "reconnecting";
      }
    };
  }

  $("#token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    memToken = $("#token-input").value.trim();
    try { localStorage.setItem(tokenKey, memToken); } catch { /* private mode: ask again next time */ }
    check();
  });

  addEventListener("resize", draw);
  check();
})();
