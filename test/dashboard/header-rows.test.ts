/** The endpoint form's custom header rows, as the dashboard sends them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCustomHeaders } from '../../src/api/endpoint-input.ts';
import { headerRowsProblem, rowsToHeaders } from '../../src/dashboard/app/header-rows.ts';
import type { SignatureConfig } from '../../src/domain/types.ts';

test('spaces and tabs around a value are left out, as HTTP leaves them out (the API refuses them)', () => {
  assert.deepEqual(
    rowsToHeaders([
      { name: ' X-Token ', value: ' Bearer abc\t' },
      { name: 'X-Inner', value: 'a \t b' },
      { name: 'X-Nbsp', value: '\u00a0v\u00a0' },
      { name: 'X-Empty', value: '  ' },
      { name: '', value: '' },
    ]),
    { 'X-Token': 'Bearer abc', 'X-Inner': 'a \t b', 'X-Nbsp': '\u00a0v\u00a0', 'X-Empty': '' },
  );
});

test('the editor refuses the header names and values the API refuses, and no other (custom names)', () => {
  const signature = { scheme: 'standard' } as SignatureConfig;
  const apiTakes = (headers: Record<string, string>) => {
    try {
      checkCustomHeaders(headers, 'POST', signature);
      return true;
    } catch {
      return false;
    }
  };
  const characters = [
    ...Array.from({ length: 0x300 }, (_, code) => String.fromCharCode(code)),
    '\u2028',
    '\u20ac',
    '\ufeff',
    '\ufffd',
    '\ud800',
    '😀',
  ];
  const differ: string[] = [];
  for (const character of characters) {
    for (const rows of [
      [{ name: `X-A${character}b`, value: 'v' }],
      [{ name: 'X-Value', value: `a${character}b` }],
    ]) {
      const editor = headerRowsProblem(rows, signature) === null;
      if (editor !== apiTakes(rowsToHeaders(rows)))
        differ.push(`${JSON.stringify(rows[0])}: editor ${editor}`);
    }
  }
  // Before 2026-12-06 the editor refused only CR and LF in a value: a control character or one
  // above U+00FF was sent, and the API's 400 came back.
  assert.deepEqual(differ, []);
});

test('the editor refuses the header names Herald sets itself, in the words of the API', () => {
  const signatures: SignatureConfig[] = [
    { scheme: 'standard' },
    { scheme: 'hmac-sha256', signatureHeader: 'X-Sig', timestampHeader: 'X-Sig-Time' },
    { scheme: 'hmac-sha1-url', signatureHeader: 'X-PPG' },
    { scheme: 'none' },
  ];
  const names = [
    'Host',
    'content-length',
    'Connection',
    'Transfer-Encoding',
    'User-Agent',
    'Webhook-Signature',
    'webhook-anything',
    'Svix-Id',
    'Stripe-Signature',
    'X-Hub-Signature-256',
    'x-sig',
    'X-SIG-TIME',
    'x-ppg',
    'X-Token',
    'Authorization',
  ];
  const differ: string[] = [];
  for (const signature of signatures) {
    for (const name of names) {
      let api: string | null = null;
      try {
        checkCustomHeaders({ [name]: 'v' }, 'POST', signature);
      } catch (error) {
        // The form shows `body.headers.<name>: <words>` as `<name>: <words>` (formFieldOf).
        api = (error as Error).message.slice('body.headers.'.length);
      }
      const editor = headerRowsProblem([{ name, value: 'v' }], signature);
      if (editor?.message !== (api ?? undefined) || (editor !== null && editor.input !== 'name'))
        differ.push(`${signature.scheme} ${name}: editor ${editor?.message} / API ${api}`);
    }
  }
  // Before 2026-12-06 the editor took every one of them, and Save brought back the API's 400.
  assert.deepEqual(differ, []);
});

test('the editor refuses a Content-Type the API refuses for the method and scheme, in its words, and takes the rest', () => {
  const methods = ['POST', 'PUT', 'PATCH', 'GET'] as const;
  const signatures: SignatureConfig[] = [
    { scheme: 'standard' },
    { scheme: 'hmac-sha1-url' },
    { scheme: 'sha256-body' },
    { scheme: 'none' },
  ];
  const values = [
    'application/json',
    ' application/json; charset=UTF-8 ',
    'application/vnd.game+json',
    'application/x-www-form-urlencoded',
    'text/plain',
    'text/html',
    'application/json; charset=latin1',
    'json please',
  ];
  const differ: string[] = [];
  let refused = 0;
  for (const method of methods) {
    for (const signature of signatures) {
      for (const value of values) {
        const rows = [{ name: 'Content-Type', value }];
        let api: string | null = null;
        try {
          checkCustomHeaders(rowsToHeaders(rows), method, signature);
        } catch (error) {
          api = (error as Error).message.slice('body.headers.'.length);
        }
        const editor = headerRowsProblem(rows, signature, method);
        if (api !== null) refused++;
        const input = method === 'GET' ? 'name' : 'value';
        if (editor?.message !== (api ?? undefined) || (editor !== null && editor.input !== input))
          differ.push(
            `${method} ${signature.scheme} ${JSON.stringify(value)}: editor ${editor?.message} / API ${api}`,
          );
        // Without the method the form cannot tell: the API's answer is shown after Save.
        assert.equal(headerRowsProblem(rows, signature), null);
      }
    }
  }
  assert.ok(refused > 40, `the API refused ${refused} of them`);
  // Before 2026-12-06 the editor took every one of them, and Save brought back the API's 400.
  assert.deepEqual(differ, []);
});
