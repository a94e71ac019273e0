/* eslint-disable @typescript-eslint/no-explicit-any -- a zod object of any shape. */
/**
 * The argument types of the zod builders (authz's `zAuthz`, auditLog's
 * `zAdminMutation`), declared once.
 */
import type * as zCore from "zod/v4/core";

/** Zod validators by argument name, or one `z.object(...)`. */
export type ZodArgs = Record<string, zCore.$ZodType> | zCore.$ZodObject<any>;

/**
 * The handler's arguments: zod's output (after transforms and defaults).
 * `Otherwise` is what arguments that are neither form give.
 */
export type ZodParsedArgs<A, Otherwise = never> =
  A extends zCore.$ZodObject<any>
    ? zCore.output<A>
    : A extends Record<string, zCore.$ZodType>
      ? zCore.output<zCore.$ZodObject<A, zCore.$strip>>
      : Otherwise;

/** The arguments as callers send them: zod's input (`Otherwise` as above). */
export type ZodInputArgs<A, Otherwise = never> =
  A extends zCore.$ZodObject<any>
    ? zCore.input<A>
    : A extends Record<string, zCore.$ZodType>
      ? zCore.input<zCore.$ZodObject<A, zCore.$strip>>
      : Otherwise;
