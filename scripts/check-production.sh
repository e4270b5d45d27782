#!/usr/bin/env bash
# Runs the Dockerfile's steps without a Docker engine: build, install production dependencies
# only into a fresh directory, start the compiled service as an unprivileged user, probe
# /healthz, and stop it with SIGTERM expecting a clean exit. Then the same build against a
# throwaway Postgres (from the dev dependencies): the migrate command and the Postgres mode.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
postgres=
trap '[ -n "$postgres" ] && kill "$postgres" 2>/dev/null; rm -rf "$work"' EXIT

echo "== build"
npm run build --silent
cp package.json package-lock.json "$work/"
cp -r dist "$work/dist"

echo "== production install"
(cd "$work" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
for dev in typescript vitest tsx supertest; do
  if [ -e "$work/node_modules/$dev" ]; then echo "dev dependency $dev is in the production install" >&2; exit 1; fi
done
chmod -R a+rX "$work"

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
# Fresh secrets each run: the service refuses values published in this repository.
random_hex() { node -e "console.log(require('crypto').randomBytes(32).toString('hex'))"; }
ory_webhook_secret=$(random_hex)
persona_webhook_secret="wbhsec_$(random_hex)"
as_user=()
if [ "$(id -u)" = 0 ]; then as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups); fi

echo "== start as $( [ ${#as_user[@]} -gt 0 ] && echo 'uid 65534' || echo "$(id -un)" ) on port $port"
node_options=$(sed -n 's/^ENV NODE_OPTIONS="\(.*\)"$/\1/p' Dockerfile)
(cd "$work" && env -i PATH="$PATH" NODE_ENV=production NODE_OPTIONS="$node_options" PORT="$port" HOST=127.0.0.1 LOG_LEVEL=warn \
  ORY_WEBHOOK_SECRET="$ory_webhook_secret" KRATOS_ADMIN_URL=http://127.0.0.1:9 \
  PERSONA_API_KEY=persona_sandbox_check PERSONA_TEMPLATE_ID=itmpl_check \
  PERSONA_WEBHOOK_SECRET="$persona_webhook_secret" \
  "${as_user[@]}" node dist/server.js) &
server=$!

for _ in $(seq 1 50); do
  if node -e "fetch('http://127.0.0.1:$port/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then break; fi
  sleep 0.1
done
node -e "fetch('http://127.0.0.1:$port/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" || { echo "no healthy answer" >&2; kill "$server"; exit 1; }
echo "== healthy"
page="fetch('http://127.0.0.1:$port/persona/start',{headers:{accept:'text/html','accept-language':'de'}})"
node -e "$page.then(async (r) => process.exit(r.status === 401 && (await r.text()).includes('<html lang=\"de\">') ? 0 : 1), () => process.exit(1))" \
  || { echo "the build answers no German page: dist/messages/ is incomplete" >&2; kill "$server"; exit 1; }
echo "== the message catalogue is in the build: a German browser gets a German page"
echo "== stopping with SIGTERM"

kill -TERM "$server"
wait "$server"
echo "== exited cleanly"

echo "== the reconcile command is in the build"
set +e
(cd "$work" && "${as_user[@]}" node dist/reconcile.js --since nonsense 2>/dev/null)
status=$?
set -e
[ "$status" = 2 ] || { echo "dist/reconcile.js answered $status to a bad --since, not 2" >&2; exit 1; }
(cd "$work" && "${as_user[@]}" node dist/reconcile.js --help >/dev/null) || { echo "dist/reconcile.js --help did not exit 0" >&2; exit 1; }
echo "== reconcile answers --help and a wrong argument as documented"

echo "== the migrate command and the Postgres mode, from dist/"
node --import tsx sandbox/postgres.ts >"$work/postgres.out" 2>&1 &
postgres=$!
for _ in $(seq 1 200); do grep -q '^DATABASE_URL=' "$work/postgres.out" && break; sleep 0.1; done
database_url=$(sed -n 's/^DATABASE_URL=//p' "$work/postgres.out")
[ -n "$database_url" ] || { echo "the throwaway Postgres did not start:" >&2; cat "$work/postgres.out" >&2; exit 1; }
migrate() { (cd "$work" && env -i PATH="$PATH" DATABASE_URL="$database_url" "${as_user[@]}" node dist/migrate.js); }
first=$(migrate)
echo "$first" | grep -Eq '^schema persona_idv: applied 0001_inbox(, [0-9]{4}_[a-z0-9_]+)*; now at version [0-9]+$' ||
  { echo "dist/migrate.js did not migrate: $first" >&2; exit 1; }
again=$(migrate)
echo "$again" | grep -Eq '^schema persona_idv is up to date \(version [0-9]+\)$' ||
  { echo "dist/migrate.js was not idempotent: $again" >&2; exit 1; }
echo "   $first; then: $again"

# Kratos is unreachable here, so /readyz answers 503 (logged as an error): what counts is the database.
(cd "$work" && env -i PATH="$PATH" NODE_ENV=production NODE_OPTIONS="$node_options" PORT="$port" HOST=127.0.0.1 LOG_LEVEL=fatal \
  ORY_WEBHOOK_SECRET="$ory_webhook_secret" KRATOS_ADMIN_URL=http://127.0.0.1:9 \
  PERSONA_API_KEY=persona_sandbox_check PERSONA_TEMPLATE_ID=itmpl_check \
  PERSONA_WEBHOOK_SECRET="$persona_webhook_secret" DATABASE_URL="$database_url" \
  "${as_user[@]}" node dist/server.js) &
server=$!
readiness=
for _ in $(seq 1 50); do
  readiness=$(node -e "fetch('http://127.0.0.1:$port/readyz').then(r=>r.text()).then(t=>console.log(t),()=>console.log(''))")
  case "$readiness" in *'"coordination":"postgres"'*'"database":"up"'*) break ;; esac
  sleep 0.2
done
case "$readiness" in
  *'"coordination":"postgres"'*'"database":"up"'*) echo "== /readyz: $readiness" ;;
  *) echo "the service in Postgres mode did not report the database up: $readiness" >&2; kill "$server"; exit 1 ;;
esac
kill -TERM "$server"
wait "$server"
echo "== exited cleanly in Postgres mode"

echo "== the admin command is in the build"
set +e
(cd "$work" && "${as_user[@]}" node dist/admin.js verification --nonsense 2>/dev/null)
status=$?
set -e
[ "$status" = 2 ] || { echo "dist/admin.js answered $status to a wrong argument, not 2" >&2; exit 1; }
(cd "$work" && "${as_user[@]}" node dist/admin.js openapi | node -e "let t='';process.stdin.on('data',(c)=>t+=c).on('end',()=>process.exit(JSON.parse(t).openapi==='3.1.0'?0:1))") \
  || { echo "dist/admin.js openapi did not print the OpenAPI document" >&2; exit 1; }
echo "== admin answers a wrong argument and prints its OpenAPI document as documented"
