// Body of the login.after web hook (response.parse: true) that calls POST /persona/validate.
//
// The login gate decides from the public mirror metadata_public.persona, so the common login
// needs no call to Kratos. metadata_public is null on identities that never had any; the gate
// then reads the admin record itself. ctx.identity never holds metadata_admin: do not read it.
function(ctx)
  local metadataPublic = std.get(ctx.identity, 'metadata_public', null);
  {
    identity_id: ctx.identity.id,
    identity_created_at: std.get(ctx.identity, 'created_at', null),
    persona: if std.isObject(metadataPublic) then std.get(metadataPublic, 'persona', null) else null,
  }
