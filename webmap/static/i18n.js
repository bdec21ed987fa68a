/* The page's half of the message catalogue (geo/i18n.py, i18n/*.po): the server puts the
 * texts of the dispatcher's language into the page config; t('English text', {name: v})
 * gives the translation with its {name} placeholders filled. Literal texts only, so that
 * Babel extracts them (`make i18n`).
 */
(function () {
  'use strict';
  const cfg = JSON.parse(document.getElementById('page-config').textContent);
  const texts = cfg.catalogue || {};
  function fill(text, params) {
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }
  window.t = function t(msgid, params) { return fill(texts[msgid] || msgid, params); };
  // A code's label (a fault, a state, a zone...) from the catalogue, else the code itself.
  window.label = function label(group, code) {
    const names = (cfg.labels || {})[group] || {};
    return names[code] || (code === null || code === undefined ? '' : String(code).replace(/_/g, ' '));
  };
  window.pageLanguage = cfg.lang || 'zh';
})();
