/* eslint-disable */
/**
 * Stand-in for what `npx convex codegen` writes for the anchor's example app
 * (get-convex/migrations example/convex), with convex-opskit's component.
 */
import type * as example from "../example.js";
import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import { anyApi, componentsGeneric } from "convex/server";
import type { ComponentApi } from "convex-opskit/migrations/_generated/component.js";

declare const fullApi: ApiFromModules<{ example: typeof example }>;

export const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
> = anyApi as any;

export const components = componentsGeneric() as unknown as {
  migrations: ComponentApi<"migrations">;
};
