/* eslint-disable */
/**
 * Stand-in for what `npx convex codegen` writes into a user's convex/ folder,
 * so the files next to it read exactly like the README's examples.
 */
import type * as admin from "../admin.js";
import type * as migrations from "../migrations.js";
import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import { anyApi, componentsGeneric } from "convex/server";
import type { ComponentApi } from "convex-opskit/migrations/_generated/component.js";

declare const fullApi: ApiFromModules<{
  admin: typeof admin;
  migrations: typeof migrations;
}>;

export const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
> = anyApi as any;

export const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
> = anyApi as any;

export const components = componentsGeneric() as unknown as {
  migrations: ComponentApi<"migrations">;
};
