// PostGraphile 5 for bench/compare: the Amber preset over one pg pool, served by grafserv's
// plain Node adaptor (what the `postgraphile` CLI runs), with production settings: no
// GraphiQL, no watch mode, no EXPLAIN, no pub/sub. compare.py copies this file next to the
// scratch install (.work/pg5) so that `postgraphile` resolves, and runs it with node 22.
//
//   DATABASE_URL=postgres://... PORT=5678 node server.mjs
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: [process.env.PG_SCHEMA ?? "public"],
      // Kith's pool holds 16 connections; give PostGraphile as many.
      poolConfig: { max: Number(process.env.POOL_SIZE ?? 16) },
      pubsub: false,
    }),
  ],
  grafserv: { graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
serv.addTo(server).catch((e) => {
  console.error("Initializing server failed", e);
  process.exit(1);
});
server.on("error", (e) => {
  console.error("Server error", e);
  process.exit(2);
});
const host = process.env.HOST ?? "127.0.0.1";
server.listen({ host, port: Number(process.env.PORT ?? 5678) }, () => {
  const { port } = server.address();
  console.log(`PostGraphile 5 listening on http://${host}:${port}/graphql`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    Promise.resolve(pgl.release()).finally(() => process.exit(0));
  });
}
