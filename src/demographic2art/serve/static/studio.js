// Studio page: builds prompts from the pickers, submits jobs and polls their state.
// User text is only ever inserted with textContent or as attribute values, never as HTML.
"use strict";

const byId = (id) => document.getElementById(id);
const POLL_MS = 500;
let currentJob = null;

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  return { response, data };
}

function pickerValues() {
  const values = {};
  document.querySelectorAll("[data-attribute]").forEach((select) => {
    if (select.value !== "") values[select.dataset.attribute] = select.value;
  });
  return values;
}

async function updatePreview() {
  const body = { ...pickerValues(), template: Number(byId("picker-template").value) };
  const { response, data } = await postJson("/api/prompt", body);
  if (!response.ok) return;
  byId("prompt-preview").textContent = data.prompt;
  byId("token-count").textContent = data.tokens === null ? "?" : String(data.tokens);
}

function numberOrUndefined(id) {
  const value = byId(id).value;
  return value === "" ? undefined : Number(value);
}

function randomSeed() {
  const values = new Uint32Array(1);
  crypto.getRandomValues(values);
  return values[0];
}

// Settings shared by single jobs and comparisons.
function sharedSettings() {
  const size = numberOrUndefined("size");
  const settings = {
    negative_prompt: byId("negative-prompt").value,
    steps: numberOrUndefined("steps"),
    guidance_scale: numberOrUndefined("guidance-scale"),
    width: size,
    height: size,
    scheduler: byId("scheduler").value,
  };
  if (byId("lora").value !== "") settings.lora = byId("lora").value;
  return settings;
}

function requestBody() {
  // A random seed is written into the seed field, so the page shows the seed it used.
  if (byId("seed-mode").value === "random") byId("seed").value = String(randomSeed());
  const body = {
    ...sharedSettings(),
    seed: numberOrUndefined("seed"),
    batch_size: numberOrUndefined("batch-size"),
    lora_weight: numberOrUndefined("lora-weight"),
    attributes: pickerValues(),
  };
  // Without a prompt, the server composes one from the picked attributes.
  const prompt = byId("prompt").value;
  if (prompt.trim() !== "") body.prompt = prompt;
  return body;
}

function downloadLink(url, text) {
  const link = document.createElement("a");
  link.href = `${url}?download=1`;
  link.download = url.split("/").pop();
  link.textContent = text;
  link.className = "download";
  return link;
}

function reuseSeed(seed) {
  byId("seed-mode").value = "fixed";
  byId("seed").value = String(seed);
  byId("seed").focus();
}

function showError(message) {
  byId("job-error").textContent = message || "";
}

function showResult(urls) {
  const target = byId("job-result");
  target.replaceChildren();
  urls.forEach((url, index) => {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = url;
    img.alt = `Generated image ${index + 1}`;
    img.id = `result-image-${index}`;
    const caption = document.createElement("figcaption");
    caption.appendChild(downloadLink(url, `Download image ${index + 1}`));
    figure.append(img, caption);
    target.appendChild(figure);
  });
}

async function poll(jobId) {
  const response = await fetch(`/api/jobs/${encodeURIComponent(jobId)}`);
  const job = await response.json();
  const progress = byId("job-progress");
  progress.max = job.total_steps || 1;
  progress.value = job.step || 0;
  let text = `Job ${job.id}: ${job.state}`;
  if (job.state === "queued" && job.queue_position) text += ` (position ${job.queue_position})`;
  if (job.state === "running") text += ` (step ${job.step} of ${job.total_steps})`;
  byId("job-status").textContent = text;
  if (job.state === "queued" || job.state === "running") {
    setTimeout(() => poll(jobId), POLL_MS);
    return;
  }
  currentJob = null;
  byId("cancel-button").disabled = true;
  byId("generate-button").disabled = false;
  if (job.state === "done") showResult(job.result_urls);
  else showError(job.error || `The job ended as ${job.state}.`);
  loadGallery();
}

async function submit(event) {
  event.preventDefault();
  showError("");
  const { response, data } = await postJson("/api/jobs", requestBody());
  if (response.status !== 202) {
    const retry = response.headers.get("Retry-After");
    const reasons = { queue_full: "The job queue is full.", model_loading: "The model is still loading." };
    const message = data.message || reasons[data.error] || `Request failed with status ${response.status}.`;
    showError(message + (retry ? ` Retry in ${retry} s.` : ""));
    return;
  }
  currentJob = data.id;
  byId("generate-button").disabled = true;
  byId("cancel-button").disabled = false;
  poll(data.id);
}

async function cancel() {
  if (currentJob) await postJson(`/api/jobs/${encodeURIComponent(currentJob)}/cancel`, {});
}

