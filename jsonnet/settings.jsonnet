// Body of the settings.after web hooks, response.parse: true, that call POST /persona/settings.
//
// With response.parse Kratos runs the hook before the change is saved: ctx.identity is the
// identity as it will be, ctx.session.identity as it was, so the profile method's changed traits
// are their difference. Only the changed trait paths are sent, never their values. Settings flows
// never say which method is used (Kratos sets no flow.active there), so each method's hook names
// its method in the URL (?method=password). The step-up decision comes from the public mirror
// metadata_public.persona: no call to Kratos. ctx.identity never holds metadata_admin: do not read it.
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

function(ctx)
  local session = std.get(ctx, 'session', null);
  local before = if std.isObject(session) && std.isObject(std.get(session, 'identity', null))
  then std.get(session.identity, 'traits', null)
  else null;
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
    session_cookie: std.isObject(cookies) && std.length(std.filter(sessionCookie, std.objectFields(cookies))) > 0,
    settings_url: if std.isArray(referer) && std.length(referer) > 0 then referer[0] else null,
    return_to: if std.isObject(flow) then std.get(flow, 'return_to', null) else null,
    accept_language: if std.isArray(acceptLanguage) then std.join(', ', std.filter(std.isString, acceptLanguage)) else null,
  }
