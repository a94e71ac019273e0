/**
 * Who is calling: the user id derived from `ctx.auth`, or the service whose
 * key matches. Never from arguments.
 */
import type { Auth } from "convex/server";
import type { ActorKind } from "../../shared/actor.js";
import type { MetaCtx } from "../../shared/ctx.js";
import { opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { functionNameOf } from "../../shared/meta.js";
import {
  constantTimeEqual,
  MAX_USER_ID_LENGTH,
  userIdProblem,
  type Grant,
} from "../shared/policy.js";
import type { Actor } from "./ruleTypes.js";
import type { ServiceConfig } from "./types.js";

/**
 * The default user id: the identity's `tokenIdentifier` (`"<issuer>|<subject>"`),
 * unique across auth providers, so two providers' users with the same
 * `subject` never share grants. Pass it as `getUserId` to say so explicitly.
 */
export const userIdFromTokenIdentifier = async (ctx: {
  auth: Auth;
}): Promise<string | null> =>
  (await ctx.auth.getUserIdentity())?.tokenIdentifier ?? null;

/**
 * The identity's `subject` as user id: convex-opskit 0.1's default. Safe only
 * with a single auth provider (subjects of two providers can collide); pass
 * it as `getUserId` to keep grants made under 0.1 without migrating them.
 */
export const userIdFromSubject = async (ctx: {
  auth: Auth;
}): Promise<string | null> =>
  (await ctx.auth.getUserIdentity())?.subject ?? null;

/** How an app derives the user id from `ctx.auth` (`AuthzConfig.getUserId`). */
export type GetUserId = (ctx: { auth: Auth }) => Promise<string | null>;

/** `ctx.user` for `id` acting as `kind`, with the deprecated `id`/`kind` fields (same values). */
export function actorOf(id: string, kind: ActorKind): Actor {
  return { actorId: id, actorKind: kind, id, kind };
}

/** Throws `INVALID_ARGUMENT` unless `userId` can key grants. */
export function checkUserId(userId: unknown) {
  const problem = userIdProblem(userId);
  if (problem !== null)
    throw opskitError(
      "INVALID_ARGUMENT",
      `userId must be 1 to ${MAX_USER_ID_LENGTH} characters without control characters; it ${problem}`,
      {
        length: typeof userId === "string" ? userId.length : null,
        maxLength: MAX_USER_ID_LENGTH,
      },
    );
}

/** Finds the signed-in user or throws UNAUTHENTICATED (after logging). */
export async function authenticate(
  getUserId: GetUserId,
  ctx: { auth: Auth } & MetaCtx,
  functionName?: string,
): Promise<Actor> {
  const userId = await getUserId(ctx);
  if (userId === null || userId === undefined || userId === "") {
    logEvent("authz.deny", {
      functionName: functionName ?? (await functionNameOf(ctx)),
      actorId: null,
      actorKind: null,
      reason: "unauthenticated",
    });
    throw opskitError("UNAUTHENTICATED", "You must be signed in");
  }
  const problem = userIdProblem(userId);
  if (problem !== null) {
    // Signed in, but the id getUserId derived cannot key grants: say so,
    // rather than claiming nobody is signed in.
    const length = typeof userId === "string" ? userId.length : null;
    logEvent("authz.deny", {
      functionName: functionName ?? (await functionNameOf(ctx)),
      actorId: null,
      actorKind: "user",
      reason: "invalid_user_id",
      length,
      maxLength: MAX_USER_ID_LENGTH,
    });
    throw opskitError(
      "INVALID_ARGUMENT",
      `The signed-in identity's user id (from getUserId) ${problem}; authz needs 1 to ${MAX_USER_ID_LENGTH} characters without control characters`,
      { length, maxLength: MAX_USER_ID_LENGTH },
    );
  }
  return actorOf(userId, "user");
}

/** Finds the service whose key matches, or throws UNAUTHENTICATED. */
export async function authenticateService(
  services: Record<string, ServiceConfig<string>>,
  ctx: MetaCtx,
  serviceKey: unknown,
  functionName?: string,
): Promise<{ actor: Actor; grants: Grant[] }> {
  let match: string | null = null;
  if (typeof serviceKey === "string" && serviceKey.length > 0)
    for (const [name, service] of Object.entries(services)) {
      const expected =
        typeof service.key === "function" ? service.key() : service.key;
      // Every configured key is compared, so timing does not reveal which one matched.
      if (
        typeof expected === "string" &&
        constantTimeEqual(serviceKey, expected)
      )
        match ??= name;
    }
  if (match === null) {
    logEvent("authz.deny", {
      functionName: functionName ?? (await functionNameOf(ctx)),
      actorId: null,
      actorKind: "service",
      reason: "invalid_service_key",
    });
    throw opskitError("UNAUTHENTICATED", "Invalid service key");
  }
  const roles = services[match].roles;
  return {
    actor: actorOf(match, "service"),
    grants: roles.map((role) => ({ role })),
  };
}