async function loadGallery() {
  const response = await fetch("/api/history");
  const data = await response.json();
  const list = byId("gallery");
  list.replaceChildren();
  data.jobs.filter((job) => job.state === "done").forEach((job) => {
    job.result_urls.forEach((url, index) => {
      const item = document.createElement("li");
      const figure = document.createElement("figure");
      const img = document.createElement("img");
      img.src = url;
      img.alt = job.parameters.prompt;
      img.id = `gallery-${job.id}-${index}`;
      const params = job.parameters;
      const seed = (params.seed + index) % 4294967296;
      const caption = document.createElement("figcaption");
      const details = document.createElement("span");
      const size = params.width ? `${params.width}x${params.height}` : "model default size";
      details.textContent = `${params.prompt} | seed ${seed}, ${params.steps} steps, guidance ${params.guidance_scale}, ` +
        `${size}, ${params.scheduler}, LoRA ${job.lora || "default"} at ${params.lora_weight}`;
      const reuse = document.createElement("button");
      reuse.type = "button";
      reuse.textContent = `Reuse seed ${seed}`;
      reuse.addEventListener("click", () => reuseSeed(seed));
      caption.append(details, " ", downloadLink(url, "Download PNG"), " ", reuse);
      figure.append(img, caption);
      item.appendChild(figure);
      list.appendChild(item);
    });
  });
}

async function loadModels() {
  const response = await fetch("/api/models");
  if (!response.ok) return;
  const data = await response.json();
  const select = byId("lora");
  // Runs come best first with their validation loss; LoRAs loaded from outside runs/ follow.
  const runs = new Map(data.runs.map((run) => [run.name, run]));
  const ordered = data.runs.map((run) => run.name).filter((name) => data.available.includes(name));
  data.available.forEach((name) => {
    if (!runs.has(name)) ordered.push(name);
  });
  ordered.forEach((name) => {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = loraLabel(name, runs.get(name), name === data.active);
    select.appendChild(option);
  });
}

function loraLabel(name, run, isDefault) {
  const notes = [];
  if (run && run.validation_loss !== null) notes.push(`validation loss ${run.validation_loss.toFixed(4)}`);
  if (run && run.best) notes.push("best");
  if (isDefault) notes.push("default");
  return notes.length ? `${name} (${notes.join(", ")})` : name;
}

function groupValues(side) {
  const values = {};
  document.querySelectorAll(`[data-group="${side}"]`).forEach((select) => {
    if (select.value !== "") values[select.dataset.key] = select.value;
  });
  return values;
}

function compareBody() {
  if (byId("seed-mode").value === "random") byId("seed").value = String(randomSeed() % 4000000000);
  const body = {
    ...sharedSettings(),
    a: groupValues("a"),
    b: groupValues("b"),
    seed: numberOrUndefined("seed"),
    n_images: numberOrUndefined("compare-images"),
  };
  const artwork = {};
  ["style", "genre"].forEach((key) => {
    const value = byId(`picker-${key}`).value;
    if (value !== "") artwork[key] = value;
  });
  body.artwork = artwork;
  if (byId("compare-name").value !== "") body.name = byId("compare-name").value;
  return body;
}

function renderComparison(record) {
  const head = byId("compare-head");
  const headers = [document.createElement("th")];
  headers[0].textContent = "Seed";
  record.rows.forEach((row) => {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = row.label;
    headers.push(th);
  });
  head.replaceChildren(...headers);
  const rows = record.grid.map((line) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = String(line.seed);
    tr.appendChild(th);
    line.cells.forEach((cell) => {
      const td = document.createElement("td");
      if (cell.url) {
        const img = document.createElement("img");
        img.src = cell.url;
        img.alt = `${cell.group}, seed ${line.seed}: ${cell.prompt}`;
        img.className = "compare-image";
        td.append(img, document.createElement("br"), downloadLink(cell.url, "Download"));
      } else {
        td.textContent = cell.state;
      }
      tr.appendChild(td);
    });
    return tr;
  });
  byId("compare-body").replaceChildren(...rows);
  let text = `Comparison ${record.name}: ${record.state}, ${record.done} of ${record.total} images`;
  if (record.portfolio) text += `; saved as ${record.portfolio}`;
  byId("compare-status").textContent = text;
}

async function pollComparison(url) {
  const response = await fetch(url);
  const record = await response.json();
  renderComparison(record);
  if (record.state === "running" || record.state === "writing") {
    setTimeout(() => pollComparison(url), POLL_MS);
    return;
  }
  byId("compare-button").disabled = false;
  loadGallery();
}

async function submitComparison(event) {
  event.preventDefault();
  byId("compare-error").textContent = "";
  const { response, data } = await postJson("/api/compare", compareBody());
  if (response.status !== 202) {
    const retry = response.headers.get("Retry-After");
    const message = data.message || (data.error === "queue_full" ? "The job queue has no room for this comparison." : `Request failed with status ${response.status}.`);
    byId("compare-error").textContent = message + (retry ? ` Retry in ${retry} s.` : "");
    return;
  }
  byId("compare-button").disabled = true;
  renderComparison(data);
  pollComparison(data.url);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-attribute], #picker-template").forEach((select) => {
    select.addEventListener("change", updatePreview);
  });
  byId("use-prompt").addEventListener("click", () => {
    byId("prompt").value = byId("prompt-preview").textContent;
  });
  byId("generate-form").addEventListener("submit", submit);
  byId("cancel-button").addEventListener("click", cancel);
  byId("refresh-gallery").addEventListener("click", loadGallery);
  byId("compare-form").addEventListener("submit", submitComparison);
  updatePreview();
  loadModels();
  loadGallery();
});
