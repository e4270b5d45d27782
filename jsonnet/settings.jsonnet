// Body of the settings.after web hooks, response.parse: true, that call POST /persona/settings.
//
// With response.parse Kratos runs the hook before the change is saved: ctx.identity is the
// identity as it will be, ctx.session.identity as it was, so the profile method's changed traits
// are their difference. Kratos has already derived the new recovery and verifiable addresses from
// the traits, so whether one of them changes is sent too. Only the changed trait paths and that
// fact are sent, never values. Settings flows never say which method is used (Kratos sets no
// flow.active there), so each method's hook names its method in the URL (?method=password). The
// step-up decision comes from the public mirror metadata_public.persona: no call to Kratos.
// ctx.identity never holds metadata_admin: do not read it. The session's authenticated_at is sent
// for the service's log; the decision does not rest on it.
//
// A browser's flow carries its Kratos session cookie (request_cookies holds every cookie): the
// verification link can then rely on that session; otherwise (a native app's session token) the
// service signs the link. The Referer is the settings page to come back to. accept_language, the
// browser's header as Kratos forwards it (a list of values), picks the language of a block message.
local sessionCookie(name) = std.startsWith(name, 'ory_kratos_session') || std.startsWith(name, 'ory_session_');

local changedPaths(before, after, path) =
  if std.isObject(before) && std.isObject(after) then
    std.flattenArrays([
      changedPaths(std.get(before, key, null), std.get(after, key, null), path + [key])
      for key in std.set(std.objectFields(before) + std.objectFields(after))
    ])
  else if before == after then []
  else [std.join('.', path)];

// An identity's recovery and verifiable addresses as a set of "kind via value" texts.
local addresses(identity) =
  local listed(kind) =
    local list = if std.isObject(identity) then std.get(identity, kind, []) else [];
    if std.isArray(list) then [
      kind + ' ' + std.toString(std.get(address, 'via', null)) + ' ' + std.toString(std.get(address, 'value', null))
      for address in list
      if std.isObject(address)
    ] else [];
  std.set(listed('recovery_addresses') + listed('verifiable_addresses'));

function(ctx)
  local session = std.get(ctx, 'session', null);
  local sessionIdentity = if std.isObject(session) then std.get(session, 'identity', null) else null;
  local before = if std.isObject(sessionIdentity) then std.get(sessionIdentity, 'traits', null) else null;
  local metadataPublic = std.get(ctx.identity, 'metadata_public', null);
  local flow = std.get(ctx, 'flow', {});
  local cookies = std.get(ctx, 'request_cookies', {});
  local headers = std.get(ctx, 'request_headers', {});
  local referer = if std.isObject(headers) then std.get(headers, 'Referer', []) else [];
  local acceptLanguage = if std.isObject(headers) then std.get(headers, 'Accept-Language', null) else null;
  {
    identity_id: ctx.identity.id,
    persona: if std.isObject(metadataPublic) then std.get(metadataPublic, 'persona', null) else null,
    changed_traits: if std.isObject(session) then changedPaths(before, std.get(ctx.identity, 'traits', null), []) else null,
    changed_addresses: if std.isObject(sessionIdentity) then addresses(sessionIdentity) != addresses(ctx.identity) else null,
    authenticated_at: if std.isObject(session) then std.get(session, 'authenticated_at', null) else null,
    session_cookie: std.isObject(cookies) && std.length(std.filter(sessionCookie, std.objectFields(cookies))) > 0,
    settings_url: if std.isArray(referer) && std.length(referer) > 0 then referer[0] else null,
    return_to: if std.isObject(flow) then std.get(flow, 'return_to', null) else null,
    accept_language: if std.isArray(acceptLanguage) then std.join(', ', std.filter(std.isString, acceptLanguage)) else null,
  }
