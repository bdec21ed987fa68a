// The work order page: record the payment, the customer's sign-off and the insurance claim
// (JSON POSTs with the CSRF token, records_base.js recordsApi), print the form.
'use strict';
(function () {
  const sheet = document.getElementById('work-order');
  if (!sheet) return;
  const base = '/api/work_orders/' + encodeURIComponent(sheet.dataset.jobId);

  function showError(form, error) {
    const slot = form.querySelector('[data-error]');
    const field = error && error.field ? error.field + ': ' : '';
    slot.textContent = field + ((error && error.message) || t('The request failed.'));
  }

  function submitWith(form, path, body) {
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    form.querySelector('[data-error]').textContent = '';
    window.recordsApi(base + path, body)
      .then(() => window.location.reload())
      .catch((error) => { showError(form, error); button.disabled = false; });
  }

  function amount(text) {
    return text.trim() === '' ? null : Number(text);
  }

  const payment = document.getElementById('payment-form');
  if (payment) {
    payment.addEventListener('submit', (event) => {
      event.preventDefault();
      submitWith(payment, '/payment', {
        method: payment.elements.method.value,
        paid_yuan: amount(payment.elements.paid_yuan.value),
      });
    });
  }

  const signOff = document.getElementById('sign-off-form');
  if (signOff) {
    signOff.addEventListener('submit', (event) => {
      event.preventDefault();
      submitWith(signOff, '/sign_off', { name: signOff.elements.name.value });
    });
  }

  const claim = document.getElementById('claim-form');
  if (claim) {
    const invoiceFields = document.getElementById('invoice-fields');
    const showInvoice = () => {
      const path = claim.querySelector('input[name="path"]:checked');
      invoiceFields.hidden = !path || path.value !== 'club_tows';
    };
    claim.querySelectorAll('input[name="path"]').forEach((r) => r.addEventListener('change', showInvoice));
    showInvoice();
    claim.addEventListener('submit', (event) => {
      event.preventDefault();
      const f = claim.elements;
      const path = claim.querySelector('input[name="path"]:checked');
      const body = {
        insurer: f.insurer.value,
        path: path ? path.value : null,
        documents: Array.from(claim.querySelectorAll('input[name="documents"]:checked')).map((c) => c.value),
        note: f.note.value,
        invoice: null,
      };
      if (body.path === 'club_tows') {
        body.invoice = {
          number: f.invoice_number.value,
          title: f.invoice_title.value,
          amount_yuan: amount(f.invoice_amount.value),
          date: f.invoice_date.value,
        };
      }
      submitWith(claim, '/claim', body);
    });
  }

  const print = document.getElementById('print-button');
  if (print) print.addEventListener('click', () => window.print());
}());
