// The archive item page: checks an item's proof in the browser and hashes a picked file.
// It calls the helpers of console.js, such as sha256, rootFromProof and checkSignatures.
// The layout loads console.js first, and deferred scripts run in document order.
"use strict";

async function verifyArchiveProof(section) {
  const input = JSON.parse(document.getElementById(section.dataset.archiveProof).textContent);
  const steps = document.getElementById("archive-proof-steps");
  const result = document.getElementById("archive-proof-result");
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
    // 1. The metadata hashes to the value inside the leaf.
    const metadataHash = hex(await sha256(fromBase64(input.metadata)));
    const leafObject = JSON.parse(new TextDecoder().decode(fromBase64(input.leaf)));
    ok = report(msg.msgMetadata, leafObject.metadata_hash === metadataHash) && ok;

    // 2. The leaf's inclusion proof leads to the root the anchor transaction records.
    const leaf = await sha256(concat(Uint8Array.of(0), fromBase64(input.leaf)));
    report(msg.msgLeaf, true, hex(leaf).slice(0, 16) + "…");
    const batchRoot = await rootFromProof(leaf, input.leaf_index, input.batch_size, input.proof.map(fromBase64));
    const entryObject = JSON.parse(new TextDecoder().decode(fromBase64(input.entry)));
    const payload = entryObject.tx.payload;
    ok = report(msg.msgBatch, hex(batchRoot) === payload.root && payload.size === input.batch_size, hex(batchRoot).slice(0, 16) + "…") && ok;

    // 3. The anchor transaction's log entry is in the signed checkpoint.
    const entryLeaf = await sha256(concat(Uint8Array.of(0), fromBase64(input.entry)));
    report(msg.msgEntry, entryObject.status === "applied", hex(entryLeaf).slice(0, 16) + "…");
    const note = splitNote(input.checkpoint);
    const logRoot = await rootFromProof(entryLeaf, input.entry_index, input.tree_size, input.entry_proof.map(fromBase64));
    ok = report(msg.msgRoot, note.size === input.tree_size && sameBytes(logRoot, note.root), hex(logRoot).slice(0, 16) + "…") && ok;

    // 4. The checkpoint signatures.
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

function watchFile(input, expected) {
  const out = document.getElementById("archive-file-result");
  input.addEventListener("change", async () => {
    const file = input.files[0];
    if (!file) return;
    const digest = hex(await sha256(new Uint8Array(await file.arrayBuffer())));
    const ok = digest === expected;
    out.textContent = (ok ? input.dataset.fileOk : input.dataset.fileBad) + " SHA-256 " + digest;
    out.className = ok ? "verify-ok" : "verify-bad";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const section = document.querySelector("[data-archive-proof]");
  if (!section) return;
  verifyArchiveProof(section);
  const expected = JSON.parse(document.getElementById(section.dataset.archiveProof).textContent).sha256;
  const picker = document.getElementById("archive-file");
  if (picker) watchFile(picker, expected);
});
