/**
 * The raw-socket client's response reader (src/http/raw-response.ts) on canned byte streams, one per framing RFC 9112
 * allows, each also fed split at every byte boundary (a real socket delivers arbitrary pieces). No sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseReader, readResponse, type ParsedResponse, type ReadResult } from '../../src/http/raw-response.js';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'latin1');

function response(result: ReadResult): ParsedResponse {
  assert.equal(result.kind, 'response', JSON.stringify(result));
  return (result as { response: ParsedResponse }).response;
}

/** The same stream fed whole, byte by byte, and split in two at every offset must read the same. */
function readEveryWay(bytes: Buffer, method = 'GET'): ReadResult {
  const whole = readResponse(bytes, method);
  const simplify = (r: ReadResult): unknown =>
    r.kind === 'response' ? { ...r.response, body: r.response.body.toString('latin1') } : r;
  const bytewise = readResponse(
    [...bytes].map((b) => Buffer.from([b])),
    method,
  );
  assert.deepEqual(simplify(bytewise), simplify(whole), 'byte by byte');
  for (let i = 1; i < bytes.length; i += 1) {
    assert.deepEqual(
      simplify(readResponse([bytes.subarray(0, i), bytes.subarray(i)], method)),
      simplify(whole),
      `split at ${i}`,
    );
  }
  return whole;
}

test('Content-Length body', () => {
  const r = response(
    readEveryWay(
      crlf(
        (
          'HTTP/1.1 401 Unauthorized\nContent-Type: ' +
          'application/json\nContent-Length: 24\n\n{"error":"No ' +
          'jwt provided!"}'
        ).replace('24', '28'),
      ),
    ),
  );
  assert.equal(r.status, 401);
  assert.equal(r.reason, 'Unauthorized');
  assert.equal(r.framing, 'content-length');
  assert.equal(r.httpVersion, '1.1');
  assert.equal(r.keepAlive, true);
  assert.deepEqual(JSON.parse(r.body.toString()), { error: 'No jwt provided!' });
  assert.equal(r.headers['content-type'], 'application/json');
});

test(
  'a Content-Length list of identical values is one length ' +
    '(RFC 9110 8.6); differing or non-decimal values are ' +
    'malformed',
  () => {
    assert.equal(response(readResponse(crlf('HTTP/1.1 200 OK\nContent-Length: 2, 2\n\nok'))).body.toString(), 'ok');
    assert.equal(
      response(readResponse(crlf('HTTP/1.1 200 OK\nContent-Length: 2\nContent-Length: 2\n\nok'))).body.toString(),
      'ok',
    );
    assert.equal(readResponse(crlf('HTTP/1.1 200 OK\nContent-Length: 2, 3\n\nok')).kind, 'malformed');
    assert.equal(readResponse(crlf('HTTP/1.1 200 OK\nContent-Length: abc\n\nok')).kind, 'malformed');
    assert.equal(readResponse(crlf('HTTP/1.1 200 OK\nContent-Length: -1\n\nok')).kind, 'malformed');
  },
);

test('chunked body with chunk extensions and trailer fields', () => {
  const bytes = crlf(
    'HTTP/1.1 400 Bad Request\nTransfer-Encoding: chunked\nTrailer: X-Checksum\n\n' +
      '5;name=value;flag\n{"err\n' +
      'A ; quoted="a;b"\nor":"Bad"}\n' +
      '0;last\nX-Checksum: abc\nX-Other: 1\n\n',
  );
  const r = response(readEveryWay(bytes));
  assert.equal(r.status, 400);
  assert.equal(r.framing, 'chunked');
  assert.equal(r.body.toString(), '{"error":"Bad"}');
  assert.deepEqual(r.trailers, [
    ['X-Checksum', 'abc'],
    ['X-Other', '1'],
  ]);
});

test('chunked without trailers, chunk sizes in either case of hex', () => {
  const r = response(
    readEveryWay(crlf('HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\na\n0123456789\nF\nabcdefghijklmno\n0\n\n')),
  );
  assert.equal(r.body.toString(), '0123456789abcdefghijklmno');
  assert.deepEqual(r.trailers, []);
});

test(
  'a transfer-coding list ending in chunked is chunked, and ' +
    'Transfer-Encoding overrides Content-Length (RFC 9112 6.3)',
  () => {
    const list = response(readResponse(crlf('HTTP/1.1 200 OK\nTransfer-Encoding: identity, chunked\n\n2\nok\n0\n\n')));
    assert.equal(list.framing, 'chunked');
    assert.equal(list.body.toString(), 'ok');
    const both = response(
      readResponse(crlf('HTTP/1.1 200 OK\nContent-Length: 100\nTransfer-Encoding: chunked\n\n2\nok\n0\n\n')),
    );
    assert.equal(both.framing, 'chunked');
    assert.equal(both.body.toString(), 'ok');
  },
);

test('a transfer coding other than chunked last: the body runs to the end of the connection', () => {
  const reader = new ResponseReader();
  assert.equal(reader.push(crlf('HTTP/1.1 200 OK\nTransfer-Encoding: gzip\n\nraw-bytes')), false);
  const r = response(reader.end());
  assert.equal(r.framing, 'close-delimited');
  assert.equal(r.body.toString(), 'raw-bytes');
});

