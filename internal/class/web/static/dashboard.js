// The class dashboard's live updates: rows, lesson lines and the help queue
// are replaced as the class server reports them. Everything is written with
// textContent: a learner's name never becomes markup.
"use strict";
(function () {
  const grid = document.querySelector("#grid tbody");
  const live = document.getElementById("live");
  const count = document.getElementById("count");

  function cellEl(c) {
    const td = document.createElement("td");
    td.className = c.class;
    td.tabIndex = 0;
    td.textContent = c.text;
    if (c.detail) td.title = c.detail;
    return td;
  }

  function setRow(r) {
    const id = "row-" + r.id;
    let tr = document.getElementById(id);
    const fresh = document.createElement("tr");
    fresh.id = id;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = r.name;
    fresh.appendChild(th);
    for (const c of r.cells) fresh.appendChild(cellEl(c));
    if (tr) {
      tr.replaceWith(fresh);
    } else {
      grid.appendChild(fresh);
      count.textContent = grid.rows.length + " learners";
    }
  }

  function setSummary(s) {
    const li = document.getElementById("sum-" + s.lesson);
    if (li) li.querySelector("span").textContent = s.text;
  }

  function setHelp(list) {
    const ol = document.getElementById("helpq");
    ol.replaceChildren();
    if (list.length === 0) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = "Nobody has asked for help.";
      ol.appendChild(li);
      return;
    }
    for (const h of list) {
      const li = document.createElement("li");
      if (h.done) li.className = "done";
      const a = document.createElement("a");
      a.href = "/help/" + h.n;
      a.textContent = h.name + " on " + h.lesson;
      li.appendChild(a);
      li.appendChild(document.createTextNode(" at " + h.at + (h.done ? " (answered)" : "")));
      ol.appendChild(li);
    }
  }

  async function reload() {
    const r = await fetch("/api/state", { cache: "no-store" });
    if (!r.ok) return;
    const st = await r.json();
    for (const row of st.learners || []) setRow(row);
    for (const s of st.summaries || []) setSummary(s);
    setHelp(st.help || []);
  }

  const es = new EventSource("/events");
  es.onopen = () => { live.textContent = "live"; reload(); };
  es.onerror = () => { live.textContent = "reconnecting…"; };
  es.addEventListener("learner", (e) => setRow(JSON.parse(e.data)));
  es.addEventListener("summary", (e) => setSummary(JSON.parse(e.data)));
  es.addEventListener("help", (e) => setHelp(JSON.parse(e.data)));
})();
