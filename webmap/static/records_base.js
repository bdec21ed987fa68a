// The records pages' frame: page configuration, the language toggle, a JSON helper.
'use strict';
(function () {
  const cfg = JSON.parse(document.getElementById('page-config').textContent);
  window.pageConfig = cfg;
  // JSON from the records API (GET) or to it (POST, with the CSRF token); resolves to the
  // body, rejects with the server's error ({field, value, message}) in the page's language.
  window.recordsApi = function (url, body) {
    const options = { credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      options.method = 'POST';
      options.headers['Content-Type'] = 'application/json';
      options.headers['X-CSRFToken'] = cfg.csrf_token;
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then((r) => r.json().then((data) => {
      if (!r.ok || data.ok === false) throw (data.error || { message: t('The request failed.') });
      return data;
    }));
  };
  const toggle = document.getElementById('lang-toggle');
  if (toggle) {
    toggle.addEventListener('click', () => {
      window.recordsApi('/api/language', { lang: toggle.dataset.lang })
        .then(() => window.location.reload())
        .catch(() => window.alert(t('Could not change the language.')));
    });
  }
}());
