/**
 * Who acts, in one shape for every capability: authz's `ctx.user`, auditLog's
 * recorded actor and the `actorId`/`actorKind` fields of every log event.
 */

/** The kinds of actor convex-opskit itself produces; apps may record others. */
export type ActorKind = "user" | "service";

/**
 * Who is acting: a signed-in user (`actorId` = your users table's id) or an
 * API-key service (`actorId` = the service's name). `roles`, where present,
 * are the role names that applied to the call.
 */
export type Actor = {
  actorId: string;
  actorKind: ActorKind | (string & {});
  roles?: string[];
};

/**
 * An actor whose identity and roles were just verified: what authz's
 * `authorize` returns and what auditLog's `AdminAuthorizer` must return.
 */
export type AuthorizedActor = Actor & {
  actorKind: ActorKind;
  roles: string[];
};
