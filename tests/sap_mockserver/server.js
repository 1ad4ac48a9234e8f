// SAP's published OData mock server (@sap-ux/fe-mockserver-core) serving the real
// S/4HANA service definitions, for promoflow's SAP connector tests and benchmark.
//
// Usage: node server.js CONFIG.json   (prints one line {"port": N} once listening)
//
// CONFIG: {"specs": dir of the .edmx files, "data": dir with one folder of mock data
// per service, "services": [names], "user": ..., "password": ..., "maxPageSize": N}
//
// The published mock server does the OData V2 work: $metadata, $filter, $select,
// $orderby, $top/$skip, $expand, __count, deep insert, $batch with changesets, and
// a separate data set per sap-client. What it does not do, and SAP Gateway does,
// this script adds in front of it, following SAP's documented behaviour:
//   - basic authentication (401 with a Basic challenge);
//   - CSRF protection: `X-CSRF-Token: Fetch` on a GET/HEAD issues a token bound to
//     a session cookie; a modifying request without both gets 403, the header
//     `x-csrf-token: Required` and the body "CSRF token validation failed"
//     (the mock server only echoes a fixed token and never checks it);
//   - server-driven paging: a collection read without $top returns at most
//     maxPageSize rows and a `__next` link with $skiptoken;
//   - `datetimeoffset'...'` literals in $filter (OData V2's literal for an
//     Edm.DateTimeOffset property, which SAP Gateway accepts): the mock server's
//     filter parser only knows `datetime'...'`, so they are rewritten to that.
// Tests steer it through /__control (no auth): faults to inject (a status, a slow
// answer, a reshaped body), tokens to expire, and the log of requests received.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const FEMockserver = require('@sap-ux/fe-mockserver-core').default;

const ROOT = '/sap/opu/odata/sap/';
const MODIFYING = new Set(['POST', 'PUT', 'PATCH', 'MERGE', 'DELETE']);

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf-8'));
const sessions = new Map(); // session id -> CSRF token
let faults = [];
let requestLog = [];

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf-8')));
  });
}

async function control(req, res) {
  const body = await readBody(req);
  if (req.url === '/__control/faults' && req.method === 'POST') {
    faults = faults.concat(JSON.parse(body));
  } else if (req.url === '/__control/reset' && req.method === 'POST') {
    faults = [];
    requestLog = [];
  } else if (req.url === '/__control/expire-tokens' && req.method === 'POST') {
    for (const id of sessions.keys()) sessions.set(id, crypto.randomBytes(16).toString('base64'));
  } else if (req.url === '/__control/log' && req.method === 'GET') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(requestLog));
    return;
  } else {
    res.statusCode = 404;
  }
  res.end();
}

function authorized(req) {
  const header = req.headers.authorization || '';
  if (!header.startsWith('Basic ')) return false;
  const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf-8').split(':');
  return user === config.user && rest.join(':') === config.password;
}

function sessionOf(req) {
  const cookies = (req.headers.cookie || '').split(';').map((c) => c.trim().split('='));
  const found = cookies.find(([name]) => name === 'SAP_SESSIONID_MOCK');
  return found ? found[1] : undefined;
}

// Returns true when the request was answered here (token fetch is passed on).
function csrf(req, res) {
  const sent = req.headers['x-csrf-token'];
  if (sent && sent.toLowerCase() === 'fetch' && (req.method === 'GET' || req.method === 'HEAD')) {
    let id = sessionOf(req);
    if (!id || !sessions.has(id)) {
      id = crypto.randomBytes(12).toString('hex');
      res.setHeader('set-cookie', `SAP_SESSIONID_MOCK=${id}; path=/; HttpOnly`);
    }
    const token = crypto.randomBytes(16).toString('base64');
    sessions.set(id, token);
    res.setHeader('x-csrf-token', token);
    delete req.headers['x-csrf-token']; // the mock server would overwrite it with a fixed one
    return false;
  }
  if (!MODIFYING.has(req.method)) return false;
  const id = sessionOf(req);
  if (id && sent && sessions.get(id) === sent) return false;
  res.statusCode = 403;
  res.setHeader('x-csrf-token', 'Required');
  res.setHeader('content-type', 'text/plain');
  res.end('CSRF token validation failed');
  return true;
}

function takeFault(req) {
  const index = faults.findIndex(
    (f) => req.url.includes(f.match) && (!f.method || f.method === req.method)
  );
  if (index < 0) return undefined;
  const fault = faults[index];
  fault.times = (fault.times || 1) - 1;
  if (fault.times <= 0) faults.splice(index, 1);
  return fault;
}

