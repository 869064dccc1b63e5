// The echo page: one WebSocket to /ws/echo, which sends back every message.
// Typed messages are listed when they come back; every 250 ms a probe
// ("probe:" and the time it left) measures the round trip, drawn on a canvas.

const SAMPLES = 120;
const PROBE = "probe:";

const status = document.getElementById("status");
const form = document.getElementById("echo");
const textInput = document.getElementById("text");
const echoes = document.getElementById("echoes");
const latency = document.getElementById("latency");
const canvas = document.getElementById("graph");
const context = canvas.getContext("2d");
const samples = [];

const socket = new WebSocket(new URL("/ws/echo", location.href.replace(/^http/, "ws")));
let timer;

socket.addEventListener("open", () => {
  status.textContent = "connected";
  document.body.dataset.state = "open";
  timer = setInterval(() => socket.send(`${PROBE}${performance.now()}`), 250);
});
socket.addEventListener("close", (event) => {
  clearInterval(timer);
  status.textContent = `disconnected (${event.code})`;
  document.body.dataset.state = "closed";
});
socket.addEventListener("message", (event) => {
  if (typeof event.data === "string" && event.data.startsWith(PROBE)) {
    samples.push(performance.now() - Number(event.data.slice(PROBE.length)));
    if (samples.length > SAMPLES) samples.shift();
    draw();
    return;
  }
  const item = document.createElement("li");
  item.textContent = event.data;
  echoes.prepend(item);
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (socket.readyState !== WebSocket.OPEN) return;
  socket.send(textInput.value);
  textInput.value = "";
});

function draw() {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  latency.textContent = `last ${samples.at(-1).toFixed(2)} ms, median ${median.toFixed(2)} ms, ` +
    `min ${sorted[0].toFixed(2)} ms, max ${sorted.at(-1).toFixed(2)} ms`;
  const { width, height } = canvas;
  const top = Math.max(1, sorted.at(-1) * 1.2);
  context.clearRect(0, 0, width, height);
  context.fillStyle = "#888";
  context.font = "12px sans-serif";
  context.fillText(`${top.toFixed(1)} ms`, 4, 14);
  context.fillText("0 ms", 4, height - 4);
  context.strokeStyle = "#2563eb";
  context.lineWidth = 2;
  context.beginPath();
  samples.forEach((sample, i) => {
    const x = (i / (SAMPLES - 1)) * width;
    const y = height - (sample / top) * height;
    if (i === 0) context.moveTo(x, y);
    else context.lineTo(x, y);
  });
  context.stroke();
  canvas.dataset.samples = String(samples.length);
}
