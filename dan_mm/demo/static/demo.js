// The dan_mm web demo: send a photo to /api/predict, show what comes back.
// Plain DOM code, no library; text from the server goes in as textContent.
'use strict';

const $ = (id) => document.getElementById(id);
let info = null;        // GET api/info
let lastImage = null;   // the last photo sent, for "classify the whole image"
let lastWholeImage = false;  // and how, to send it again at a new threshold

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showMessage(text, kind = 'error', offerWholeImage = false) {
  $('message').hidden = false;
  $('message').className = kind;
  $('message-text').textContent = text;
  $('whole-image').hidden = !offerWholeImage;
}

function hideMessage() {
  $('message').hidden = true;
  $('whole-image').hidden = true;
}

function setBusy(busy) {
  $('file').disabled = busy;
  $('whole-image').disabled = busy;
  $('camera-snap').disabled = busy;
  $('status').textContent = busy ? 'Working… (photos are queued and ' +
    'answered one at a time)' : '';
}

async function loadInfo() {
  try {
    const response = await fetch('api/info');
    info = await response.json();
    const heads = info.num_heads ? `, ${info.num_heads} attention heads` : '';
    const calibration =
      info.calibration ? ` ${capitalize(info.calibration)}.` : '';
    $('model-info').textContent =
      `Model ${info.model}${heads}, on ${info.device}. ` +
      `Classes: ${(info.classes || []).join(', ')}.${calibration}`;
  } catch (error) {
    $('model-info').textContent = 'The server did not answer: is it running?';
  }
}

function mb(bytes) { return (bytes / 1024 / 1024).toFixed(1); }

async function send(image, wholeImage = false) {
  if (info && image.size > info.max_upload_bytes) {
    showMessage(`The file is ${mb(image.size)} MB; the demo accepts up to ` +
      `${mb(info.max_upload_bytes)} MB. Scale the photo down.`);
    return;
  }
  lastImage = image;
  hideMessage();
  setBusy(true);
  const start = performance.now();
  let response, answer;
  try {
    const threshold = Number($('min-confidence').value) / 100;
    const query = `whole_image=${wholeImage}` +
      (threshold > 0 ? `&min_confidence=${threshold}` : '');
    lastWholeImage = wholeImage;
    response = await fetch(`api/predict?${query}`, {
      method: 'POST',
      headers: {'Content-Type': image.type || 'application/octet-stream'},
      body: image,
    });
    answer = await response.json().catch(() => ({
      error: `The server answered ${response.status} ${response.statusText}.`,
    }));
  } catch (error) {
    answer = {error: `The server did not answer (${error.message}).`};
  }
  setBusy(false);
  if (!response || !response.ok) {
    $('result').hidden = true;
    showMessage(capitalize(answer.error || 'Something went wrong.'));
    return;
  }
  render(answer, (performance.now() - start) / 1000);
}

function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function render(answer, roundTrip) {
  $('result').hidden = false;
  $('result-image').src = answer.image;
  const n = answer.faces.length;
  const resized = answer.resized_from ?
    ` Shrunk from ${answer.resized_from.join('×')} to ` +
    `${answer.size.join('×')} pixels.` : '';
  $('timing').textContent =
    `${n} face${n === 1 ? '' : 's'}${answer.whole_image ?
      ' (the whole image as one face)' : ''} in ` +
    `${answer.time_s.total.toFixed(2)} s on the server (model ` +
    `${answer.time_s.inference.toFixed(2)} s), ${roundTrip.toFixed(2)} s ` +
    `with the upload. ${answer.model} on ${answer.device}.${resized}`;
  if (answer.message) showMessage(answer.message, 'info', true);
  $('model-notice').hidden = !answer.notice;
  $('model-notice').textContent =
    answer.notice ? `Note: ${capitalize(answer.notice)}.` : '';

  const faces = $('faces');
  faces.replaceChildren();
  answer.faces.forEach((face, i) => {
    // The number and colour the face has on the photo (server-side
    // dan_mm.visualization.palette); without a colour, a plain heading.
    const number = face.number ?? face.track_id ?? i + 1;
    const card = el('article', 'face');
    const heading = el('h2', 'face-label');
    if (face.colour) {
      const swatch = el('span', 'swatch', `#${number}`);
      swatch.style.backgroundColor = face.colour;
      swatch.style.color = face.text_colour || '#fff';
      card.style.borderLeftColor = face.colour;
      card.classList.add('coloured');
      heading.append(swatch);
    }
    // An uncertain face: "?", its most likely class kept in brackets.
    const label = face.uncertain ? `? (${face.label})` : face.label;
    heading.append(document.createTextNode(
      `${face.colour ? '' : `Face ${number}: `}${label} ` +
      `${(100 * face.score).toFixed(1)}%`));
    card.append(heading);
    const bars = el('div', 'bars');
    for (const {name, p} of face.scores) {
      const track = el('div', 'bar-track');
      const bar = el('div', name === face.label ? 'bar top' : 'bar');
      bar.style.width = `${(100 * p).toFixed(1)}%`;
      track.append(bar);
      bars.append(el('span', 'bar-name', name), track,
        el('span', 'bar-value', `${(100 * p).toFixed(1)}%`));
    }
    const panels = el('img', 'panels');
    panels.src = face.panels;
    panels.alt = `Face ${number} and the attention of each head`;
    card.append(bars, panels, el('p', 'panels-caption',
      'The face as the model saw it, then each attention head.'));
    faces.append(card);
  });
}

// Camera snapshots, where the browser allows them (a secure context:
// https, or this machine's own address).
async function startCamera() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({video: true});
    $('camera').srcObject = stream;
    $('camera').hidden = false;
    $('camera-snap').hidden = false;
    $('camera-start').hidden = true;
  } catch (error) {
    showMessage(`The camera is not available (${error.name}): ` +
      'choose a photo instead.');
  }
}

function snapshot() {
  const video = $('camera');
  if (!video.videoWidth) {
    showMessage('The camera has not started yet: try again in a moment.');
    return;
  }
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  canvas.toBlob((blob) => send(blob), 'image/jpeg', 0.92);
}

function init() {
  $('file').addEventListener('change', () => {
    const image = $('file').files[0];
    $('file').value = '';  // choosing the same file again sends it again
    if (image) send(image);
  });
  $('min-confidence').addEventListener('input', () => {
    const value = Number($('min-confidence').value);
    $('min-confidence-value').textContent = value > 0 ? `${value}%` : 'off';
  });
  $('min-confidence').addEventListener('change', () => {
    if (lastImage) send(lastImage, lastWholeImage);  // the same photo again
  });
  $('whole-image').addEventListener('click', () => {
    if (lastImage) send(lastImage, true);
  });
  const zone = $('drop-zone');
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    if (event.dataTransfer.files.length) send(event.dataTransfer.files[0]);
  });
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    $('camera-controls').hidden = false;
    $('camera-start').addEventListener('click', startCamera);
    $('camera-snap').addEventListener('click', snapshot);
  }
  loadInfo();
}

init();
