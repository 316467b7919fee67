// graphql-http's own audit of GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/)
// against a Kith that is already running: this script starts nothing.
//
//   KITH_GRAPHQL_URL=http://127.0.0.1:8080/graphql KITH_TOKEN=<jwt> node audit.mjs
//
// Every request carries `Authorization: Bearer $KITH_TOKEN` (an ADMIN token, so that no audit
// is refused for want of a permission). Prints one line per audit (ok, notice, warn or error,
// its id and name, and the reason of any that is not ok) and exits non-zero unless every audit
// is ok: a MAY or SHOULD that fails counts as much as a MUST.
import { auditServer } from 'graphql-http';

const url = process.env.KITH_GRAPHQL_URL;
const token = process.env.KITH_TOKEN;
if (!url || !token) {
  console.error('set KITH_GRAPHQL_URL (the /graphql endpoint) and KITH_TOKEN (an ADMIN token)');
  process.exit(2);
}

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
let passed = 0;
for (const result of results) {
  if (result.status === 'ok') {
    passed += 1;
    console.log(`ok     ${result.id}  ${result.name}`);
  } else {
    console.log(`${result.status.padEnd(6)} ${result.id}  ${result.name}\n         ${result.reason}`);
  }
}
const failed = results.length - passed;
console.log(`audit: ${passed} of ${results.length} ok, ${failed} not ok`);
process.exit(failed === 0 ? 0 : 1);
