/**
 * A ConvexReactClient-compatible client over Convex's HTTP function API, for
 * the local console: `useQuery`, `useQueries`, `usePaginatedQuery`,
 * `useMutation` and `useAction` work unchanged on it. Subscribed queries are
 * re-run after every mutation and action, and polled (the server's
 * scheduled work changes data too); listeners hear only real changes.
 */
import type { ConvexReactClient } from "convex/react";
import { getFunctionName, type FunctionReference } from "convex/server";
import {
  ConvexError,
  convexToJson,
  jsonToConvex,
  type Value,
} from "convex/values";

type Entry = {
  name: string;
  args: Record<string, Value>;
  listeners: Set<() => void>;
  result?: { value: Value } | { error: Error };
  json?: string;
};

type Kind = "query" | "mutation" | "action";

/** The local console's client; pass it to `<ConvexProvider client={...}>`. */
export class HttpReactClient {
  private readonly entries = new Map<string, Entry>();
  private userId: string | null = null;
  private refreshing: Promise<void> | null = null;
  private readonly timer: ReturnType<typeof setInterval>;
  /** What `usePaginatedQuery` logs through (unused here). */
  readonly logger = console;

  constructor(
    private readonly address: string,
    pollMs = 1000,
  ) {
    this.timer = setInterval(() => void this.refreshAll(), pollMs);
  }

  /** This object typed as the client `ConvexProvider` expects. */
  asReactClient(): ConvexReactClient {
    return this as unknown as ConvexReactClient;
  }

  /** Signs in as `userId` (the demo switch); every query runs again as them. */
  setUser(userId: string | null) {
    this.userId = userId;
    for (const e of this.entries.values()) {
      delete e.result;
      delete e.json;
    }
    void this.refreshAll(true);
  }

  private async call(kind: Kind, name: string, args: Record<string, Value>) {
    const res = await fetch(`${this.address}api/${kind}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(this.userId ? { authorization: `Bearer ${this.userId}` } : {}),
      },
      body: JSON.stringify({
        path: name,
        args: convexToJson(args),
        format: "json",
      }),
    });
    if (!res.ok && res.status !== 560) throw new Error(await res.text());
    const body = (await res.json()) as {
      status: string;
      value?: unknown;
      errorMessage?: string;
      errorData?: unknown;
    };
    if (body.status === "success") return jsonToConvex(body.value as never);
    if (body.errorData !== undefined) {
      const err = new ConvexError(
        jsonToConvex(body.errorData as never) as never,
      );
      err.message = body.errorMessage ?? err.message;
      throw err;
    }
    throw new Error(body.errorMessage ?? "Server error");
  }

  private async fetchEntry(e: Entry) {
    let result: Entry["result"];
    try {
      result = { value: await this.call("query", e.name, e.args) };
    } catch (error) {
      result = { error: error as Error };
    }
    const json =
      "value" in result
        ? `v${JSON.stringify(convexToJson(result.value))}`
        : `e${result.error.message}${JSON.stringify((result.error as { data?: unknown }).data ?? null)}`;
    if (json === e.json) return;
    e.result = result;
    e.json = json;
    for (const l of [...e.listeners]) l();
  }

  private async refreshAll(force = false): Promise<void> {
    if (this.refreshing && !force) return this.refreshing;
    const run = Promise.all(
      [...this.entries.values()]
        .filter((e) => e.listeners.size > 0)
        .map((e) => this.fetchEntry(e)),
    ).then(() => undefined);
    this.refreshing = run;
    try {
      await run;
    } finally {
      if (this.refreshing === run) this.refreshing = null;
    }
  }

  /** As `ConvexReactClient.watchQuery`. */
  watchQuery(query: FunctionReference<"query">, args?: Record<string, Value>) {
    const name = getFunctionName(query);
    const a = args ?? {};
    const key = `${name}:${JSON.stringify(convexToJson(a))}`;
    const entry = () => {
      let e = this.entries.get(key);
      if (!e) {
        e = { name, args: a, listeners: new Set() };
        this.entries.set(key, e);
      }
      return e;
    };
    return {
      onUpdate: (callback: () => void) => {
        const e = entry();
        e.listeners.add(callback);
        if (!e.result) void this.fetchEntry(e);
        return () => {
          e.listeners.delete(callback);
          if (e.listeners.size === 0)
            setTimeout(() => {
              if (e.listeners.size === 0) this.entries.delete(key);
            }, 5000);
        };
      },
      localQueryResult: () => {
        const r = this.entries.get(key)?.result;
        if (!r) return undefined;
        if ("error" in r) throw r.error;
        return r.value;
      },
      localQueryLogs: () => undefined,
      journal: () => undefined,
    };
  }

  /** As `ConvexReactClient.query`: one fetch, no subscription. */
  async query(query: FunctionReference<"query">, args?: Record<string, Value>) {
    return await this.call("query", getFunctionName(query), args ?? {});
  }

  /** As `ConvexReactClient.mutation`: resolves once subscribed queries show its effect. */
  async mutation(
    mutation: FunctionReference<"mutation">,
    args?: Record<string, Value>,
  ) {
    try {
      return await this.call("mutation", getFunctionName(mutation), args ?? {});
    } finally {
      await this.refreshAll(true);
    }
  }

  /** As `ConvexReactClient.action`. */
  async action(
    action: FunctionReference<"action">,
    args?: Record<string, Value>,
  ) {
    try {
      return await this.call("action", getFunctionName(action), args ?? {});
    } finally {
      await this.refreshAll(true);
    }
  }

  /** Always connected: every call is its own HTTP request. */
  connectionState() {
    return {
      hasInflightRequests: false,
      isWebSocketConnected: true,
      timeOfOldestInflightRequest: null,
      hasEverConnected: true,
      connectionCount: 1,
      connectionRetries: 0,
      inflightMutations: 0,
      inflightActions: 0,
    };
  }

  /** No connection changes to report. */
  subscribeToConnectionState() {
    return () => {};
  }

  /** Stops polling. */
  close() {
    clearInterval(this.timer);
  }
}
