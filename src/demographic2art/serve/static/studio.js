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

function requestBody() {
  const size = numberOrUndefined("size");
  return {
    prompt: byId("prompt").value,
    negative_prompt: byId("negative-prompt").value,
    seed: numberOrUndefined("seed"),
    steps: numberOrUndefined("steps"),
    guidance_scale: numberOrUndefined("guidance-scale"),
    width: size,
    height: size,
    scheduler: byId("scheduler").value,
    lora_weight: numberOrUndefined("lora-weight"),
    attributes: pickerValues(),
  };
}

function showError(message) {
  byId("job-error").textContent = message || "";
}

function showResult(urls) {
  const target = byId("job-result");
  target.replaceChildren();
  urls.forEach((url, index) => {
    const img = document.createElement("img");
    img.src = url;
    img.alt = `Generated image ${index + 1}`;
    img.id = `result-image-${index}`;
    target.appendChild(img);
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
      const caption = document.createElement("figcaption");
      caption.textContent = `${job.parameters.prompt} (seed ${job.parameters.seed + index})`;
      figure.append(img, caption);
      item.appendChild(figure);
      list.appendChild(item);
    });
  });
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
  updatePreview();
  loadGallery();
});
