// The app's only script: print buttons, and the worksheet's live preview. Every derivation is the service's
// (POST /app/api/preview): this file only sends the answers and shows what comes back, as text.
"use strict";

const VERDICT = { present: "IDRF present", absent: "not an IDRF", unknown: "undecided" };

function answers(form) {
  const data = {};
  new FormData(form).forEach((value, name) => {
    if (name !== "csrf" && name !== "action" && value !== "") data[name] = value;
  });
  return data;
}

function showList(list, items) {
  list.replaceChildren(...items.map((text) => Object.assign(document.createElement("li"), { textContent: text })));
}

// Previews can overlap (a slow answer, then a quick change): only the answer to the latest request is shown, so an
// older answer arriving last never replaces the stage of the newer answers.
let latestPreview = 0;

async function refresh(form) {
  const request = ++latestPreview;
  const csrf = form.querySelector("input[name=csrf]").value;
  const response = await fetch(form.dataset.preview, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(answers(form)),
  });
  if (!response.ok) return;
  const preview = await response.json();
  if (request !== latestPreview) return;
  form.querySelectorAll("output.verdict").forEach((output) => {
    const verdict = preview.idrfs[output.id.slice("out-".length)];
    output.className = "verdict " + (verdict ? verdict.presence : "");
    output.textContent = verdict ? `${VERDICT[verdict.presence]}: ${verdict.reason}` : "";
  });
  document.getElementById("live-stage").textContent = preview.stage;
  showList(document.getElementById("live-risks"), preview.risks);
  let missing = document.getElementById("live-missing");
  if (!missing) {
    missing = document.createElement("p");
    missing.id = "live-missing";
    document.getElementById("live").append(missing);
  }
  missing.textContent = preview.missing.length ? "Still needed: " + preview.missing.join("; ") : "";
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-print]").forEach((button) => button.addEventListener("click", () => window.print()));
  const form = document.getElementById("worksheet");
  if (form) {
    let timer;
    form.addEventListener("change", () => {
      clearTimeout(timer);
      timer = setTimeout(() => refresh(form), 120);
    });
  }
  document.body.dataset.ready = "true";
});
