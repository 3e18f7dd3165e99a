// Опора playground: the page side. One WebSocket; the server sends the whole state on connect,
// then changes. Message HTML arrives already escaped and reduced to an allowlist of tags by the
// server; everything else is put on the page as text.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  };

  const state = {
    texts: {},
    language: "ru",
    people: [],
    byId: new Map(), // person id -> {id, name, role, commands, messages: Map(id -> payload)}
    groups: [], // the group: {id, title, group: true, messages} (read-only), also in byId
    current: null, // a person's id or the group's
    viewer: null, // the person last chosen: a link to the bot in the group opens their chat
    limit: 40960,
    zone: "Europe/Moscow",
    skew: 0, // bot clock minus this computer's clock, ms
    unread: new Map(),
    stick: true, // the chat is scrolled to the bottom: keep it there
    menuByTyping: false,
  };
  const pending = new Map(); // press ref -> button
  let socket = null;
  let retry = 500;
  let refs = 0;
  let toastTimer = null;
  const STORE_KEY = "opora.playground.person";

  function t(key, fields) {
    let text = state.texts[key] || key;
    if (typeof text === "object") {
      // a text with a count: its form for each plural category (one, few, many, other)
      const category = new Intl.PluralRules(state.language).select(Number(fields.count));
      text = text[category] || text.other;
    }
    for (const [name, value] of Object.entries(fields || {})) {
      text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  // ------------------------------------------------------------------ time

  function formatter(options) {
    try {
      return new Intl.DateTimeFormat(state.language, { timeZone: state.zone, ...options });
    } catch (error) {
      return new Intl.DateTimeFormat(state.language, options);
    }
  }
  const formats = {};
  function resetFormats() {
    formats.time = formatter({ hour: "2-digit", minute: "2-digit" });
    formats.day = formatter({ day: "numeric", month: "long", year: "numeric" });
    // a phone's header has no room for the weekday: the day and the time
    const narrow = window.matchMedia("(max-width: 439px)").matches;
    formats.clock = formatter({
      ...(narrow ? {} : { weekday: "short" }),
      day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    });
  }
  resetFormats();
  const dayOf = (seconds) => formats.day.format(new Date(seconds * 1000));

  function showClock() {
    const now = new Date(Date.now() + state.skew);
    const node = $("clock-now");
    node.textContent = formats.clock.format(now);
    node.dateTime = now.toISOString();
  }
  setInterval(showClock, 15000);

  // ------------------------------------------------------------------ connection

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws");
    socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      setConnected(false);
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 5000);
    });
  }

  function setConnected(connected) {
    $("banner").hidden = connected;
    $("send").disabled = !connected;
    document.body.dataset.connected = String(connected);
  }

  function command(payload) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(payload));
      return true;
    }
    return false;
  }

  function handle(event) {
    if (event.type === "state") {
      retry = 500;
      applyState(event);
      setConnected(true);
    } else if (event.type === "message") {
      upsert(event.group !== undefined ? event.group : event.person, event.message);
    } else if (event.type === "clock") {
      applyClock(event);
    } else if (event.type === "answer") {
      answered(event);
    } else if (event.type === "notice") {
      toast(t(event.key, { limit: state.limit }));
    }
  }

  // ------------------------------------------------------------------ state

  function applyState(event) {
    state.texts = event.texts;
    state.language = event.language;
    state.limit = event.limit;
    state.people = event.people;
    state.byId = new Map();
    for (const person of event.people) {
      person.messages = new Map(person.messages.map((m) => [m.id, m]));
      state.byId.set(person.id, person);
    }
    state.groups = event.groups || [];
    for (const group of state.groups) {
      group.group = true;
      group.name = t("group");
      group.role = "group";
      group.commands = [];
      group.messages = new Map(group.messages.map((m) => [m.id, m]));
      state.byId.set(group.id, group);
    }
    let saved = null;
    try {
      saved = Number(localStorage.getItem(STORE_KEY));
    } catch (error) {
      saved = null;
    }
    if (!state.byId.has(state.current)) {
      state.current = state.byId.has(saved) ? saved : event.people[0].id;
    }
    if (!state.byId.has(state.viewer) || state.byId.get(state.viewer).group) {
      const current = state.byId.get(state.current);
      state.viewer = current.group ? event.people[0].id : current.id;
    }
    document.documentElement.lang = state.language;
    applyClock(event.clock);
    applyTexts();
    renderPeople();
    renderChat();
  }

  function applyClock(clock) {
    state.skew = Date.parse(clock.now) - Date.now();
    if (clock.zone !== state.zone) {
      state.zone = clock.zone;
      resetFormats();
    }
    for (const button of document.querySelectorAll(".step")) button.removeAttribute("aria-busy");
    showClock();
  }

  function applyTexts() {
    resetFormats();
    document.title = t("title");
    $("brand").textContent = t("title");
    $("people").setAttribute("aria-label", t("people"));
    $("clock-label").textContent = t("clock");
    for (const button of document.querySelectorAll(".step")) {
      button.textContent = t(button.dataset.step);
      button.title = t("clock_hint");
    }
    $("language-label").textContent = t("language");
    for (const button of document.querySelectorAll(".language")) {
      button.setAttribute("aria-pressed", String(button.dataset.language === state.language));
      button.title = t("language");
    }
    $("about").textContent = t("about");
    $("skip").textContent = t("skip");
    $("chat-status").textContent = t("bot_status");
    $("banner").textContent = t("connecting");
    $("text-label").textContent = t("message");
    $("text").placeholder = t("message");
    $("send").setAttribute("aria-label", t("send"));
    $("send").title = t("send");
    $("attach").setAttribute("aria-label", t("attach"));
    $("attach").title = t("attach");
    $("menu-label").textContent = t("menu");
    $("menu-title").textContent = t("commands");
    $("start").textContent = t("start");
    $("alert-ok").textContent = t("ok");
  }

  // ------------------------------------------------------------------ people

  function renderPeople() {
    const nav = $("people");
    nav.replaceChildren();
    for (const person of [...state.people, ...state.groups]) {
      const button = el("button", person.group ? "person group" : "person");
      button.type = "button";
      button.dataset.person = person.id;
      button.setAttribute("aria-pressed", String(person.id === state.current));
      const avatar = el("span", "avatar " + person.role, person.name.slice(0, 1));
      avatar.setAttribute("aria-hidden", "true");
      const who = el("span", "who");
      const role = person.group ? t("group_role") : t(person.role);
      who.append(el("span", "name", person.name), el("span", "role", role));
      if (person.group) button.title = person.title;
      const badge = el("span", "badge");
      badge.hidden = true;
      button.append(avatar, who, badge);
      button.addEventListener("click", () => switchTo(person.id));
      nav.append(button);
    }
    showUnread();
  }

  function showUnread() {
    for (const button of document.querySelectorAll(".person")) {
      const id = Number(button.dataset.person);
      const count = state.unread.get(id) || 0;
      const badge = button.querySelector(".badge");
      badge.hidden = count === 0;
      badge.replaceChildren();
      if (count) {
        const number = el("span", "", String(count));
        number.setAttribute("aria-hidden", "true");
        badge.append(number, el("span", "visually-hidden", t("unread", { count })));
      }
    }
  }

  function switchTo(id) {
    if (!state.byId.has(id)) return;
    state.current = id;
    if (!state.byId.get(id).group) state.viewer = id;
    state.unread.set(id, 0);
    try {
      localStorage.setItem(STORE_KEY, String(id));
    } catch (error) {
      // private mode: the choice is not remembered
    }
    for (const button of document.querySelectorAll(".person")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.person) === id));
    }
    showUnread();
    closeMenu(false);
    renderChat();
  }

  // ------------------------------------------------------------------ chat

  function renderChat() {
    const person = state.byId.get(state.current);
    const box = $("messages");
    box.setAttribute("aria-busy", "true");
    box.replaceChildren();
    const messages = [...person.messages.values()].sort((a, b) => a.id - b.id);
    for (const message of messages) appendMessage(box, person.id, message);
    box.removeAttribute("aria-busy");
    $("empty").hidden = messages.length > 0;
    // The group is read-only: no message box, no command menu, its own title.
    const group = Boolean(person.group);
    $("composer").hidden = group;
    $("start").hidden = group;
    $("chat-title").textContent = group ? person.title : "Опора";
    $("chat-status").textContent = t(group ? "group_status" : "bot_status");
    $("chat-avatar").textContent = group ? person.title.slice(0, 1) : "О";
    $("chat-avatar").className = group ? "avatar group" : "avatar bot-avatar";
    $("empty-text").textContent = group ? t("group_empty") : t("empty", { name: person.name });
    renderMenu();
    state.stick = true;
    scrollDown();
  }

  function appendMessage(box, personId, message) {
    const day = dayOf(message.date);
    const all = box.querySelectorAll(".msg");
    const last = all[all.length - 1];
    if (!last || last.dataset.day !== day) box.append(el("div", "day", day));
    box.append(messageNode(personId, message));
  }

  function upsert(personId, message) {
    const person = state.byId.get(personId);
    if (!person) return;
    const known = person.messages.has(message.id);
    if (message.deleted) person.messages.delete(message.id);
    else person.messages.set(message.id, message);
    if (personId !== state.current) {
      if (!known && !message.deleted && !message.out) {
        state.unread.set(personId, (state.unread.get(personId) || 0) + 1);
        showUnread();
      }
      return;
    }
    const box = $("messages");
    const node = document.getElementById(nodeId(personId, message.id));
    if (message.deleted) {
      if (node) node.remove();
    } else if (node) {
      node.replaceWith(messageNode(personId, message));
    } else {
      appendMessage(box, personId, message);
    }
    $("empty").hidden = person.messages.size > 0;
    scrollDown();
  }

  const nodeId = (personId, messageId) => "m-" + personId + "-" + messageId;

  function messageNode(personId, message) {
    const wrap = el("div", "msg " + (message.out ? "out" : "in"));
    wrap.id = nodeId(personId, message.id);
    wrap.dataset.id = message.id;
    wrap.dataset.day = dayOf(message.date);
    const bubble = el("div", "bubble");
    if (message.file) bubble.append(fileNode(message));
    const meta = el("span", "meta");
    if (message.edited) meta.append(el("span", "edited", t("edited") + " "));
    const time = el("time", "", formats.time.format(new Date(message.date * 1000)));
    time.dateTime = new Date(message.date * 1000).toISOString();
    meta.append(time);
    if (message.html) {
      const text = el("div", "text");
      text.innerHTML = message.html; // escaped and reduced to safe tags by the server
      enhance(text);
      text.append(meta);
      bubble.append(text);
    } else {
      bubble.append(meta);
    }
    wrap.append(bubble);
    if (message.buttons && message.buttons.length) {
      wrap.classList.add("has-keyboard");
      wrap.append(keyboard(personId, message));
    }
    return wrap;
  }

  const IMAGE_FILE = /\.(png|jpe?g|gif|webp)$/i;

  function fileNode(message) {
    const file = message.file;
    if (message.kind === "photo") {
      const link = el("a", "photo");
      link.href = file.url;
      link.target = "_blank";
      link.rel = "noopener";
      const image = el("img");
      image.src = file.url;
      image.alt = t("photo");
      if (file.width && file.height) {
        image.width = file.width;
        image.height = file.height;
      }
      image.addEventListener("load", scrollDown);
      link.append(image);
      return link;
    }
    if (message.kind === "sticker") {
      const sticker = el("div", "sticker", file.emoji || "🖼");
      sticker.setAttribute("role", "img");
      sticker.setAttribute("aria-label", file.emoji || "sticker");
      return sticker;
    }
    const link = el("a", "doc");
    link.href = file.url;
    link.download = file.name || "";
    link.title = t("download");
    const icon = el("span", "doc-icon", "⬇");
    icon.setAttribute("aria-hidden", "true");
    const about = el("span", "doc-about");
    about.append(el("span", "doc-name", file.name || t("download")), el("br"));
    about.append(el("span", "doc-size", size(file.size)));
    link.append(icon, about);
    if (!IMAGE_FILE.test(file.name || "")) return link;
    // An image sent as a file (the invitation's QR code to print): shown, and downloadable.
    const box = el("div", "doc-image");
    const image = el("img");
    image.src = file.url;
    image.alt = file.name;
    image.addEventListener("load", scrollDown);
    box.append(image, link);
    return box;
  }

  // A file's size in the page's language: 901 Б, 12,5 КБ / 901 B, 12.5 KB.
  function size(bytes) {
    const ru = state.language === "ru";
    const units = ru ? ["Б", "КБ", "МБ"] : ["B", "KB", "MB"];
    const number = (n) => n.toLocaleString(ru ? "ru-RU" : "en-GB", { maximumFractionDigits: 1 });
    if (bytes < 1024) return bytes + " " + units[0];
    if (bytes < 1024 * 1024) return number(bytes / 1024) + " " + units[1];
    return number(bytes / 1024 / 1024) + " " + units[2];
  }

  function enhance(text) {
    for (const spoiler of text.querySelectorAll(".spoiler")) {
      spoiler.title = t("spoiler");
      const reveal = () => {
        const shown = spoiler.classList.toggle("revealed");
        spoiler.setAttribute("aria-pressed", String(shown));
      };
      spoiler.addEventListener("click", reveal);
      spoiler.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          reveal();
        }
      });
    }
    for (const quote of text.querySelectorAll("blockquote.expandable")) {
      quote.tabIndex = 0;
      const toggle = () => quote.classList.toggle("open");
      quote.addEventListener("click", toggle);
      quote.addEventListener("keydown", (event) => {
        if (event.key === "Enter") toggle();
      });
    }
    for (const link of text.querySelectorAll("a[data-send]")) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        if (state.byId.get(state.current).group) switchTo(state.viewer);
        sendText(link.dataset.send);
      });
    }
  }

  function keyboard(personId, message) {
    const board = el("div", "keyboard");
    for (const row of message.buttons) {
      const line = el("div", "row");
      for (const spec of row) {
        let key;
        if (spec.kind === "url") {
          key = el("a", "key url", spec.text);
          key.href = spec.url;
          key.target = "_blank";
          key.rel = "noopener noreferrer";
        } else {
          key = el("button", "key", spec.text);
          key.type = "button";
          const inGroup = Boolean((state.byId.get(personId) || {}).group);
          if (spec.kind === "callback" && !inGroup) {
            key.addEventListener("click", () => press(personId, message.id, spec.data, key));
          } else if (spec.kind === "send" && inGroup) {
            // «Sign up» on a card in the group opens the bot as the person last chosen.
            key.addEventListener("click", () => {
              switchTo(state.viewer);
              sendText(spec.send);
            });
          } else if (spec.kind === "send") {
            key.addEventListener("click", () => sendText(spec.send));
          } else if (spec.kind === "copy") {
            key.addEventListener("click", () => copy(spec.copy));
          } else {
            key.disabled = true;
            key.title = t("unsupported");
          }
        }
        line.append(key);
      }
      board.append(line);
    }
    return board;
  }

  function scrollDown() {
    if (!state.stick) return;
    const box = $("messages");
    box.scrollTop = box.scrollHeight;
  }

  // ------------------------------------------------------------------ actions

  function sendText(text) {
    if (!text || !text.trim()) return false;
    if (text.length > state.limit) {
      toast(t("too_long", { limit: state.limit }));
      return false;
    }
    state.stick = true;
    return command({ type: "send", person: state.current, text });
  }

  function press(personId, messageId, data, button) {
    refs += 1;
    const ref = refs;
    pending.set(ref, button);
    button.setAttribute("aria-busy", "true");
    if (!command({ type: "press", person: personId, message: messageId, data, ref })) {
      pending.delete(ref);
      button.removeAttribute("aria-busy");
    }
  }

  function answered(event) {
    const button = pending.get(event.ref);
    pending.delete(event.ref);
    if (button) button.removeAttribute("aria-busy");
    if (!event.text || event.person !== state.current) return;
    if (event.alert) showAlert(event.text);
    else toast(event.text);
  }

  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      toast(t("copied"));
    } catch (error) {
      toast(text);
    }
  }

  function toast(text) {
    const box = $("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      box.hidden = true;
    }, 3500);
  }

  function showAlert(text) {
    const dialog = $("alert");
    $("alert-text").textContent = text;
    if (!dialog.open) dialog.showModal();
    $("alert-ok").focus();
  }

  async function upload(file) {
    const form = new FormData();
    form.append("person", String(state.current));
    form.append("file", file, file.name);
    try {
      const response = await fetch("/upload", { method: "POST", body: form });
      if (!response.ok) toast(t("upload_failed"));
    } catch (error) {
      toast(t("upload_failed"));
    }
  }

  // ------------------------------------------------------------------ command menu

  function renderMenu(filter) {
    const person = state.byId.get(state.current);
    const list = $("menu-list");
    list.replaceChildren();
    const prefix = (filter || "").toLowerCase();
    const commands = person.commands.filter((c) => c.command.startsWith(prefix));
    for (const item of commands) {
      const li = el("li");
      const button = el("button", "menu-item");
      button.type = "button";
      button.append(
        el("span", "menu-name", "/" + item.command),
        el("span", "menu-text", item.description),
      );
      button.addEventListener("click", () => {
        if (sendText("/" + item.command)) {
          $("text").value = "";
          resize();
        }
        closeMenu(true);
      });
      li.append(button);
      list.append(li);
    }
    $("menu-button").hidden = person.commands.length === 0;
    return commands.length;
  }

  function openMenu(filter, byTyping) {
    if (!renderMenu(filter)) {
      closeMenu(false);
      return;
    }
    state.menuByTyping = byTyping;
    $("menu").hidden = false;
    $("menu-button").setAttribute("aria-expanded", "true");
    if (!byTyping && !touchScreen()) {
      const first = $("menu-list").querySelector("button");
      if (first) first.focus();
    }
  }

  function closeMenu(focusBack) {
    const wasOpen = !$("menu").hidden;
    $("menu").hidden = true;
    $("menu-button").setAttribute("aria-expanded", "false");
    state.menuByTyping = false;
    // On a touch screen focus in the message box opens the keyboard over half the chat.
    if (wasOpen && focusBack && !touchScreen()) $("text").focus();
  }

  // ------------------------------------------------------------------ composer

  const touchScreen = () => window.matchMedia("(pointer: coarse)").matches;

  function resize() {
    const area = $("text");
    area.style.height = "auto";
    area.style.height = Math.min(area.scrollHeight, 160) + "px";
  }

  function submit() {
    const area = $("text");
    if (sendText(area.value)) {
      area.value = "";
      resize();
      closeMenu(false);
    }
  }

  function wire() {
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    const area = $("text");
    area.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      } else if (event.key === "Escape") {
        closeMenu(false);
      }
    });
    area.addEventListener("input", () => {
      resize();
      const match = /^\/(\S*)$/.exec(area.value);
      if (match) openMenu(match[1], true);
      else if (state.menuByTyping) closeMenu(false);
    });
    $("menu-button").addEventListener("click", () => {
      if ($("menu").hidden) openMenu("", false);
      else closeMenu(true);
    });
    $("menu").addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        closeMenu(false);
        $("menu-button").focus();
      }
    });
    document.addEventListener("click", (event) => {
      if ($("menu").hidden) return;
      if (!$("menu").contains(event.target) && !$("menu-button").contains(event.target)) {
        closeMenu(false);
      }
    });
    $("attach").addEventListener("click", () => $("file").click());
    $("file").addEventListener("change", () => {
      const file = $("file").files[0];
      if (file) upload(file);
      $("file").value = "";
    });
    $("start").addEventListener("click", () => sendText("/start"));
    for (const button of document.querySelectorAll(".step")) {
      button.addEventListener("click", () => {
        if (command({ type: "clock", step: button.dataset.step })) {
          button.setAttribute("aria-busy", "true");
        }
      });
    }
    for (const button of document.querySelectorAll(".language")) {
      button.addEventListener("click", () => {
        command({ type: "language", language: button.dataset.language });
      });
    }
    $("messages").addEventListener("scroll", () => {
      const box = $("messages");
      state.stick = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    });
    $("alert-ok").addEventListener("click", () => $("alert").close());
    $("skip").addEventListener("click", (event) => {
      event.preventDefault();
      $("text").focus();
    });
  }

  wire();
  setConnected(false);
  connect();
})();
