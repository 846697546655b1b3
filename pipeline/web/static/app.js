// Dailies: behaviour shared by every page. Plain JavaScript, no build step, no inline scripts (CSP).
"use strict";

function typing(e) {
  const t = e.target;
  return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
}

// -- help dialog and global keys ------------------------------------------------------------
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const help = document.getElementById("help");
  if (e.key === "Escape" && typing(e)) { e.target.blur(); return; }
  if (typing(e)) return;
  if (e.key === "?") { help.open ? help.close() : help.showModal(); e.preventDefault(); }
  else if (e.key === "/") {
    const q = document.getElementById("q");
    if (q) { q.focus(); q.select(); e.preventDefault(); } else { location.href = "/"; }
  }
});
document.querySelectorAll("[data-action=help]").forEach((b) =>
  b.addEventListener("click", () => document.getElementById("help").showModal()));
document.querySelectorAll("[data-action=back]").forEach((a) => a.addEventListener("click", (e) => {
  if (document.referrer && new URL(document.referrer).origin === location.origin &&
      new URL(document.referrer).pathname === "/") { e.preventDefault(); history.back(); }
}));

// -- results grid: hover scrub and keyboard navigation ----------------------------------------
const cards = Array.from(document.querySelectorAll(".card"));
cards.forEach((card) => {
  const ids = (card.dataset.kf || "").split(",").filter(Boolean);
  const img = card.querySelector(".thumb img");
  const bar = card.querySelector(".scrub");
  if (!img || ids.length < 2) return;
  const original = img.getAttribute("src");
  const thumb = card.querySelector(".thumb");
  thumb.addEventListener("mousemove", (e) => {
    const r = thumb.getBoundingClientRect();
    const f = Math.min(0.999, Math.max(0, (e.clientX - r.left) / r.width));
    const i = Math.floor(f * ids.length);
    const src = "/media/keyframe/" + ids[i];
    if (img.getAttribute("src") !== src) img.setAttribute("src", src);
    bar.style.width = ((i + 1) / ids.length * 100) + "%";
  });
  thumb.addEventListener("mouseleave", () => { img.setAttribute("src", original); bar.style.width = "0"; });
});

function columns() {
  if (cards.length < 2) return 1;
  const top = cards[0].offsetTop;
  const n = cards.findIndex((c) => c.offsetTop !== top);
  return n === -1 ? cards.length : n;
}
let current = -1;
function focusCard(i) {
  if (!cards.length) return;
  current = Math.max(0, Math.min(cards.length - 1, i));
  cards.forEach((c, j) => c.classList.toggle("focus", j === current));
  const link = cards[current].querySelector(".thumb");
  link.focus({ preventScroll: true });
  cards[current].scrollIntoView({ block: "nearest" });
}
if (cards.length) {
  cards.forEach((c, i) => c.querySelector(".thumb").addEventListener("focus", () => {
    current = i; cards.forEach((d, j) => d.classList.toggle("focus", j === i));
  }));
  document.addEventListener("keydown", (e) => {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    const cols = columns();
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols };
    if (e.key in moves) { focusCard(current < 0 ? 0 : current + moves[e.key]); e.preventDefault(); }
    else if ((e.key === "m" || e.key === "M") && current >= 0 && cards[current].dataset.like) {
      location.href = "/?like=" + encodeURIComponent(cards[current].dataset.like);
    }
  });
}

// -- image query: upload on choose, or drop a still anywhere on the search page --------------
document.querySelectorAll("input[data-autosubmit]").forEach((input) =>
  input.addEventListener("change", () => { if (input.files.length) input.form.submit(); }));
const drop = document.querySelector(".dropzone");
const fileInput = document.querySelector("input[data-autosubmit]");
if (drop && fileInput) {
  let depth = 0;
  const hasFile = (e) => Array.from(e.dataTransfer.types || []).includes("Files");
  window.addEventListener("dragenter", (e) => { if (hasFile(e)) { depth++; drop.hidden = false; } });
  window.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; drop.hidden = true; } });
  window.addEventListener("dragover", (e) => { if (hasFile(e)) e.preventDefault(); });
  window.addEventListener("drop", (e) => {
    if (!hasFile(e)) return;
    e.preventDefault(); depth = 0; drop.hidden = true;
    fileInput.files = e.dataTransfer.files;
    fileInput.form.submit();
  });
}

document.querySelectorAll("select[data-autosubmit-select]").forEach((sel) =>
  sel.addEventListener("change", () => sel.form.submit()));

// -- shot page: T tag, N notes, C circle ------------------------------------------------------
document.addEventListener("keydown", (e) => {
  if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
  const k = e.key.toLowerCase();
  const target = { t: "tag", n: "notes" }[k];
  if (target && document.getElementById(target)) { document.getElementById(target).focus(); e.preventDefault(); }
  else if (k === "c" && document.getElementById("circle")) { document.getElementById("circle").click(); e.preventDefault(); }
});

// -- library page: reload when the catalog changes (an ingest is running) --------------------
const live = document.querySelector("[data-poll]");
if (live) {
  let last = null;
  const poll = async () => {
    if (document.hidden) return;
    try {
      const r = await fetch(live.dataset.poll, { headers: { Accept: "application/json" } });
      const d = await r.json();
      const sig = JSON.stringify([d.status, d.counts, d.progress]);
      if (last !== null && sig !== last) location.reload();
      last = sig;
    } catch (err) { live.textContent = "server not reachable"; }
  };
  poll();
  setInterval(poll, 10000);
}