function isCollectionRead(req, url) {
  const last = url.pathname.split('/').pop();
  return req.method === 'GET' && url.pathname.startsWith(ROOT) && last && !last.startsWith('$')
    && !last.includes('(') && url.pathname.split('/').length > 6;
}

// Server-driven paging: no $top -> cap the page and link the next one with $skiptoken.
function serverPaging(req, url) {
  if (!config.maxPageSize || !isCollectionRead(req, url) || url.searchParams.has('$top')) {
    return undefined;
  }
  const skip = Number(url.searchParams.get('$skiptoken') || url.searchParams.get('$skip') || 0);
  const original = new URL(url);
  url.searchParams.delete('$skiptoken');
  url.searchParams.set('$skip', String(skip));
  url.searchParams.set('$top', String(config.maxPageSize));
  req.url = url.pathname + url.search;
  return (body) => {
    const total = body.d.__count;
    if (body.d.results.length === config.maxPageSize && skip + config.maxPageSize < total) {
      original.searchParams.set('$skiptoken', String(skip + config.maxPageSize));
      body.d.__next = `http://${req.headers.host}${original.pathname}${original.search}`;
    }
    if (!original.searchParams.has('$inlinecount')) delete body.d.__count;
    return body;
  };
}

// Buffer the mock server's JSON answer so it can be reshaped (paging link, faults).
function reshape(res, edit) {
  const chunks = [];
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  res.write = (chunk) => {
    if (chunk) chunks.push(Buffer.from(chunk));
    return true;
  };
  res.end = (chunk) => {
    if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk));
    let text = Buffer.concat(chunks).toString('utf-8');
    if (res.statusCode === 200 && text.startsWith('{')) {
      text = JSON.stringify(edit(JSON.parse(text)));
    }
    res.removeHeader('content-length');
    write(text);
    return end();
  };
}

function applyFault(fault, res) {
  if (fault.status) {
    res.statusCode = fault.status;
    for (const [name, value] of Object.entries(fault.headers || {})) res.setHeader(name, value);
    res.end(fault.body || '');
    return true;
  }
  return false;
}

function faultEdit(fault) {
  return (body) => {
    const rows = body.d && body.d.results;
    if (fault.truncate && rows) rows.splice(rows.length - fault.truncate, fault.truncate);
    if (fault.patchFirstRow && rows && rows.length) Object.assign(rows[0], fault.patchFirstRow);
    if (fault.count !== undefined && body.d) body.d.__count = fault.count;
    if (fault.replaceBody !== undefined) return fault.replaceBody;
    return body;
  };
}

async function main() {
  const services = config.services.map((name) => ({
    urlPath: ROOT + name,
    metadataPath: path.join(config.specs, `${name}.edmx`),
    mockdataPath: path.join(config.data, name),
    generateMockData: false,
  }));
  const mockserver = new FEMockserver({ services });
  await mockserver.isReady;
  const router = mockserver.getRouter();

  const server = http.createServer(async (req, res) => {
    if (req.url.startsWith('/__control/')) return control(req, res);
    requestLog.push({
      method: req.method,
      url: req.url,
      csrf: req.headers['x-csrf-token'] || null,
      cookie: sessionOf(req) || null,
      contentType: req.headers['content-type'] || null,
    });
    if (!authorized(req)) {
      res.statusCode = 401;
      res.setHeader('www-authenticate', 'Basic realm="SAP NetWeaver Application Server"');
      return res.end('Logon failed');
    }
    if (csrf(req, res)) return undefined;
    const fault = takeFault(req);
    // delayMs: a slow answer (network or a busy gateway), so tests can line up two callers.
    if (fault && fault.delayMs) await new Promise((done) => setTimeout(done, fault.delayMs));
    if (fault && applyFault(fault, res)) return undefined;
    const url = new URL(req.url, 'http://mock');
    const filter = url.searchParams.get('$filter');
    if (filter && filter.includes("datetimeoffset'")) {
      url.searchParams.set('$filter', filter.replace(/datetimeoffset'([^'Z]*)Z?'/g, "datetime'$1'"));
      req.url = url.pathname + url.search;
    }
    const page = serverPaging(req, url);
    if (page || fault) {
      const edit = fault ? faultEdit(fault) : (b) => b;
      reshape(res, page ? (b) => edit(page(b)) : edit);
    }
    return router(req, res, () => {
      res.statusCode = 404;
      res.end(`no route for ${req.method} ${req.url}`);
    });
  });
  server.keepAliveTimeout = 30000;
  server.listen(config.port || 0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
