/*
 * Evidence entry grid: keyboard movement, spreadsheet paste and autosave. The page works without
 * this script (a plain form with a Save button); this only makes it faster to use.
 */
(function () {
  'use strict';
  var form = document.querySelector('form[data-autosave]');
  if (!form) return;
  var status = form.querySelector('[data-save-status]');
  var hints = document.querySelectorAll('.js-only');
  for (var h = 0; h < hints.length; h += 1) hints[h].hidden = false;

  var inputs = form.querySelectorAll('input[data-row]');
  var cells = [];
  for (var i = 0; i < inputs.length; i += 1) {
    var input = inputs[i];
    var row = Number(input.getAttribute('data-row'));
    var col = Number(input.getAttribute('data-col'));
    if (!cells[row]) cells[row] = [];
    cells[row][col] = input;
  }

  var dirty = new Map();
  var timer = null;
  var saving = false;
  var again = false;

  function setStatus(text, isError) {
    status.textContent = text;
    status.classList.toggle('is-error', Boolean(isError));
  }

  function cellAt(row, col) {
    return cells[row] ? cells[row][col] : undefined;
  }

  function move(input, dRow, dCol) {
    var target = cellAt(
      Number(input.getAttribute('data-row')) + dRow,
      Number(input.getAttribute('data-col')) + dCol,
    );
    if (target) {
      target.focus();
      target.select();
    }
  }

  function clearError(input) {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
    input.parentElement.classList.remove('has-error');
    var old = document.getElementById(input.id + '-error');
    if (old) old.remove();
  }

  function showError(input, message) {
    clearError(input);
    var span = document.createElement('span');
    span.className = 'cell-error';
    span.id = input.id + '-error';
    span.textContent = message;
    input.parentElement.appendChild(span);
    input.parentElement.classList.add('has-error');
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', span.id);
  }

  function markDirty(input) {
    dirty.set(input.name, input);
    clearError(input);
    input.classList.remove('is-saved');
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 700);
  }

  function save() {
    timer = null;
    if (dirty.size === 0) return;
    if (saving) {
      again = true;
      return;
    }
    saving = true;
    var sending = new Map(dirty);
    dirty.clear();
    var body = new URLSearchParams();
    body.set('_csrf', form.querySelector('input[name="_csrf"]').value);
    body.set('_autosave', '1');
    sending.forEach(function (input, name) {
      body.set(name, input.value);
      input.classList.add('is-saving');
    });
    setStatus('Saving…');
    fetch(form.action, {
      method: 'POST',
      body: body,
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return { ok: false, message: 'the server answered ' + response.status };
          })
          .then(function (data) {
            return { response: response, data: data };
          });
      })
      .then(function (result) {
        sending.forEach(function (input) {
          input.classList.remove('is-saving');
        });
        if (result.response.ok && result.data.ok) {
          sending.forEach(function (input) {
            input.classList.add('is-saved');
          });
          setStatus('Saved');
          return;
        }
        var errors = (result.data && result.data.errors) || {};
        sending.forEach(function (input, name) {
          // Nothing of this batch was saved: keep every cell to send again.
          if (!dirty.has(name)) dirty.set(name, input);
          if (errors[name]) showError(input, errors[name]);
        });
        setStatus(
          'Error: ' + (result.data.message || 'not saved') + ' Your entries are kept.',
          true,
        );
      })
      .catch(function () {
        sending.forEach(function (input, name) {
          input.classList.remove('is-saving');
          if (!dirty.has(name)) dirty.set(name, input);
        });
        setStatus(
          'Error: the server could not be reached. Your entries are kept; press Save to try again.',
          true,
        );
      })
      .then(function () {
        saving = false;
        if (again) {
          again = false;
          save();
        }
      });
  }

  form.addEventListener('input', function (event) {
    if (event.target.matches && event.target.matches('input[data-row]')) markDirty(event.target);
  });

  form.addEventListener('focusin', function (event) {
    if (event.target.matches && event.target.matches('input[data-row]')) event.target.select();
  });

  form.addEventListener('keydown', function (event) {
    var input = event.target;
    if (!input.matches || !input.matches('input[data-row]')) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var atStart = input.selectionStart === 0 && input.selectionEnd === 0;
    var atEnd = input.selectionStart === input.value.length;
    var whole = input.selectionStart === 0 && input.selectionEnd === input.value.length;
    switch (event.key) {
      case 'ArrowUp':
        event.preventDefault();
        move(input, -1, 0);
        break;
      case 'ArrowDown':
        event.preventDefault();
        move(input, 1, 0);
        break;
      case 'Enter':
        event.preventDefault();
        if (timer) {
          clearTimeout(timer);
          save();
        }
        move(input, event.shiftKey ? -1 : 1, 0);
        break;
      case 'ArrowLeft':
        if (atStart || whole) {
          event.preventDefault();
          move(input, 0, -1);
        }
        break;
      case 'ArrowRight':
        if (atEnd || whole) {
          event.preventDefault();
          move(input, 0, 1);
        }
        break;
      default:
        break;
    }
  });

  form.addEventListener('paste', function (event) {
    var input = event.target;
    if (!input.matches || !input.matches('input[data-row]')) return;
    var text = (event.clipboardData || window.clipboardData).getData('text');
    if (!/[\t\n]/.test(text)) return;
    event.preventDefault();
    var lines = text.replace(/\r/g, '').replace(/\n$/, '').split('\n');
    var startRow = Number(input.getAttribute('data-row'));
    var startCol = Number(input.getAttribute('data-col'));
    var filled = 0;
    for (var r = 0; r < lines.length; r += 1) {
      var values = lines[r].split('\t');
      for (var c = 0; c < values.length; c += 1) {
        var target = cellAt(startRow + r, startCol + c);
        if (!target) continue;
        target.value = values[c].trim();
        markDirty(target);
        filled += 1;
      }
    }
    setStatus('Pasted ' + filled + ' cells; saving…');
  });

  window.addEventListener('beforeunload', function (event) {
    if (dirty.size > 0 || saving) {
      save();
      event.preventDefault();
    }
  });
})();
