// The account page. No framework, no build step, no third-party host. The API key lives
// only in this tab's sessionStorage and travels only in the x-api-key header; every URL
// is relative, so the page works under a stage prefix (/prod/account) and locally.
"use strict";

(function () {
  const KEY_STORAGE = "cutout.apiKey";
  const api = (path) => new URL(path, document.baseURI).toString(); // "v1/account" etc.
  const $ = (id) => document.getElementById(id);
  const state = { key: null, account: null, privacy: null, resultUrl: null, originalUrl: null };

  class ApiError extends Error {
    constructor(status, code, message, reason) {
      super(message);
      this.status = status;
      this.code = code;
      this.reason = reason || null;
    }
  }

  // --- talking to the API --------------------------------------------------------------
  async function readError(response) {
    let code = "http_" + response.status;
    let message = "The API answered " + response.status + ".";
    let reason = null;
    try {
      const body = await response.json();
      if (body && body.error) {
        code = body.error.code || code;
        message = body.error.message || message;
        reason = body.error.reason || null;
      }
    } catch (ignored) { /* not JSON: keep the status sentence */ }
    return new ApiError(response.status, code, message, reason);
  }

  async function call(method, path, options) {
    const init = { method: method, headers: { "x-api-key": state.key }, cache: "no-store",
      credentials: "omit", referrerPolicy: "no-referrer" };
    if (options && options.json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    } else if (options && options.body !== undefined) {
      init.headers["Content-Type"] = options.contentType;
      init.body = options.body;
    }
    if (options && options.accept) init.headers["Accept"] = options.accept;
    const response = await fetch(api(path), init);
    if (!response.ok) {
      const error = await readError(response);
      // The key itself was refused (revoked mid-session, or unknown): sign the tab out at
      // once, instead of showing a stale account until a reload. A 403 a handler gives for
      // a reason other than the key (admin_key_required) keeps the session.
      if (state.key !== null && isKeyRefusal(error)) signOut(error);
      throw error;
    }
    return response;
  }

  function isKeyRefusal(error) {
    return error.status === 401 || (error.status === 403 && error.code === "forbidden");
  }

  const getJson = async (method, path, options) => (await call(method, path, options)).json();

  function explainKeyError(error) {
    if (error.status === 401) return "Enter your API key: none was sent.";
    if (error.status === 403 && error.reason === "revoked_api_key") {
      return "This API key has been revoked. Ask your administrator for a new one.";
    }
    if (error.status === 403) {
      return "This API key was not accepted: it is unknown or has been revoked. " +
        "Check it, or ask your administrator for a new one.";
    }
    if (error.status === 429) return "Too many requests right now; try again in a moment.";
    return error.message || "The API could not be reached.";
  }

  // --- sign in and out -------------------------------------------------------------------
  async function signIn(key, fromStorage) {
    state.key = key;
    $("sign-in-error").textContent = "";
    $("sign-in-button").disabled = true;
    try {
      const account = await getJson("GET", "v1/account");
      sessionStorage.setItem(KEY_STORAGE, key);
      $("api-key").value = "";
      showAccount(account);
      $("training-switch").focus();
      loadPrivacy();
    } catch (error) {
      state.key = null;
      sessionStorage.removeItem(KEY_STORAGE);
      $("sign-in-error").textContent = error instanceof ApiError ? explainKeyError(error)
        : "The API could not be reached: " + error.message;
      if (!fromStorage) $("api-key").focus();
    } finally {
      $("sign-in-button").disabled = false;
    }
  }

  function signOut(error) {
    forgetKey();
    $("sign-in-error").textContent = explainKeyError(error);
  }

  function forgetKey() {
    clearTimeout(erasurePoll);
    sessionStorage.removeItem(KEY_STORAGE);
    state.key = null;
    state.account = null;
    state.privacy = null;
    clearTry();
    $("account").hidden = true;
    $("sign-in").hidden = false;
    $("privacy-answers").replaceChildren();
    $("api-key").focus();
  }

  function showAccount(account) {
    state.account = account;
    $("sign-in").hidden = true;
    $("account").hidden = false;
    $("account-id").textContent = account.account_id;
    renderSwitch(account);
    renderUsage(account.usage);
  }

  // --- the AI Training Data switch -------------------------------------------------------
  function renderSwitch(account) {
    const on = account.training_opt_in === true;
    $("training-switch").setAttribute("aria-checked", on ? "true" : "false");
    $("training-state").textContent = on
      ? "On: the images and masks of this account's requests are kept for training."
      : "Off: nothing from your requests is kept for training.";
    $("training-changed").textContent = account.training_opt_in_changed_at
      ? "Last changed " + new Date(account.training_opt_in_changed_at).toLocaleString() +
        " by the key " + account.training_opt_in_changed_by + "."
      : "Never changed: off since the account was created.";
    renderErasure(account.training_erasure);
  }

  // An opt-out's deletion: capture stopped with the first answer; a large contribution is
  // deleted over several reads of the account (each moves it on) and the scheduled sweeper.
  let erasurePoll = null;
  function renderErasure(erasure) {
    clearTimeout(erasurePoll);
    const text = !erasure ? "" : erasure.state === "done"
      ? "Everything kept for training was deleted (" + erasure.deleted_objects + " objects)."
      : "Deleting what was kept for training: " + erasure.deleted_objects +
        " objects so far. Nothing new is kept meanwhile.";
    $("training-erasure").textContent = text;
    if (erasure && erasure.state === "in_progress") erasurePoll = setTimeout(refreshErasure, 3000);
  }

  async function refreshErasure() {
    if (state.key === null) return;
    try {
      const account = await getJson("GET", "v1/account");
      state.account = account;
      renderSwitch(account);
    } catch (ignored) { /* a refused key signs out in call(); otherwise try again later */ }
  }

  async function ensurePrivacy() {
    if (!state.privacy) state.privacy = await getJson("GET", "v1/privacy");
    return state.privacy;
  }

  async function onSwitch() {
    $("training-error").textContent = "";
    $("training-message").textContent = "";
    const on = $("training-switch").getAttribute("aria-checked") === "true";
    try {
      if (on) {
        await setOptIn(false);
        return;
      }
      const facts = (await ensurePrivacy()).facts;
      $("confirm-text").textContent =
        "From now on, the images you send with this account and the masks made from them " +
        "will be kept in this deployment's training store for " +
        facts.training_retention_days + " days, encrypted with the deployment's KMS key (" +
        facts.kms_key + "). Only future requests are kept. Turning the switch off again " +
        "deletes everything kept.";
      $("confirm-dialog").showModal();
      $("confirm-cancel").focus();
    } catch (error) {
      $("training-error").textContent = error.message;
    }
  }

  async function setOptIn(value) {
    const control = $("training-switch");
    control.disabled = true;
    try {
      const answer = await getJson("PUT", "v1/account/training-opt-in",
        { json: { opt_in: value } });
      state.account = Object.assign({}, state.account, answer);
      renderSwitch(answer);
      if (value) {
        $("training-message").textContent = "AI Training Data is on.";
      } else {
        const n = answer.deleted_training_objects || 0;
        const erasing = answer.training_erasure && answer.training_erasure.state === "in_progress";
        $("training-message").textContent = "AI Training Data is off. " + n +
          (n === 1 ? " object" : " objects") + " kept for training " +
          (n === 1 ? "was" : "were") + " deleted" +
          (erasing ? "; the rest is being deleted." : ".");
      }
      state.privacy = null;
      loadPrivacy();
    } catch (error) {
      $("training-error").textContent = error.message;
    } finally {
      control.disabled = false;
      control.focus();
    }
  }

  // --- where your images go ----------------------------------------------------------------
  async function loadPrivacy() {
    $("privacy-error").textContent = "";
    try {
      const privacy = await ensurePrivacy();
      const list = $("privacy-answers");
      list.replaceChildren();
      for (const answer of privacy.answers) {
        const term = document.createElement("dt");
        term.textContent = answer.question;
        const detail = document.createElement("dd");
        detail.textContent = answer.answer;
        detail.dataset.topic = answer.topic;
        list.append(term, detail);
      }
    } catch (error) {
      $("privacy-error").textContent = "The privacy answers could not be loaded: " +
        error.message;
    }
  }

  // --- usage -------------------------------------------------------------------------------
  function renderUsage(usage) {
    if (!usage) return;
    $("usage-summary").textContent = usage.requests + (usage.requests === 1 ? " request" :
      " requests") + " and " + usage.megapixels + " megapixels in " + usage.month +
      " (UTC).";
    const body = $("usage-days").querySelector("tbody");
    body.replaceChildren();
    for (const day of usage.days) {
      const row = document.createElement("tr");
      for (const value of [day.day, day.requests, day.megapixels]) {
        const cell = document.createElement("td");
        cell.textContent = String(value);
        row.append(cell);
      }
      body.append(row);
    }
    $("usage-days").hidden = usage.days.length === 0;
  }

  async function refreshUsage() {
    try {
      const account = await getJson("GET", "v1/account");
      state.account = account;
      renderUsage(account.usage);
    } catch (ignored) { /* the try-it answer already shows any error */ }
  }

  // --- try it ------------------------------------------------------------------------------
  function clearTry() {
    for (const name of ["resultUrl", "originalUrl"]) {
      if (state[name]) URL.revokeObjectURL(state[name]);
      state[name] = null;
    }
    $("try-original").hidden = true;
    $("try-result").hidden = true;
    $("try-download").hidden = true;
    $("try-status").textContent = "";
    $("try-error").textContent = "";
    $("try-file").value = "";
  }

  function chosenFile() {
    return $("try-file").files && $("try-file").files[0];
  }

  function showOriginal(file) {
    if (state.originalUrl) URL.revokeObjectURL(state.originalUrl);
    state.originalUrl = URL.createObjectURL(file);
    $("try-original").src = state.originalUrl;
    $("try-original").hidden = false;
  }

  function options() {
    const chosen = { format: $("try-format").value, size: $("try-size").value };
    if ($("try-bg").checked) chosen.bg_color = $("try-bg-color").value;
    if ($("try-crop").checked) chosen.crop = "true";
    return chosen;
  }

  function progress(label, fraction) {
    $("try-progress-row").hidden = fraction === null;
    $("try-progress-label").textContent = label;
    if (fraction !== null) $("try-progress").value = Math.round(fraction * 100);
  }

  // A signed PUT with the headers the API signed, through XHR for upload progress.
  function putSigned(upload, file) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("PUT", upload.upload_url);
      for (const [name, value] of Object.entries(upload.headers || {})) {
        request.setRequestHeader(name, value);
      }
      request.upload.onprogress = (event) => {
        if (event.lengthComputable) progress("Uploading", event.loaded / event.total);
      };
      request.onload = () => (request.status >= 200 && request.status < 300 ? resolve()
        : reject(new Error("The signed upload was refused (" + request.status + ").")));
      request.onerror = () => reject(new Error("The signed upload could not reach storage."));
      request.send(file);
    });
  }

  async function fetchSigned(url) {
    const response = await fetch(url, { cache: "no-store", credentials: "omit",
      referrerPolicy: "no-referrer" });
    if (!response.ok) throw new Error("The signed result link answered " + response.status);
    return response.blob();
  }

  async function removeBackground(file) {
    const chosen = options();
    const limit = state.privacy ? state.privacy.facts.inline_limit_bytes : 4 * 1000 * 1000;
    if (file.size <= limit) {
      progress("Processing", null);
      const query = new URLSearchParams(chosen).toString();
      const response = await call("POST", "v1/remove-background?" + query,
        { body: file, contentType: file.type || "application/octet-stream" });
      const type = response.headers.get("Content-Type") || "";
      if (type.startsWith("application/json")) {  // too large to return inline: a link
        return fetchSigned((await response.json()).result_url);
      }
      return response.blob();
    }
    const upload = await getJson("POST", "v1/uploads");
    if (file.size > upload.max_bytes) {
      throw new Error("The image is over the " + Math.round(upload.max_bytes / 1048576) +
        " MB upload limit.");
    }
    progress("Uploading", 0);
    await putSigned(upload, file);
    progress("Uploading", 1);
    $("try-status").textContent = "Uploaded; removing the background…";
    const answer = await getJson("POST", "v1/remove-background",
      { json: Object.assign({ upload_id: upload.upload_id }, chosen) });
    return fetchSigned(answer.result_url);
  }

  async function onTry(event) {
    event.preventDefault();
    $("try-error").textContent = "";
    $("try-status").textContent = "";
    const file = chosenFile();
    if (!file) {
      $("try-error").textContent = "Choose an image first (or drop one on the box).";
      return;
    }
    $("try-submit").disabled = true;
    $("try-result").hidden = true;  // the previous cutout goes as soon as a new one starts
    $("try-download").hidden = true;
    try {
      await ensurePrivacy();
      showOriginal(file);
      $("try-status").textContent = "Removing the background…";
      const blob = await removeBackground(file);
      if (state.resultUrl) URL.revokeObjectURL(state.resultUrl);
      state.resultUrl = URL.createObjectURL(blob);
      $("try-result").src = state.resultUrl;
      $("try-result").hidden = false;
      const extension = { "image/png": "png", "image/webp": "webp", "image/jpeg": "jpg" };
      $("try-download").href = state.resultUrl;
      $("try-download").download = "cutout." + (extension[blob.type] || $("try-format").value);
      $("try-download").hidden = false;
      $("try-status").textContent = "Done: " + Math.round(blob.size / 1024) + " KB " +
        (blob.type || "image") + ".";
      refreshUsage();
    } catch (error) {
      $("try-status").textContent = "";
      $("try-error").textContent = error.message;
    } finally {
      progress("", null);
      $("try-submit").disabled = false;
    }
  }

  function onDrop(event) {
    event.preventDefault();
    $("drop-zone").classList.remove("over");
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) {
      $("try-file").files = files;
      showOriginal(files[0]);
    }
  }

  // --- wiring ------------------------------------------------------------------------------
  function start() {
    $("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("api-key").value.trim();
      if (!key) {
        $("sign-in-error").textContent = "Paste your API key first.";
        return;
      }
      signIn(key, false);
    });
    $("forget-key").addEventListener("click", forgetKey);
    $("training-switch").addEventListener("click", onSwitch);
    $("confirm-cancel").addEventListener("click", () => $("confirm-dialog").close("cancel"));
    $("confirm-accept").addEventListener("click", () => $("confirm-dialog").close("accept"));
    $("confirm-dialog").addEventListener("close", () => {
      const accepted = $("confirm-dialog").returnValue === "accept";
      $("confirm-dialog").returnValue = "";
      if (accepted) {
        setOptIn(true);
      } else {
        $("training-message").textContent = "Nothing changed: AI Training Data is still off.";
        $("training-switch").focus();
      }
    });
    $("try-form").addEventListener("submit", onTry);
    $("try-file").addEventListener("change", () => {
      const file = chosenFile();
      if (file) showOriginal(file);
    });
    const zone = $("drop-zone");
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", onDrop);
    const saved = sessionStorage.getItem(KEY_STORAGE);
    if (saved) signIn(saved, true);
    else $("api-key").focus();
  }

  start();
})();
