/** The audit-trail actor of an operator's action (state_transitions, moderation_actions): `operator:<name>`. */
export function actorOf(ctx: { operator: { name: string } }): string {
  return `operator:${ctx.operator.name}`;
}
