// Body of the registration.after web hook that calls POST /persona/initiate.
//
// The hook has no response.parse and no can_interrupt, so Kratos runs it after the identity is
// saved and ctx.identity.id is the real id. Only the id and the traits are sent: the traits serve
// PERSONA_PREFILL_FIELDS, and no trait is read directly because identity schemas differ (no email
// on phone-only or username schemas). ctx.identity never holds metadata_admin: do not read it.
function(ctx) {
  identity_id: ctx.identity.id,
  traits: std.get(ctx.identity, 'traits', {}),
}
