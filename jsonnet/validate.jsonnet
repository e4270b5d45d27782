// Body of the login.after (and recovery.after) web hook, response.parse: true, that calls
// POST /persona/validate.
//
// The login gate decides from the public mirror metadata_public.persona, so the common login
// needs no call to Kratos. metadata_public is null on identities that never had any; the gate
// then reads the admin record itself. ctx.identity never holds metadata_admin: do not read it.
// return_to lets the verification link in a block message bring the user back where they were
// going (only to addresses in RETURN_TO_ALLOWLIST). accept_language, the browser's header as
// Kratos forwards it (an allowlisted request header, a list of values), picks the language of a
// block message. has_verified_email_address says whether the identity has an email address it
// proved it owns (never which): with SMTP_URL, only then is a signed link emailed and does a block
// message say so; a signed link never goes to an address anybody could have typed.
function(ctx)
  local metadataPublic = std.get(ctx.identity, 'metadata_public', null);
  local flow = std.get(ctx, 'flow', {});
  local requestHeaders = std.get(ctx, 'request_headers', null);
  local acceptLanguage = if std.isObject(requestHeaders) then std.get(requestHeaders, 'Accept-Language', null) else null;
  local addresses = std.get(ctx.identity, 'verifiable_addresses', null);
  {
    identity_id: ctx.identity.id,
    identity_created_at: std.get(ctx.identity, 'created_at', null),
    persona: if std.isObject(metadataPublic) then std.get(metadataPublic, 'persona', null) else null,
    return_to: if std.isObject(flow) then std.get(flow, 'return_to', null) else null,
    accept_language: if std.isArray(acceptLanguage) then std.join(', ', std.filter(std.isString, acceptLanguage)) else null,
    has_verified_email_address: std.isArray(addresses) && std.length([a for a in addresses if std.isObject(a) && std.get(a, 'via', null) == 'email' && std.get(a, 'verified', false) == true]) > 0,
  }
