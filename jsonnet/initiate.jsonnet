// Body of the registration.after web hook that calls POST /persona/initiate.
//
// The hook has no response.parse and no can_interrupt, so Kratos runs it after the identity is
// saved and ctx.identity.id is the real id. Only the id and the traits are sent: the traits serve
// PERSONA_PREFILL_FIELDS, and no trait is read directly because identity schemas differ (no email
// on phone-only or username schemas). ctx.identity never holds metadata_admin: do not read it.
// accept_language, the browser's header as Kratos forwards it, picks the language of the email
// with the verification link (SMTP_URL).
function(ctx)
  local requestHeaders = std.get(ctx, 'request_headers', null);
  local acceptLanguage = if std.isObject(requestHeaders) then std.get(requestHeaders, 'Accept-Language', null) else null;
  {
    identity_id: ctx.identity.id,
    traits: std.get(ctx.identity, 'traits', {}),
    accept_language: if std.isArray(acceptLanguage) then std.join(', ', std.filter(std.isString, acceptLanguage)) else null,
  }
