// The chat page: one WebSocket to /ws/chat. What we send is {name, text} as
// JSON; the server sends every member {type: "message", name, text, time} and
// {type: "presence", count}. Our own messages come back like everyone else's.

const status = document.getElementById("status");
const list = document.getElementById("messages");
const form = document.getElementById("chat");
const nameInput = document.getElementById("name");
const textInput = document.getElementById("text");

nameInput.value = localStorage.getItem("chat-name") ??
  `guest-${Math.floor(Math.random() * 1000)}`;

const socket = new WebSocket(new URL("/ws/chat", location.href.replace(/^http/, "ws")));

socket.addEventListener("open", () => {
  status.textContent = "connected";
  document.body.dataset.state = "open";
});
socket.addEventListener("close", (event) => {
  status.textContent = `disconnected (${event.code}${event.reason ? `: ${event.reason}` : ""})`;
  document.body.dataset.state = "closed";
});
socket.addEventListener("message", (event) => {
  const data = JSON.parse(event.data);
  if (data.type === "presence") {
    status.textContent = `connected, ${data.count} in the room`;
  } else if (data.type === "message") {
    const item = document.createElement("li");
    const time = document.createElement("time");
    time.textContent = new Date(data.time).toLocaleTimeString();
    const name = document.createElement("strong");
    name.textContent = data.name;
    // textContent, never innerHTML: messages come from other people.
    item.append(time, " ", name, ": ", data.text);
    list.append(item);
    list.scrollTop = list.scrollHeight;
  }
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (socket.readyState !== WebSocket.OPEN || textInput.value === "") return;
  localStorage.setItem("chat-name", nameInput.value);
  socket.send(JSON.stringify({ name: nameInput.value, text: textInput.value }));
  textInput.value = "";
  textInput.focus();
});
