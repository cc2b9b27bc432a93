// immunopet view: one study in the browser. Data come from this server's /api (ids only, token header).
import { Niivue } from "./niivue.js";

const token = new URLSearchParams(window.location.search).get("token") || "";
const $ = (selector) => document.querySelector(selector);
const state = { patient: null, scans: [], scan: null, meta: null, point: null, petIndex: 0, labelIndex: 1, ready: false };
const nv = new Niivue({ isColorbar: true, backColor: [0, 0, 0, 1], crosshairColor: [0.1, 1, 0.2, 1], show3Dcrosshair: false });
window.immunopetViewer = { nv, state, selectPatient, selectDay, selectVoi, setCrosshairLps };

async function api(path) {
  const response = await fetch(path, { headers: { "X-Viewer-Token": token } });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

function status(text) { $("#status").textContent = text; }
function fmt(value, digits = 2) { return value === null || value === undefined ? "–" : Number(value).toFixed(digits); }
function cell(row, text, numeric = false) {
  const td = row.insertCell(); td.textContent = text; if (numeric) td.className = "num"; return td;
}
function lpsToRas(p) { return [-p[0], -p[1], p[2]]; }
function rasToLps(p) { return [-p[0], -p[1], p[2]]; }

const ORGAN_COLOURS = [[31, 119, 180], [44, 160, 44], [148, 103, 189], [140, 86, 75], [227, 119, 194],
  [127, 127, 127], [188, 189, 34], [23, 190, 207], [255, 187, 120], [152, 223, 138]];

function labelLut(labels) {
  const lut = { R: [0], G: [0], B: [0], A: [0], I: [0], labels: [""] };
  let organ = 0;
  for (const entry of labels) {
    const rgb = entry.kind === "lesion" ? [255, 40, 40] : ORGAN_COLOURS[organ++ % ORGAN_COLOURS.length];
    lut.R.push(rgb[0]); lut.G.push(rgb[1]); lut.B.push(rgb[2]); lut.A.push(255); lut.I.push(entry.label);
    lut.labels.push(entry.voi_id);
  }
  return lut;
}

function setCrosshairLps(lps) {
  nv.scene.crosshairPos = nv.mm2frac(lpsToRas(lps));
  nv.drawScene();
  nv.createOnLocationChange();
  state.point = [...lps];
}

nv.onLocationChange = (location) => {
  const value = location.values && location.values[state.petIndex];
  $("#cursor-suv").textContent = value ? fmt(value.value, 3) : "–";
  state.point = rasToLps(location.mm);
};

async function loadPatients() {
  const data = await api("api/patients");
  const body = $("#patients tbody");
  body.replaceChildren();
  for (const p of data.patients) {
    const row = body.insertRow();
    row.dataset.patient = p.patient_id;
    cell(row, p.patient_id); cell(row, p.tumour_type ?? "–"); cell(row, p.best_response ?? "–");
    cell(row, fmt(p.pet_uptake), true);
    row.addEventListener("click", () => selectPatient(p.patient_id));
  }
  return data.patients;
}

async function selectPatient(patientId) {
  state.ready = false; status(`loading ${patientId}…`);
  for (const row of document.querySelectorAll("#patients tbody tr")) row.classList.toggle("selected", row.dataset.patient === patientId);
  const data = await api(`api/patients/${encodeURIComponent(patientId)}`);
  state.patient = patientId; state.scans = data.scans.filter((s) => s.status === "done"); state.point = null;
  const days = $("#days"); days.replaceChildren();
  const mips = $("#mips"); mips.replaceChildren();
  for (const scan of state.scans) {
    const button = document.createElement("button");
    button.textContent = `day ${scan.day}`; button.dataset.scan = scan.scan_id; button.setAttribute("role", "tab");
    button.addEventListener("click", () => selectDay(scan.scan_id));
    days.append(button);
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.alt = `coronal MIP, day ${scan.day}`; img.dataset.scan = scan.scan_id;
    img.src = `api/scans/${encodeURIComponent(scan.scan_id)}/mip.png?token=${encodeURIComponent(token)}`;
    img.addEventListener("click", () => selectDay(scan.scan_id));
    const caption = document.createElement("figcaption"); caption.textContent = `day ${scan.day}`;
    figure.append(img, caption); mips.append(figure);
  }
  renderOverDays(data.over_days);
  const last = state.scans[state.scans.length - 1];
  if (last) await selectDay(last.scan_id);
}

function renderOverDays(rows) {
  const days = [...new Set(rows.flatMap((r) => Object.keys(r.by_day)))].sort((a, b) => Number(a) - Number(b));
  const head = $("#over-days thead"); head.replaceChildren();
  const hr = head.insertRow(); cell(hr, "VOI"); cell(hr, "metric"); for (const d of days) cell(hr, `day ${d}`);
  const body = $("#over-days tbody"); body.replaceChildren();
  for (const r of rows) {
    const row = body.insertRow(); cell(row, r.voi_id); cell(row, r.metric === "suv_max" ? "SUVmax" : "SUVmean");
    for (const d of days) cell(row, fmt(r.by_day[d]), true);
  }
}

async function selectDay(scanId) {
  state.ready = false; status(`loading ${scanId}…`);
  const previous = state.scan; const point = state.point;
  const meta = await api(`api/scans/${encodeURIComponent(scanId)}`);
  const base = `api/scans/${encodeURIComponent(scanId)}`;
  const headers = { "X-Viewer-Token": token };
  const suvMax = Number($("#suv-max").value) || Math.max(1, Math.round(meta.suv_p99));
  const volumes = [];
  if (meta.has_ct) volumes.push({ url: `${base}/ct.nii`, headers, colormap: "gray", cal_min: -160, cal_max: 240, colorbarVisible: false, opacity: Number($("#ct-opacity").value) });
  volumes.push({ url: `${base}/pet.nii`, headers, colormap: "hot", cal_min: 0, cal_max: suvMax, opacity: meta.has_ct ? 0.6 : 1 });
  volumes.push({ url: `${base}/labels.nii`, headers, colormap: "gray", colorbarVisible: false, opacity: Number($("#voi-opacity").value) });
  await nv.loadVolumes(volumes);
  state.petIndex = meta.has_ct ? 1 : 0; state.labelIndex = state.petIndex + 1;
  nv.volumes[state.labelIndex].setColormapLabel(labelLut(meta.labels));
  nv.updateGLVolume();
  state.scan = scanId; state.meta = meta;
  for (const b of document.querySelectorAll("#days button")) b.setAttribute("aria-selected", String(b.dataset.scan === scanId));
  for (const img of document.querySelectorAll("#mips img")) img.classList.toggle("current", img.dataset.scan === scanId);
  renderVois(meta.vois);
  $("#mapping").textContent = "";
  if (previous && point && previous !== scanId) {
    const q = `x=${point[0]}&y=${point[1]}&z=${point[2]}`;
    const mapped = await api(`api/map/${encodeURIComponent(previous)}/${encodeURIComponent(scanId)}?${q}`);
    setCrosshairLps(mapped.lps_mm);
    $("#mapping").textContent = `crosshair kept by ${mapped.method}`;
  } else {
    nv.createOnLocationChange();
  }
  state.ready = true; status(`${state.patient}: day ${meta.day} (${scanId})`);
}

function renderVois(rows) {
  const body = $("#vois tbody"); body.replaceChildren();
  for (const r of rows) {
    const row = body.insertRow(); row.dataset.voi = r.voi_id;
    cell(row, r.voi_id); cell(row, r.kind); cell(row, fmt(r.suv_max), true); cell(row, fmt(r.suv_peak), true);
    cell(row, fmt(r.suv_mean), true); cell(row, fmt(r.volume_ml, 1), true);
    row.addEventListener("click", () => selectVoi(r.voi_id));
  }
}

function selectVoi(voiId) {
  const row = state.meta.vois.find((r) => r.voi_id === voiId);
  if (!row || !row.hottest) return;
  for (const tr of document.querySelectorAll("#vois tbody tr")) tr.classList.toggle("selected", tr.dataset.voi === voiId);
  setCrosshairLps(row.hottest.lps_mm);
  const peak = state.meta.suv_peak_definition ?? "SUVpeak";
  $("#voi-values").textContent =
    `${voiId}: SUVmax ${fmt(row.suv_max, 3)} · ${peak} ${fmt(row.suv_peak, 3)} · SUVmean ${fmt(row.suv_mean, 3)}`;
  $("#voi-values").dataset.suvMax = String(row.suv_max);
}

$("#suv-max").addEventListener("change", () => {
  const v = nv.volumes[state.petIndex]; if (!v) return;
  v.cal_max = Number($("#suv-max").value) || v.cal_max; nv.updateGLVolume();
});
$("#ct-opacity").addEventListener("input", () => { if (state.meta?.has_ct) nv.setOpacity(0, Number($("#ct-opacity").value)); });
$("#voi-opacity").addEventListener("input", () => nv.setOpacity(state.labelIndex, Number($("#voi-opacity").value)));

try {
  await nv.attachTo("gl");
  nv.setSliceType(nv.sliceTypeMultiplanar);
  const patients = await loadPatients();
  if (patients.length) await selectPatient(patients[0].patient_id);
  else status("no scans to show: run `immunopet run` first");
} catch (error) {
  status(`error: ${error.message}`);
  console.error(error);
}
