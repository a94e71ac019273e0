/**
 * `npm run console`: the admin console on the example app, locally.
 *
 * The example app runs on convex-test in this process (seeded with the
 * demo's production day). This server answers Convex's HTTP function API
 * (`POST /api/query`, `/api/mutation`, `/api/action`, JSON in and out, as
 * `ConvexHttpClient` speaks it) and serves a page that renders
 * `<OpsConsole>` from `convex-opskit/react`, the same code an app imports.
 *
 * Sign-in is a demo switch: the page sends `Authorization: Bearer <userId>`
 * and the server runs the call as that user. It listens on 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { makeFunctionReference } from "convex/server";
import {
  ConvexError,
  convexToJson,
  jsonToConvex,
  type Value,
} from "convex/values";
import { internal } from "../../convex/_generated/api.js";
import { setLogSink } from "../../src/shared/log.js";
import { createExampleApp, root, seedProductionDay } from "./app.js";

/** The demo's users the page can switch between. */
export const DEMO_USERS = [
  { userId: "alice", label: "Alice (admin)" },
  { userId: "sam", label: "Sam (support)" },
  { userId: "bob", label: "Bob (member)" },
] as const;

const KINDS = {
  query: "isQuery",
  mutation: "isMutation",
  action: "isAction",
} as const;
type Kind = keyof typeof KINDS;

async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(root, "example", "console", "page.tsx")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    jsx: "automatic",
    conditions: ["convex-opskit-source"],
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

const html = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>body{margin:0;background:#f7f8fa}</style>
</head>
<body>
<div id="root"></div>
<script type="module" src="/console.js"></script>
</body>
</html>
`;

async function readBody(req: IncomingMessage, max = 1 << 20): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Options of {@link startConsoleServer}. */
export type ConsoleServerOptions = {
  /** 0 picks a free port. Default: `PORT` from the environment, else 4173. */
  port?: number;
  /** Legacy posts for the migration to backfill (default 2000, as in the demo). */
  legacyPosts?: number;
  /** Print structured log lines of the components. Default false. */
  logs?: boolean;
};

/** Starts the example app and the console server; resolves once it listens. */
export async function startConsoleServer(opts: ConsoleServerOptions = {}) {
  setLogSink(opts.logs ? (line) => console.log(line) : () => {});
  const t = createExampleApp();
  await seedProductionDay(t, { legacyPosts: opts.legacyPosts });
  const script = await bundlePage();

  // Only the app's public functions are callable, as on a deployment.
  const modules = new Map<string, Record<string, unknown>>();
  async function publicFunction(fnPath: string, kind: Kind) {
    const m = /^([A-Za-z0-9_]+):([A-Za-z0-9_]+)$/.exec(fnPath);
    if (!m) return null;
    let mod = modules.get(m[1]);
    if (!mod) {
      try {
        mod = (await import(
          pathToFileURL(path.join(root, "convex", `${m[1]}.ts`)).href
        )) as Record<string, unknown>;
      } catch {
        return null;
      }
      modules.set(m[1], mod);
    }
    const fn = mod[m[2]] as Record<string, unknown> | undefined;
    if (!fn || fn.isPublic !== true || fn[KINDS[kind]] !== true) return null;
    return makeFunctionReference<typeof kind>(fnPath);
  }

  // The seal cron of a deployment: new operations join the hash chain.
  const seal = setInterval(() => {
    void t.mutation(internal.auditJobs.seal, {}).catch(() => {});
  }, 2000);

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (
        req.method === "GET" &&
        (url.pathname === "/" || url.pathname === "/index.html")
      ) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(html("convex-opskit console"));
        return;
      }
      if (req.method === "GET" && url.pathname === "/console.js") {
        res.writeHead(200, {
          "content-type": "text/javascript; charset=utf-8",
        });
        res.end(script);
        return;
      }
      if (req.method === "GET" && url.pathname === "/favicon.ico") {
        res.writeHead(204);
        res.end();
        return;
      }
      const api = /^\/api\/(query|mutation|action)$/.exec(url.pathname);
      if (req.method !== "POST" || !api) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found");
        return;
      }
      const kind = api[1] as Kind;
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      let body: { path?: unknown; args?: unknown };
      try {
        body = JSON.parse(await readBody(req)) as typeof body;
      } catch (e) {
        reply(400, { code: "BadJson", message: String((e as Error).message) });
        return;
      }
      const fnPath = typeof body.path === "string" ? body.path : "";
      const ref = await publicFunction(fnPath, kind);
      if (!ref) {
        reply(404, {
          code: "FunctionNotFound",
          message: `Could not find public ${kind} ${JSON.stringify(fnPath.slice(0, 200))}`,
        });
        return;
      }
      const auth = req.headers.authorization ?? "";
      const subject = /^Bearer (\S{1,200})$/.exec(auth)?.[1];
      const caller = subject ? t.withIdentity({ subject }) : t;
      try {
        const rawArgs = Array.isArray(body.args)
          ? body.args[0]
          : (body.args ?? {});
        const args = jsonToConvex(rawArgs as never) as Record<string, Value>;
        const value = await (
          caller[kind] as (r: unknown, a: unknown) => Promise<Value>
        )(ref, args);
        reply(200, {
          status: "success",
          value: convexToJson(value ?? null),
          logLines: [],
        });
      } catch (e) {
        // Convex answers a function that threw with status 560; 200 with
        // status "error" reads the same to ConvexHttpClient and keeps
        // browsers from logging every refusal as a failed resource.
        reply(200, {
          status: "error",
          errorMessage: e instanceof Error ? e.message : String(e),
          ...(e instanceof ConvexError
            ? { errorData: convexToJson(e.data as Value) }
            : {}),
          logLines: [],
        });
      }
    })().catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    });
  });
  const port = opts.port ?? Number(process.env.PORT ?? 4173);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    t,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(seal);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const isMain =
  process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isMain) {
  const logs = process.argv.includes("--logs");
  const started = Date.now();
  const s = await startConsoleServer({ logs });
  console.log(
    `convex-opskit console: ${s.url}  (example app on convex-test, seeded in ${Date.now() - started} ms)`,
  );
  console.log(
    `sign in as: ${DEMO_USERS.map((u) => u.label).join(", ")} — Ctrl+C to stop`,
  );
}
