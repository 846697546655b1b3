// Dailies shot page: the player starts at the shot's in-point; J/K/L, frame steps, I/O marks, source timecode.
"use strict";
(function () {
  const video = document.getElementById("player");
  if (!video) return;
  const p = JSON.parse(video.dataset.player);
  const rate = p.fps_num / p.fps_den;
  const nominal = Math.round(rate);
  const $ = (id) => document.getElementById(id);
  const tcEl = $("tc"), rateEl = $("rate"), timeline = $("timeline"), playhead = $("playhead");
  const stopAtOut = $("stopatout"), playBtn = document.querySelector("[data-cmd=toggle]");
  let marks = { in: null, out: null }, reverse = null, shuttle = 0;

  const pad = (n) => String(n).padStart(2, "0");
  function framesToTC(frames) {   // SMPTE, drop-frame at 29.97 and 59.94 when the clip's TC is DF
    const drop = p.drop && (nominal === 30 || nominal === 60);
    if (drop) {
      const d = nominal / 15, per10 = Math.round(rate * 600), perMin = nominal * 60 - d;
      const tens = Math.floor(frames / per10), rem = frames % per10;
      frames += d * 9 * tens + (rem > d ? d * Math.floor((rem - d) / perMin) : 0);
    }
    const ff = frames % nominal, s = Math.floor(frames / nominal);
    return pad(Math.floor(s / 3600) % 24) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60) + (drop ? ";" : ":") + pad(ff);
  }
  const frameAt = (t) => Math.floor(t * rate + 1e-3);
  const seekFrame = (f) => { video.currentTime = Math.max(0, (f + 0.25) / rate); };

  function draw() {
    const f = frameAt(video.currentTime);
    tcEl.textContent = framesToTC(p.tc_base + f);
    const dur = video.duration || p.end;
    playhead.style.left = (100 * video.currentTime / dur) + "%";
    if (!video.paused && stopAtOut.checked && video.currentTime >= p.end - 0.5 / rate && video.dataset.stopped !== "1") {
      video.pause(); seekFrame(frameAt(p.end) - 1); video.dataset.stopped = "1";
    }
  }
  function layout() {
    const dur = video.duration || p.end;
    const sr = $("shotrange");
    sr.style.left = (100 * p.start / dur) + "%";
    sr.style.width = (100 * (p.end - p.start) / dur) + "%";
    const mr = $("markrange");
    if (marks.in !== null || marks.out !== null) {
      const a = marks.in ?? p.start, b = marks.out ?? p.end;
      mr.hidden = false; mr.style.left = (100 * a / dur) + "%"; mr.style.width = (100 * Math.max(0, b - a) / dur) + "%";
    }
  }
  function loop() { draw(); if (!video.paused || reverse) requestAnimationFrame(loop); }

  function stopReverse() { if (reverse) { clearInterval(reverse); reverse = null; } }
  function setRate(r) { rateEl.textContent = r === 0 ? "" : (r > 0 ? "" : "−") + Math.abs(r) + "×"; }
  function stop() { stopReverse(); video.pause(); shuttle = 0; setRate(0); }
  function forward() {
    stopReverse();
    shuttle = shuttle > 0 ? Math.min(shuttle * 2, 8) : 1;
    video.playbackRate = shuttle; video.dataset.stopped = "0";
    video.play(); setRate(shuttle);
  }
  function backward() {           // browsers cannot play backwards: step the playhead back in time
    video.pause();
    shuttle = shuttle < 0 ? Math.max(shuttle * 2, -8) : -1;
    setRate(shuttle);
    stopReverse();
    let last = performance.now();
    reverse = setInterval(() => {
      const now = performance.now();
      video.currentTime = Math.max(0, video.currentTime + shuttle * (now - last) / 1000);
      last = now;
      if (video.currentTime <= 0) stop();
    }, 40);
    requestAnimationFrame(loop);
  }
  function toggle() { if (video.paused && !reverse) forward(); else stop(); }
  function mark(which) {
    const f = frameAt(video.currentTime);
    marks[which] = which === "in" ? f / rate : (f + 1) / rate;
    $("mark-" + which).textContent = framesToTC(p.tc_base + f);
    layout();
  }

  video.addEventListener("loadedmetadata", () => { seekFrame(Math.round(p.start * rate)); layout(); draw(); });
  video.addEventListener("play", () => { playBtn.textContent = "❚❚"; requestAnimationFrame(loop); });
  video.addEventListener("pause", () => { playBtn.textContent = "▶"; draw(); });
  video.addEventListener("seeked", draw);
  video.addEventListener("click", toggle);
  video.addEventListener("error", () => {
    const box = document.createElement("p");
    box.className = "banner error";
    box.textContent = "This browser could not play the source. Make an H.264 proxy of the clip to review it here.";
    video.after(box);
  });
  timeline.addEventListener("click", (e) => {
    const r = timeline.getBoundingClientRect();
    video.currentTime = (video.duration || p.end) * (e.clientX - r.left) / r.width;
  });
  document.querySelectorAll("[data-cmd]").forEach((b) => b.addEventListener("click", () =>
    ({ back: backward, toggle: toggle, fwd: forward })[b.dataset.cmd]()));
  document.querySelectorAll("[data-seek]").forEach((b) => b.addEventListener("click", () => {
    stop(); video.currentTime = parseFloat(b.dataset.seek) + 0.25 / rate;
  }));

  document.addEventListener("keydown", (e) => {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const nav = (which) => { const a = document.querySelector("[data-nav=" + which + "]"); if (a) location.href = a.href; };
    const actions = {
      j: backward, k: stop, l: forward, " ": toggle, i: () => mark("in"), o: () => mark("out"),
      ArrowLeft: () => { stop(); seekFrame(frameAt(video.currentTime) - (e.shiftKey ? nominal : 1)); },
      ArrowRight: () => { stop(); seekFrame(frameAt(video.currentTime) + (e.shiftKey ? nominal : 1)); },
      Home: () => { stop(); seekFrame(Math.round(p.start * rate)); },
      End: () => { stop(); seekFrame(frameAt(p.end) - 1); },
      ArrowUp: () => nav("prev"), ArrowDown: () => nav("next"),
      m: () => { const a = document.querySelector("[data-like]"); if (a) location.href = a.href; },
    };
    if (k in actions) { actions[k](); e.preventDefault(); }
  });
  video.src = p.src + "#t=" + p.start.toFixed(3);
})();
