/**
 * Tiny HTML builder that escapes every interpolated value unless it is already SafeHtml.
 * The emulator's pages are small, so a tagged template beats a view engine here.
 */

export interface SafeHtml {
  readonly safeHtml: string;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function isSafeHtml(value: unknown): value is SafeHtml {
  return typeof value === 'object' && value !== null && 'safeHtml' in value;
}

function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (isSafeHtml(value)) return value.safeHtml;
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number' || typeof value === 'boolean') return escapeHtml(String(value));
  return escapeHtml(JSON.stringify(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return { safeHtml: out };
}

/** JSON for an inline <script>: `<` is escaped so data can never close the script element. */
export function jsonForScript(value: unknown): SafeHtml {
  return {
    safeHtml: JSON.stringify(value)
      .replace(/</g, '\\u003c')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029'),
  };
}

export function page(title: string, body: SafeHtml, options: { flavour?: string } = {}): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style>
          body {
            font-family: system-ui, sans-serif;
            margin: 1.5rem;
            max-width: 72rem;
            line-height: 1.4;
          }
          table {
            border-collapse: collapse;
          }
          td,
          th {
            border: 1px solid #999;
            padding: 0.25rem 0.5rem;
            text-align: left;
          }
          header {
            border-bottom: 2px solid #345;
            margin-bottom: 1rem;
          }
          .muted {
            color: #555;
          }
          .error {
            color: #a00;
          }
          iframe.tool {
            width: 100%;
            height: 70vh;
            border: 1px solid #999;
          }
          form.inline {
            display: inline;
          }
        </style>
      </head>
      <body>
        <header>
          <p>
            <a href="/">LMS emulator</a
            >${options.flavour ? html` <span class="muted">(${options.flavour})</span>` : ''}
          </p>
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`.safeHtml;
}

/**
 * A form that submits itself: how OIDC form_post and LTI messages move through the browser.
 * The noscript button keeps it usable without JavaScript.
 */
export function autoSubmitForm(
  action: string,
  fields: Record<string, string>,
  method: 'GET' | 'POST' = 'POST',
  target?: string,
): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>Redirecting</title>
      </head>
      <body>
        <form
          id="lti-autosubmit"
          action="${action}"
          method="${method.toLowerCase()}"
          ${target ? html` target="${target}"` : ''}
        >
          ${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" /> `)}
          <noscript><button type="submit">Continue</button></noscript>
        </form>
        <script>
          document.getElementById('lti-autosubmit').submit();
        </script>
      </body>
    </html>`.safeHtml;
}
