// The console's only script: proof checks, job progress and uploads with progress.
// Everything it fetches comes from the same server; it loads nothing else.
"use strict";

// ---- Merkle inclusion proof and checkpoint (RFC 9162, C2SP signed notes) ----

function fromBase64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function concat(...parts) {
  const size = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Root hash from a leaf hash and its inclusion proof, as RFC 9162 section 2.1.3.2 states it.
async function rootFromProof(leafHash, index, size, proof) {
  if (index >= size) throw new Error("leaf index beyond the tree size");
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw new Error("proof is longer than the tree needs");
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(concat(Uint8Array.of(1), p, r));
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await sha256(concat(Uint8Array.of(1), r, p));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error("proof is shorter than the tree needs");
  return r;
}

function splitNote(note) {
  const at = note.indexOf("\n\n");
  if (at < 0) throw new Error("checkpoint note has no signature block");
  const body = note.slice(0, at + 1);
  const lines = body.slice(0, -1).split("\n");
  const signatures = note.slice(at + 2).split("\n").filter((l) => l.startsWith("\u2014 "));
  return { body, origin: lines[0], size: Number(lines[1]), root: fromBase64(lines[2]), signatures };
}

// Verify each checkpoint signature whose key the bundle lists; return the names that verified.
async function checkSignatures(note, keys) {
  const encoder = new TextEncoder();
  const body = encoder.encode(note.body);
  const verified = [];
  for (const line of note.signatures) {
    const [, name, sigText] = line.split(" ");
    const vkey = keys[name];
    if (!vkey) continue;
    const parts = vkey.split("+");
    const keyBytes = fromBase64(parts.slice(2).join("+"));
    const sig = fromBase64(sigText);
    const keyHash = (await sha256(concat(encoder.encode(name + "\n"), keyBytes))).slice(0, 4);
    if (!sameBytes(keyHash, sig.slice(0, 4)) || hex(keyHash) !== parts[1]) {
      throw new Error("key hash of " + name + " does not match");
    }
    const key = await crypto.subtle.importKey("raw", keyBytes.slice(1), { name: "Ed25519" }, false, ["verify"]);
    if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, sig.slice(4), body))) {
      throw new Error("signature by " + name + " does not verify");
    }
    verified.push(name);
  }
  return verified;
}

async function ed25519Supported() {
  try {
    await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "Ed25519" }, false, ["verify"]);
    return true;
  } catch (e) {
    return false;
  }
}

async function verifyProof(section) {
  const input = JSON.parse(document.getElementById(section.dataset.proofInput).textContent);
  const steps = document.getElementById("proof-steps");
  const result = document.getElementById("proof-result");
  const msg = steps.dataset;
  steps.innerHTML = "";
  const report = (text, ok, detail) => {
    const li = document.createElement("li");
    li.className = ok ? "verify-ok" : "verify-bad";
    li.textContent = text + (detail ? " " + detail : "") + ": " + (ok ? msg.msgOk : msg.msgBad);
    steps.appendChild(li);
    return ok;
  };
  let ok = true;
  try {
    const entry = fromBase64(input.entry);
    const leaf = await sha256(concat(Uint8Array.of(0), entry));
    report(msg.msgLeaf, true, hex(leaf).slice(0, 16) + "…");
    const note = splitNote(input.checkpoint);
    ok = report(msg.msgCheckpoint, note.size === input.tree_size) && ok;
    const root = await rootFromProof(leaf, input.leaf_index, input.tree_size, input.proof.map(fromBase64));
    ok = report(msg.msgRoot, sameBytes(root, note.root), hex(root).slice(0, 16) + "…") && ok;
    if (await ed25519Supported()) {
      const names = await checkSignatures(note, input.keys);
      ok = report(msg.msgSignature, names.length > 0, names.join(", ")) && ok;
    } else {
      const li = document.createElement("li");
      li.textContent = msg.msgNoEd25519;
      steps.appendChild(li);
    }
  } catch (e) {
    ok = report(String(e.message || e), false);
  }
  result.textContent = ok ? msg.msgDoneOk : msg.msgDoneBad;
  result.className = ok ? "verify-ok" : "verify-bad";
  section.dataset.verified = ok ? "ok" : "bad";
}

// ---- background jobs ----

function showJob(box, job) {
  const bar = box.querySelector("progress");
  const text = box.querySelector("[data-job-text]");
  if (bar) {
    if (job.total > 0) { bar.max = job.total; bar.value = job.done; } else { bar.removeAttribute("value"); }
    if (job.state !== "running") { bar.max = 1; bar.value = 1; }
  }
  if (text) {
    const stage = box.dataset["stage" + job.stage.replace(/(^|_)(\w)/g, (m, s, c) => c.toUpperCase())] || job.stage;
    const count = job.total > 0 ? " " + job.done + " / " + job.total : "";
    text.textContent = stage + count + " · " + job.seconds + " s";
  }
}

function pollJob(box) {
  const id = box.dataset.job;
  const tick = async () => {
    const response = await fetch(box.dataset.jobUrl || ("/console/jobs/" + id), { credentials: "same-origin" });
    if (!response.ok) return;
    const job = await response.json();
    showJob(box, job);
    if (job.state === "running") {
      setTimeout(tick, 400);
    } else {
      box.dataset.state = job.state;
      if (box.dataset.doneUrl) window.location.assign(box.dataset.doneUrl);
    }
  };
  tick();
}

// ---- uploads with progress ----

function uploadWithProgress(form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const box = document.getElementById(form.dataset.upload);
    const bar = box.querySelector("progress");
    const text = box.querySelector("[data-job-text]");
    box.hidden = false;
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; }
      text.textContent = box.dataset.stageUpload + " " + Math.round((100 * e.loaded) / (e.total || 1)) + "%";
    });
    request.addEventListener("load", () => {
      if (request.status === 202) {
        const reply = JSON.parse(request.responseText);
        box.dataset.job = reply.job;
        box.dataset.doneUrl = reply.done_url;
        pollJob(box);
      } else {
        document.open();
        document.write(request.responseText);
        document.close();
      }
    });
    request.send(new FormData(form));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const proof = document.querySelector("[data-proof-input]");
  if (proof) verifyProof(proof);
  document.querySelectorAll("[data-job]").forEach((box) => { if (box.dataset.job) pollJob(box); });
  document.querySelectorAll("form[data-upload]").forEach(uploadWithProgress);
});