test('close-delimited body (no length, no coding): complete only at end of stream', () => {
  const reader = new ResponseReader();
  assert.equal(
    reader.push(crlf('HTTP/1.1 431 Request Header Fields Too Large\nConnection: close\n\n{"error":')),
    false,
  );
  assert.equal(reader.push(Buffer.from('"too large"}')), false, 'not done before the connection ends');
  const r = response(reader.end());
  assert.equal(r.status, 431);
  assert.equal(r.framing, 'close-delimited');
  assert.equal(r.keepAlive, false);
  assert.equal(r.body.toString(), '{"error":"too large"}');
  assert.equal(response(readEveryWay(crlf('HTTP/1.0 200 OK\n\nhello'))).body.toString(), 'hello');
});

test('1xx interim responses before the final one are kept apart and never taken as the answer', () => {
  const bytes = crlf(
    'HTTP/1.1 100 Continue\n\nHTTP/1.1 103 Early Hints\nLink: </a>; rel=preload\n\n' +
      'HTTP/1.1 403 Forbidden\nContent-Length: 21\n\n{"error":"Forbidden"}',
  );
  const r = response(readEveryWay(bytes));
  assert.equal(r.status, 403);
  assert.deepEqual(
    r.interim.map((i) => i.status),
    [100, 103],
  );
  assert.deepEqual(r.interim[1]!.rawHeaders, [['Link', '</a>; rel=preload']]);
  assert.equal(r.body.toString(), '{"error":"Forbidden"}');
  const onlyInterim = readResponse(crlf('HTTP/1.1 100 Continue\n\n'));
  assert.equal(onlyInterim.kind, 'truncated', 'a 1xx alone is not an answer');
});

test('HEAD, 204 and 304 have no body whatever their headers say', () => {
  const head = new ResponseReader('HEAD');
  assert.equal(
    head.push(crlf('HTTP/1.1 200 OK\nContent-Length: 120\nContent-Type: application/json\n\n')),
    true,
    'done at the end of the head',
  );
  const h = response(head.end());
  assert.equal(h.framing, 'no-body');
  assert.equal(h.body.length, 0);
  assert.equal(h.headers['content-length'], '120');
  const chunkedHead = response(readResponse(crlf('HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n'), 'HEAD'));
  assert.equal(chunkedHead.framing, 'no-body');
  for (const status of [204, 304]) {
    const reader = new ResponseReader();
    assert.equal(
      reader.push(crlf(`HTTP/1.1 ${status} X\nContent-Length: 10\n\n`)),
      true,
      `${status} done without a body`,
    );
    assert.equal(response(reader.end()).body.length, 0);
  }
});

test('repeated header lines stay separate; obs-fold continuation lines are joined; bare LF is accepted', () => {
  const r = response(
    readEveryWay(
      Buffer.from(
        'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="dynamic"\r\n' +
          'WWW-Authenticate: Basic realm="x"\r\nX-Folded: first\r\n  second\r\nContent-Length: 0\r\n\r\n',
        'latin1',
      ),
    ),
  );
  assert.deepEqual(r.headers['www-authenticate'], ['Bearer realm="dynamic"', 'Basic realm="x"']);
  assert.equal(r.rawHeaders.filter(([n]) => n === 'WWW-Authenticate').length, 2);
  assert.equal(r.headers['x-folded'], 'first second');
  const lf = response(readResponse(Buffer.from('HTTP/1.1 200 OK\nContent-Length: 2\n\nok')));
  assert.equal(lf.body.toString(), 'ok');
});

test('obs-text in a field value survives as Latin-1 octets', () => {
  const r = response(
    readResponse(
      Buffer.concat([
        crlf('HTTP/1.1 400 Bad Request\nX-Note: caf'),
        Buffer.from([0xe9]),
        crlf('\nContent-Length: 0\n\n'),
      ]),
    ),
  );
  assert.equal(r.headers['x-note'], 'café');
});

test('bytes after the final response are not read', () => {
  const reader = new ResponseReader();
  assert.equal(reader.push(crlf('HTTP/1.1 200 OK\nContent-Length: 2\n\nokGARBAGE NOT HTTP\n\n')), true);
  assert.equal(reader.push(Buffer.from('more garbage')), true);
  assert.equal(response(reader.end()).body.toString(), 'ok');
});

test('an empty stream is no response; a stream cut inside a message is truncated (transport), never an answer', () => {
  assert.deepEqual(readResponse([]), { kind: 'no-response' });
  assert.equal(readResponse(crlf('HTTP/1.1 200 OK\nContent-Le')).kind, 'truncated');
  assert.equal(readResponse(crlf('HTTP/1.1 2')).kind, 'truncated');
  assert.equal(readResponse(crlf('HTTP/1.1 200 OK\nContent-Length: 10\n\nshort')).kind, 'truncated');
  assert.equal(readResponse(crlf('HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n')).kind, 'truncated');
});

test('bytes that are not an HTTP/1.x response are malformed', () => {
  assert.equal(readResponse(Buffer.from('SSH-2.0-OpenSSH_9.6\r\n')).kind, 'malformed');
  assert.equal(readResponse(crlf('HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nzz\nhello\n0\n\n')).kind, 'malformed');
  const cr = readResponse(Buffer.from('HTTP/1.1 200 OK\r\nX-Bad: a\rb\r\nContent-Length: 0\r\n\r\n', 'latin1'));
  assert.equal(cr.kind, 'malformed');
});
