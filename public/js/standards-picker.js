// Turns the standards search field into an ARIA 1.2 combobox with a listbox of matches.
// Without JavaScript the field is a plain GET search form with "Add" buttons in the result list.
// Keys: typing searches; ArrowDown/ArrowUp move through matches; Enter adds the active match;
// Escape closes the list (a second Escape clears the field); Home/End stay in the text field.
// data-mode="post": Enter submits #picker-add-form (the page reloads with the standard added).
// data-mode="collect": Enter adds a checked checkbox to #picker-selected (Deep Linking form).
(function () {
  'use strict';

  function debounce(fn, ms) {
    var timer;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () {
        fn.apply(null, args);
      }, ms);
    };
  }

  function enhance(input) {
    var mode = input.getAttribute('data-mode') || 'post';
    var searchUrl = input.getAttribute('data-search-url');
    var listId = input.id + '-listbox';
    var list = document.createElement('ul');
    list.id = listId;
    list.className = 'picker-listbox';
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', 'Matching standards');
    list.hidden = true;
    var live = document.createElement('p');
    live.className = 'visually-hidden';
    live.setAttribute('role', 'status');
    var row = input.parentNode;
    row.parentNode.insertBefore(list, row.nextSibling);
    row.parentNode.insertBefore(live, list.nextSibling);

    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', listId);

    var results = [];
    var active = -1;
    var lastQuery = '';
    var requestNumber = 0;

    function close() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      active = -1;
    }

    function setActive(index) {
      var options = list.querySelectorAll('[role="option"]');
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute('aria-selected', i === index ? 'true' : 'false');
      }
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute('aria-activedescendant', options[index].id);
        options[index].scrollIntoView({ block: 'nearest' });
      } else {
        input.removeAttribute('aria-activedescendant');
      }
    }

    function render() {
      list.textContent = '';
      results.forEach(function (result, index) {
        var option = document.createElement('li');
        option.id = listId + '-option-' + index;
        option.setAttribute('role', 'option');
        option.setAttribute('aria-selected', 'false');
        option.textContent = result.label + ' (' + result.framework + ')';
        option.addEventListener('mousedown', function (event) {
          // Keep focus in the field; add on click.
          event.preventDefault();
        });
        option.addEventListener('click', function () {
          choose(index);
        });
        list.appendChild(option);
      });
      if (results.length > 0) {
        list.hidden = false;
        input.setAttribute('aria-expanded', 'true');
        live.textContent =
          results.length +
          (results.length === 1 ? ' standard matches' : ' standards match') +
          '. Use the arrow keys to choose, Enter to add.';
      } else {
        close();
        live.textContent = lastQuery === '' ? '' : 'No standard matches.';
      }
      active = -1;
    }

    var search = debounce(function (query) {
      var mine = ++requestNumber;
      if (query.trim() === '') {
        results = [];
        render();
        return;
      }
      fetch(searchUrl + '?q=' + encodeURIComponent(query), {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (body) {
          if (mine !== requestNumber) return;
          results = body.results || [];
          render();
        })
        .catch(function () {
          live.textContent = 'Search is not available right now; press Enter to search.';
        });
    }, 120);

    function choose(index) {
      var result = results[index];
      if (!result) return;
      if (mode === 'collect') {
        collect(result);
        input.value = '';
        lastQuery = '';
        results = [];
        close();
        input.focus();
        return;
      }
      var addForm = document.getElementById('picker-add-form');
      if (!addForm) return;
      addForm.querySelector('input[name="itemId"]').value = result.id;
      live.textContent = 'Adding ' + result.label + '…';
      addForm.submit();
    }

    function collect(result) {
      var selected = document.getElementById('picker-selected');
      if (!selected) return;
      var status = document.getElementById('picker-status');
      if (selected.querySelector('input[value="' + result.id + '"]')) {
        if (status) status.textContent = result.label + ' is already chosen.';
        return;
      }
      var empty = document.getElementById('picker-none');
      if (empty) empty.hidden = true;
      var item = document.createElement('li');
      var box = document.createElement('input');
      box.type = 'checkbox';
      box.name = 'standard';
      box.value = result.id;
      box.checked = true;
      box.id = 'standard-' + result.id;
      var label = document.createElement('label');
      label.htmlFor = box.id;
      label.textContent = result.label;
      item.appendChild(box);
      item.appendChild(document.createTextNode(' '));
      item.appendChild(label);
      selected.appendChild(item);
      if (status) status.textContent = 'Added ' + result.label + '. Uncheck it to leave it out.';
    }

    input.addEventListener('input', function () {
      lastQuery = input.value;
      search(input.value);
    });

    input.addEventListener('keydown', function (event) {
      var open = !list.hidden && results.length > 0;
      switch (event.key) {
        case 'ArrowDown':
          event.preventDefault();
          if (!open) {
            if (results.length > 0) render();
            else search(input.value);
            if (results.length > 0) setActive(0);
            return;
          }
          setActive(active + 1 >= results.length ? 0 : active + 1);
          return;
        case 'ArrowUp':
          if (!open) return;
          event.preventDefault();
          setActive(active <= 0 ? results.length - 1 : active - 1);
          return;
        case 'Enter':
          if (open && active >= 0) {
            event.preventDefault();
            choose(active);
          }
          // Otherwise the form submits: the search works as without JavaScript.
          return;
        case 'Escape':
          if (open) {
            event.preventDefault();
            close();
          } else if (input.value !== '') {
            event.preventDefault();
            input.value = '';
            lastQuery = '';
            results = [];
          }
          return;
        case 'Tab':
          close();
          return;
        default:
          return;
      }
    });

    input.addEventListener('blur', function () {
      setTimeout(close, 150);
    });

    if (input.getAttribute('data-focus') === 'true') input.focus();
  }

  var inputs = document.querySelectorAll('input[data-picker-input]');
  for (var i = 0; i < inputs.length; i++) enhance(inputs[i]);
})();
