/* eslint-disable @typescript-eslint/no-explicit-any -- query chains are forwarded untyped; the public types come from convex/server. */
/**
 * The query side of row rules: what `ctx.db.query(table)` returns for a
 * table with rules. Every document a query yields passes the table's `read`
 * rule first; skipped rows are reported (`hidden`) to the deny hook once the
 * query ends. Refusals (a table without rules) come from {@link RowGuard}.
 */
import { opskitError } from "../../shared/errors.js";
import type { RowGuard } from "./rowRules.js";
import type { AnyDoc, AnyRules } from "./ruleTypes.js";

/** A Convex query whose results pass the table's read rule. */
export class GuardedQuery {
  constructor(
    private readonly guard: RowGuard,
    private readonly table: string,
    private readonly rules: AnyRules,
    private readonly inner: any,
  ) {}

  private wrap(next: unknown) {
    return new GuardedQuery(this.guard, this.table, this.rules, next);
  }
  fullTableScan() {
    return this.wrap(this.inner.fullTableScan());
  }
  withIndex(name: string, range?: unknown) {
    return this.wrap(this.inner.withIndex(name, range));
  }
  withSearchIndex(name: string, filter: unknown) {
    return this.wrap(this.inner.withSearchIndex(name, filter));
  }
  order(order: "asc" | "desc") {
    return this.wrap(this.inner.order(order));
  }
  filter(predicate: unknown) {
    return this.wrap(this.inner.filter(predicate));
  }

  private async reportHidden(hidden: number) {
    await this.guard.reportHidden(this.table, hidden);
  }

  async *[Symbol.asyncIterator]() {
    let hidden = 0;
    try {
      for await (const doc of this.inner as AsyncIterable<AnyDoc>) {
        if (await this.guard.canRead(this.rules, doc)) yield doc;
        else hidden++;
      }
    } finally {
      await this.reportHidden(hidden);
    }
  }

  async take(n: number) {
    if (!Number.isInteger(n) || n < 0)
      throw opskitError(
        "INVALID_ARGUMENT",
        "take(n) needs a non-negative integer",
        { n },
      );
    const out: AnyDoc[] = [];
    if (n === 0) return out;
    for await (const doc of this) {
      out.push(doc);
      if (out.length >= n) break;
    }
    return out;
  }
  async collect() {
    const out: AnyDoc[] = [];
    for await (const doc of this) out.push(doc);
    return out;
  }
  async first() {
    for await (const doc of this) return doc;
    return null;
  }
  /**
   * Like Convex's `unique()`: the one matching document, `null` for none, and
   * an error as soon as a second one turns up. Only rows the caller may read
   * count, and the error is coded (`CONFLICT`: the stored rows contradict the
   * query's expectation of at most one) so clients can tell it apart.
   */
  async unique() {
    let found: AnyDoc | null = null;
    for await (const doc of this) {
      if (found !== null)
        throw opskitError(
          "CONFLICT",
          `unique() query returned more than one result from table "${this.table}": [${found._id}, ${doc._id}, ...]`,
          { table: this.table, ids: [found._id, doc._id] },
        );
      found = doc;
    }
    return found;
  }
  async paginate(opts: unknown) {
    const result = await this.inner.paginate(opts);
    const page: AnyDoc[] = [];
    for (const doc of result.page as AnyDoc[])
      if (await this.guard.canRead(this.rules, doc)) page.push(doc);
    await this.reportHidden(result.page.length - page.length);
    return { ...result, page };
  }
}

/**
 * A query whose coverage check runs when it is used: `query()` is synchronous
 * in Convex, so the denial (which logs asynchronously) is raised by the
 * first chained or terminal call instead.
 */
export class LazyQuery {
  private resolved: Promise<GuardedQuery> | null = null;
  private readonly steps: Array<(q: any) => any> = [];
  constructor(
    private readonly guard: RowGuard,
    private readonly table: string,
    private readonly make: () => unknown,
  ) {}
  private chain(step: (q: any) => any) {
    const next = new LazyQuery(this.guard, this.table, this.make);
    next.steps.push(...this.steps, step);
    return next;
  }
  fullTableScan() {
    return this.chain((q) => q.fullTableScan());
  }
  withIndex(name: string, range?: unknown) {
    return this.chain((q) => q.withIndex(name, range));
  }
  withSearchIndex(name: string, filter: unknown) {
    return this.chain((q) => q.withSearchIndex(name, filter));
  }
  order(order: "asc" | "desc") {
    return this.chain((q) => q.order(order));
  }
  filter(predicate: unknown) {
    return this.chain((q) => q.filter(predicate));
  }
  private build(): Promise<GuardedQuery> {
    this.resolved ??= (async () => {
      const rules = await this.guard.rulesFor(this.table, "read");
      // "unrestricted" was handled in query(); anything else is an object.
      let q = new GuardedQuery(
        this.guard,
        this.table,
        rules as AnyRules,
        this.make(),
      );
      for (const step of this.steps) q = step(q);
      return q;
    })();
    return this.resolved;
  }
  async *[Symbol.asyncIterator]() {
    yield* await this.build();
  }
  async take(n: number) {
    return (await this.build()).take(n);
  }
  async collect() {
    return (await this.build()).collect();
  }
  async first() {
    return (await this.build()).first();
  }
  async unique() {
    return (await this.build()).unique();
  }
  async paginate(opts: unknown) {
    return (await this.build()).paginate(opts);
  }
}
