// The Robot page: poll /api/robot at the rate the server names (5 Hz) and redraw.
// Plain JavaScript, no build step, no CDN: the factory floor is offline.
"use strict";
const traces = { lateness: [], surprise: [] };
const TRACE_POINTS = 150; // 30 s at 5 Hz

function text(id, value) {
  const element = document.getElementById(id);
  if (element) element.textContent = value;
}

function fixed(value, digits) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function drawTrace(id, points) {
  const canvas = document.getElementById(id);
  if (!canvas || points.length < 2) return;
  const context = canvas.getContext("2d");
  const max = Math.max(...points, 1e-9);
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.beginPath();
  points.forEach((value, index) => {
    const x = (index / (TRACE_POINTS - 1)) * canvas.width;
    const y = canvas.height - (value / max) * (canvas.height - 4) - 2;
    if (index === 0) context.moveTo(x, y); else context.lineTo(x, y);
  });
  context.strokeStyle = "#4fa3ff";
  context.stroke();
  context.fillText(max.toFixed(1), 4, 10);
}

function push(name, value) {
  if (value === null || value === undefined) return;
  traces[name].push(value);
  if (traces[name].length > TRACE_POINTS) traces[name].shift();
}

function showJoints(live) {
  const table = document.getElementById("joints");
  const names = live.joints || [];
  const rows = names.map((name, i) => `<tr><td>${name}</td><td>${fixed((live.positions_rad || [])[i], 3)}</td>` +
    `<td>${fixed((live.command_rad || [])[i], 3)}</td></tr>`);
  table.innerHTML = "<tr><th>joint</th><th>position</th><th>command</th></tr>" + rows.join("");
}

function showCameras(live) {
  const box = document.getElementById("cameras");
  (live.cameras || []).forEach((camera) => {
    let image = document.getElementById("camera-" + camera.name);
    if (!image) {
      if (box.querySelector(".note")) box.innerHTML = "";
      image = document.createElement("img");
      image.id = "camera-" + camera.name;
      image.className = "preview";
      image.alt = camera.name;
      box.appendChild(image);
    }
    image.src = `/camera/${encodeURIComponent(camera.name)}.jpg?frame=${camera.frame}`;
  });
}

function showEvents(live) {
  const list = document.getElementById("events");
  list.innerHTML = (live.events || []).map((event) =>
    `<li>${event.at_s.toFixed(2)} s <b>${event.kind}</b> ${event.detail}</li>`).join("");
}

function show(status) {
  const state = document.getElementById("state");
  state.textContent = status.state;
  state.className = "state state-" + status.state;
  text("stop-reason", status.latched ? "Latched stop: " + status.latched.reason : "");
  const live = status.live || {};
  const lateness = live.lateness_us || {};
  const surprise = (live.world_model || {}).surprise;
  text("ticks", live.ticks ?? "–");
  text("lateness", `${fixed(lateness.mean, 0)} / ${fixed(lateness.max, 0)}`);
  text("missed", live.missed_total ?? "–");
  text("failed-reads", live.failed_reads ?? 0);
  text("mode", live.mode ?? "–");
  text("inference", fixed(live.inference_ms, 2));
  text("surprise", fixed(surprise, 3));
  if (status.state === "running") {
    push("lateness", lateness.max);
    push("surprise", surprise);
  }
  drawTrace("lateness-trace", traces.lateness);
  drawTrace("surprise-trace", traces.surprise);
  showJoints(live);
  showCameras(live);
  showEvents(live);
}

async function poll() {
  let delay_ms = 200;
  try {
    const response = await fetch("/api/robot", { cache: "no-store" });
    const status = await response.json();
    delay_ms = 1000 / (status.poll_hz || 5);
    show(status);
  } catch (error) {
    text("stop-reason", "console unreachable: " + error);
    delay_ms = 1000;
  }
  setTimeout(poll, delay_ms);
}

poll();
