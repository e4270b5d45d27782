#!/usr/bin/env bash
# Runs the Dockerfile's steps without a Docker engine: build, install production dependencies
# only into a fresh directory, start the compiled service as an unprivileged user, probe
# /healthz, and stop it with SIGTERM expecting a clean exit.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

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
as_user=()
if [ "$(id -u)" = 0 ]; then as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups); fi

echo "== start as $( [ ${#as_user[@]} -gt 0 ] && echo 'uid 65534' || echo "$(id -un)" ) on port $port"
node_options=$(sed -n 's/^ENV NODE_OPTIONS="\(.*\)"$/\1/p' Dockerfile)
(cd "$work" && env -i PATH="$PATH" NODE_ENV=production NODE_OPTIONS="$node_options" PORT="$port" HOST=127.0.0.1 LOG_LEVEL=warn \
  ORY_WEBHOOK_SECRET=production-check-secret-0123456789 KRATOS_ADMIN_URL=http://127.0.0.1:9 \
  PERSONA_API_KEY=persona_sandbox_check PERSONA_TEMPLATE_ID=itmpl_check \
  PERSONA_WEBHOOK_SECRET=wbhsec_production_check_0123456789 \
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
