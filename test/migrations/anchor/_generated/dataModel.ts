/* eslint-disable */
/** Stand-in for `npx convex codegen` output (see api.ts). */
import type { DataModelFromSchemaDefinition } from "convex/server";
import type schema from "../schema.js";

export type DataModel = DataModelFromSchemaDefinition<typeof schema>;
